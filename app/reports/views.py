"""The compliance page and the biennial report (§ 13.824 subd. 6, policy 425.6(c)).

For the Deputy Chief, the designee and the auditor, with current training: the figures lead to
audit entries whose details hold ALPR data.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request, url_for
from markupsafe import Markup, escape

from app.auth.access import require
from app.core.pages import acting_user
from app.core.timeutil import format_local, local_today
from app.db import db_session, utcnow
from app.reports.biennial import biennial_report
from app.reports.forms import BiennialForm
from app.reports.permissions import REPORT_PERMISSIONS, ReportAction
from app.reports.render import SECTIONS, report_json, report_pdf
from app.reports.services import check_compliance, last_report, record_report

bp = Blueprint("reports", __name__, url_prefix="/reports")


def trail_link(table: str, ident: str, label: str) -> Markup:
    """A record behind a figure, linked to its entries in the auditor's trail browser."""
    if table == "audit_entries":
        return Markup('<span class="ref">entry #{}</span>').format(ident) + escape(f" ({label})")
    href = url_for("audit.entries", subject_type=table, subject_id=ident)
    return Markup('<a class="ref" href="{}">{}</a>').format(href, label)


@bp.route("/compliance")
@require(REPORT_PERMISSIONS.roles(ReportAction.VIEW_COMPLIANCE), training=True)
def compliance():
    """The seven counters, live; each above zero lists the records that break it."""
    session = db_session()
    counters = check_compliance(
        session,
        acting_user(),
        utcnow(),
        retention_days=current_app.config["RETENTION_DAYS"],
        today=local_today(),
    )
    report = last_report(session)
    session.commit()
    return render_template(
        "reports/compliance.html", counters=counters, last_report=report, ref=trail_link
    )


@bp.route("/biennial")
@require(REPORT_PERMISSIONS.roles(ReportAction.RUN_BIENNIAL), training=True)
def biennial():
    """Pick a period; the report shows here, or downloads as PDF or JSON. Each one is audited."""
    form = BiennialForm(request.args)
    if not request.args:
        return render_template("reports/biennial.html", form=form, report=None)
    if not form.validate():
        return render_template("reports/biennial.html", form=form, report=None), 422
    session = db_session()
    report = biennial_report(
        session,
        form.start.data,
        form.end.data,
        department=current_app.config["DEPARTMENT_NAME"],
        retention_days=current_app.config["RETENTION_DAYS"],
        now=utcnow(),
    )
    record_report(session, acting_user(), report, form.format.data)
    session.commit()
    name = f"alpr-biennial-{report['period']['start']}-to-{report['period']['end']}"
    if form.format.data == "json":
        return Response(
            report_json(report),
            mimetype="application/json",
            headers={"Content-Disposition": f'attachment; filename="{name}.json"'},
        )
    if form.format.data == "pdf":
        pdf = report_pdf(
            report,
            generated_at=format_local(utcnow()),
            generated_by=acting_user().name,
        )
        return Response(
            pdf,
            mimetype="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
        )
    return render_template(
        "reports/biennial.html", form=form, report=report, sections=SECTIONS, ref=trail_link
    )
