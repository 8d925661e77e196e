"""CSV exports of read data (a search's results, the hit list), only for an active case.

The page asks for the investigation and the purpose; the post holds the reads for that case,
audits the export and answers with the file, all or nothing (app.alpr.exports).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flask import abort, render_template, request, url_for
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from app.alpr.exports import export_investigations, export_reads
from app.alpr.forms.exports import ReadExportForm
from app.alpr.hits import PAGE_SIZES, live_hits
from app.alpr.permissions import ALPR_PERMISSIONS, AlprAction
from app.alpr.search import COUNT_CAP, SearchCriteria, record_shown_reads, results_query
from app.alpr.views import bp
from app.auth.access import require
from app.core.csv_export import csv_response
from app.core.pages import acting_user, load_or_404, requested_page
from app.core.refusal import Refusal, show_refusal
from app.core.timeutil import format_local
from app.db import db_session
from app.reads.models import Hit, Read, Search

READ_HEADER = (
    "read_id",
    "captured_at_utc",
    "captured_local",
    "plate",
    "plate_status",
    "device",
    "latitude",
    "longitude",
)


def _read_cells(read: Read) -> list[object]:
    return [
        read.id,
        read.captured_at,
        format_local(read.captured_at, "%Y-%m-%d %H:%M:%S %Z"),
        read.plate,
        read.plate_status,
        read.device.serial if read.device else "other agency",
        read.latitude,
        read.longitude,
    ]


def _export(
    what: str,
    reads: Sequence[Read],
    source: dict[str, object],
    back: str,
    write: Callable[[list[Read]], object],
):
    """The export page (GET), or the held and audited CSV (POST); refused without a case."""
    session = db_session()
    actor = acting_user()
    form = ReadExportForm()
    cases = export_investigations(session, actor)
    form.investigation_id.choices = [SelectChoice(0, "— choose the investigation —")] + [
        SelectChoice(case.id, f"{case.case_number} · {case.title}") for case in cases
    ]
    # the page explains a refusal; the export itself (the post) is refused without a case
    status = 403 if request.method == "POST" and not cases else 200
    if request.method == "POST" and cases:
        if form.validate_on_submit():
            try:
                exported = export_reads(
                    session,
                    actor,
                    reads,
                    investigation_id=form.investigation_id.data,
                    purpose=form.purpose.data,
                    source=source,
                )
            except Refusal as exc:
                session.rollback()
                show_refusal(form, exc, "investigation_id")
                status = 422
            else:
                response = write(exported.reads)
                session.commit()
                return response
        else:
            status = 422
    return render_template(
        "alpr/export.html", form=form, what=what, count=len(reads), cases=cases, back=back
    ), status


@bp.route("/searches/<int:search_id>/export", methods=["GET", "POST"])
@require(ALPR_PERMISSIONS.roles(AlprAction.USE_DATA), training=True)
def search_export(search_id: int):
    """Every result of the member's own search, as CSV, held for the case it is exported for."""
    stored = load_or_404(Search, search_id)
    if stored.user_id != acting_user().id:
        abort(403, description="Only the member who ran a search may export its results.")
    session = db_session()
    criteria = SearchCriteria.from_json(stored.criteria_json)
    reads = list(
        session.scalars(
            results_query(session, criteria).options(selectinload(Read.device)).limit(COUNT_CAP)
        )
    )

    def write(exported: list[Read]):
        record_shown_reads(session, stored, [r.id for r in exported])
        return csv_response(
            f"search-{stored.id}-reads.csv", READ_HEADER, (_read_cells(r) for r in exported)
        )

    return _export(
        f"the {len(reads)} reads of search {stored.id} (case {stored.case_number})",
        reads,
        {"kind": "search", "search_id": stored.id},
        url_for("alpr.search_results", search_id=stored.id),
        write,
    )


@bp.route("/hits/export", methods=["GET", "POST"])
@require(ALPR_PERMISSIONS.roles(AlprAction.WORK_HITS), training=True)
def hits_export():
    """The page of the hit list the user sees (open, or all with ``?show=all``) as CSV.

    The page, not the whole list: what the officer looked at and chose to copy, and no more
    reads held than that.
    """
    show = "all" if request.args.get("show") == "all" else "open"
    page = requested_page()
    size = request.args.get("size", PAGE_SIZES[0], type=int)
    listed = live_hits(db_session(), include_closed=show == "all", page=page, size=size)
    hits = listed.rows
    by_read: dict[int, list[Hit]] = {}
    for hit in hits:
        by_read.setdefault(hit.read_id, []).append(hit)

    def write(exported: list[Read]):
        rows = (
            [hit.id, hit.status, hit.category, hit.source.name, *_read_cells(read)]
            for read in exported
            for hit in by_read[read.id]
        )
        return csv_response(
            f"hits-{show}.csv", ("hit_id", "hit_status", "category", "hotlist", *READ_HEADER), rows
        )

    reads = list({hit.read_id: hit.read for hit in hits}.values())
    return _export(
        f"the {'' if show == 'all' else 'open '}hits' {len(reads)} reads",
        reads,
        {"kind": "hits", "show": show, "page": listed.page, "size": listed.size},
        url_for("alpr.hits", **_list_args(show, listed.page, listed.size)),
        write,
    )


def _list_args(show: str, page: int, size: int) -> dict[str, object]:
    """The hit list's query arguments for one page (closed hits only when shown)."""
    return {"page": page, "size": size, **({"show": "all"} if show == "all" else {})}
