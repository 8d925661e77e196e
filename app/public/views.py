"""The public pages (no sign-in) and the records staff's public copy of the audit trail.

`/public/log` (425.5.1), `/public/locations` (fixed ALPR locations) and `/public/audit`
(§ 13.824 subd. 7) show only public data and write nothing: an anonymous page that appended
to the audit trail would let anyone grow it; they read from the read replica when there is one
(:func:`app.db.read_session`). The public copy is a release, so it is audited.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from tempfile import SpooledTemporaryFile

from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    render_template,
    request,
    send_file,
)

from app.audit.checkpoints import document, latest_checkpoint, public_key_hex
from app.auth.access import public, require
from app.core.pages import acting_user
from app.core.timeutil import format_local
from app.db import db_session, read_session, utcnow
from app.public.charts import Series, bar_chart
from app.public.classification import Basis
from app.public.forms import PublicCopyForm
from app.public.locations import DRAWING_HEIGHT, DRAWING_WIDTH, drawing, public_locations
from app.public.log import (
    HIT_COLUMNS,
    LogFilterError,
    LogFilters,
    daily_totals,
    log_devices,
    log_page,
    log_rows,
    parse_filters,
)
from app.public.permissions import PUBLIC_PERMISSIONS, PublicAction
from app.public.trail import (
    KINDS,
    PDF_MAX_ENTRIES,
    actions_by_month,
    count_entries,
    public_copy_csv,
    public_copy_entries,
    published_page,
    record_release,
)

bp = Blueprint("public", __name__)

PAGE_SIZE = 50
#: The legend's short names of the hit categories, in the chart's colours.
CHART_HITS = {
    "stolen": "Stolen",
    "warrant": "Warrant",
    "suspended_revoked": "Suspended/revoked",
    "investigative": "Investigative",
}
#: A public copy's CSV is built in memory up to this size, on disk beyond it.
COPY_IN_MEMORY_BYTES = 8 * 1024 * 1024
PDF_STYLESHEET = Path(__file__).resolve().parents[2] / "static/css/public-copy.css"


def _page_number() -> int:
    """The `page` query argument: a whole number; anything else is no page (404)."""
    raw = request.args.get("page", "1")
    if not raw.isdigit() or len(raw) > 9:
        abort(404)
    return int(raw)


def _filters() -> tuple[LogFilters, dict[str, str]]:
    """The log's filters from the query string, or the errors by field."""
    try:
        return (
            parse_filters(read_session(), request.args.get("month"), request.args.get("device")),
            {},
        )
    except LogFilterError as exc:
        return LogFilters(), {exc.field: str(exc)}


@bp.route("/public/")
@public
def index():
    """What the public may see, in three links."""
    return render_template("public/index.html")


@bp.route("/public/log")
@public
def log():
    """The log of use by period, with filters, pages and the chart (drawn here, as SVG)."""
    session = read_session()
    filters, errors = _filters()
    if errors:
        return render_template(
            "public/log.html", errors=errors, page=None, devices=log_devices(session), charts=()
        ), 422
    try:
        page = log_page(session, filters, _page_number(), PAGE_SIZE)
    except LookupError:
        abort(404)
    totals = daily_totals(session, filters)
    charts = ()
    if totals is not None:
        month = totals.month.strftime("%B %Y")
        plates_title = f"Plates read per day, {month}"
        hits_title = f"Hits per day by category, {month}"
        charts = (
            (
                plates_title,
                bar_chart(
                    plates_title,
                    totals.days,
                    [Series("plates read", "bar-plates", totals.plates)],
                ),
            ),
            (
                hits_title,
                bar_chart(
                    hits_title,
                    totals.days,
                    [Series(CHART_HITS[n], f"bar-{n}", totals.hits[n]) for n, _ in HIT_COLUMNS],
                ),
            ),
        )
    return render_template(
        "public/log.html",
        errors={},
        page=page,
        filters=filters,
        devices=log_devices(session),
        hit_columns=HIT_COLUMNS,
        charts=charts,
        query={
            "month": filters.month.strftime("%Y-%m") if filters.month else "",
            "device": filters.device or "",
        },
    )


def _download_name(filters: LogFilters, ext: str) -> str:
    parts = ["alpr-log-of-use"]
    if filters.month:
        parts.append(filters.month.strftime("%Y-%m"))
    if filters.device:
        parts.append("".join(c if c.isalnum() or c in "-_" else "_" for c in filters.device))
    return "-".join(parts) + f".{ext}"


@bp.route("/public/log.csv")
@public
def log_csv():
    """The filtered log as CSV, every period (no pages)."""
    filters, errors = _filters()
    if errors:
        abort(422, description=next(iter(errors.values())))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "date",
            "collected_from",
            "collected_to",
            "device",
            "device_kind",
            "location",
            "plates_read",
            "databases_compared",
            *(f"hits_{name}" for name, _ in HIT_COLUMNS),
        ]
    )
    for row in log_rows(read_session(), filters):
        writer.writerow(
            [
                row.date,
                row.start,
                row.end,
                row.device,
                row.device_kind,
                row.location or "",
                row.plates_read,
                "; ".join(row.compared),
                *(row.hits[name] for name, _ in HIT_COLUMNS),
            ]
        )
    response = make_response(buffer.getvalue())
    response.mimetype = "text/csv"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{_download_name(filters, "csv")}"'
    )
    return response


@bp.route("/public/log.json")
@public
def log_json():
    """The filtered log as JSON, every period (no pages)."""
    filters, errors = _filters()
    if errors:
        abort(422, description=next(iter(errors.values())))
    body = {
        "generated_at": utcnow().isoformat(),
        "timezone": current_app.config["DISPLAY_TIMEZONE"],
        "month": filters.month.strftime("%Y-%m") if filters.month else None,
        "device": filters.device,
        "periods": [row.as_dict() for row in log_rows(read_session(), filters)],
    }
    response = make_response(json.dumps(body, indent=1))
    response.mimetype = "application/json"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{_download_name(filters, "json")}"'
    )
    return response


@bp.route("/public/locations")
@public
def locations():
    """Current and previous fixed locations, as a list and a map; withheld ones counted."""
    listed = public_locations(read_session())
    return render_template(
        "public/locations.html",
        listed=listed,
        tile_url=current_app.config["MAP_TILE_URL"],
        drawn=drawing(listed.locations),
        drawing_size=(DRAWING_WIDTH, DRAWING_HEIGHT),
    )


@bp.route("/public/audit")
@public
def audit():
    """Actions per month by kind; the redacted trail too where the department publishes it."""
    session = read_session()
    trail = None
    if current_app.config["PUBLISH_AUDIT_TRAIL"]:
        try:
            trail = published_page(session, _page_number(), PAGE_SIZE)
        except LookupError:
            abort(404)
    checkpoint = latest_checkpoint(session)
    return render_template(
        "public/audit.html",
        months=actions_by_month(session),
        kinds=KINDS,
        trail=trail,
        bases=list(Basis),
        checkpoint=document(checkpoint) if checkpoint else None,
        public_key=public_key_hex(session),
    )


@bp.route("/public/audit/checkpoint.json")
@public
def audit_checkpoint():
    """The latest signed checkpoint, as the file anyone saves and later checks the trail against.

    `flask --app wsgi audit verify --checkpoint FILE --public-key KEY` proves the trail still
    extends it: a wiped trail, a cut tail or a recomputed chain all fail.
    """
    checkpoint = latest_checkpoint(read_session())
    if checkpoint is None:
        abort(404)
    body = document(checkpoint)
    name = f"alpr-audit-checkpoint-{body['seq']}.json"
    return current_app.response_class(
        json.dumps(body, indent=2, sort_keys=True),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.route("/records/audit-copy", methods=["GET", "POST"])
@require(PUBLIC_PERMISSIONS.roles(PublicAction.RELEASE_PUBLIC_COPY))
def audit_copy():
    """A public copy of the trail for a period (CSV or PDF): a release, audited."""
    form = PublicCopyForm()
    if not form.validate_on_submit():
        status = 422 if form.errors else 200
        return render_template("public/audit_copy.html", form=form, bases=list(Basis)), status
    session = db_session()
    start, end, fmt = form.start.data, form.end.data, form.format.data
    entries = count_entries(session, start, end)
    if fmt == "pdf" and entries > PDF_MAX_ENTRIES:
        form.format.errors.append(
            f"The period holds {entries} entries; a PDF holds at most {PDF_MAX_ENTRIES}. "
            "Choose a shorter period or the CSV."
        )
        return render_template("public/audit_copy.html", form=form, bases=list(Basis)), 422
    record_release(session, acting_user(), start=start, end=end, fmt=fmt, entries=entries)
    if fmt == "pdf":
        body: bytes | SpooledTemporaryFile = _pdf(session, start, end)
        mimetype = "application/pdf"
    else:
        body = SpooledTemporaryFile(max_size=COPY_IN_MEMORY_BYTES)  # noqa: SIM115 (sent below)
        for line in public_copy_csv(session, start, end):
            body.write(line.encode("utf-8"))
        body.seek(0)
        mimetype = "text/csv"
    # Written before the commit, so the copy is what the release entry counted, and no
    # transaction stays open while a long download goes out.
    session.commit()
    name = f"alpr-audit-trail-public-copy-{start.isoformat()}-{end.isoformat()}.{fmt}"
    if isinstance(body, bytes):
        response = make_response(body)
        response.mimetype = mimetype
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return send_file(body, mimetype=mimetype, as_attachment=True, download_name=name)


def _pdf(session, start, end) -> bytes:
    from weasyprint import CSS, HTML

    html = render_template(
        "public/audit_copy_pdf.html",
        rows=public_copy_entries(session, start, end),
        start=start,
        end=end,
        generated=format_local(utcnow()),
        bases=list(Basis),
    )
    return HTML(string=html).write_pdf(stylesheets=[CSS(filename=str(PDF_STYLESHEET))])
