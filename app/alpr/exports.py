"""Exports of read data: a copy outside the app only for an active investigation, held with it.

A CSV of reads taken out of the app would escape the 60-day destruction (425.5). So reads are
exported only for an active criminal investigation the exporting member may use (its lead, or
the Deputy Chief or designee, as for opening its held reads), and in the same transaction the
exported reads go under a hold of that investigation: the app then keeps them exactly as long
as the case may keep its copy, and the case's disposition releases both. The export is
recorded as a dissemination (``READS_EXPORTED``) with its count and purpose.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.alpr.permissions import ALPR_PERMISSIONS, AlprAction
from app.audit.actions import AuditAction
from app.audit.services import record
from app.auth.models import User
from app.core.refusal import Refusal
from app.investigations.models import Investigation, InvestigationStatus
from app.reads.models import Read
from app.retention.holds import place_hold

#: A hold's window includes both ends; one second past the newest read keeps it bounded.
WINDOW_PAST_NEWEST = timedelta(seconds=1)

#: What an export states as its purpose: long enough to say why, short enough for the trail.
PURPOSE_MAX = 2000


class ExportRefused(Refusal):
    """An export of reads refused; nothing was exported or held."""


@dataclass(frozen=True)
class Exported:
    """The reads exported (those a hold could keep) and the holds placed for them."""

    reads: list[Read]
    hold_ids: list[int]
    left_out: int


def export_investigations(session: Session, actor: User) -> list[Investigation]:
    """The active investigations `actor` may export reads for: theirs, or any for a supervisor."""
    query = select(Investigation).where(Investigation.status == InvestigationStatus.ACTIVE.value)
    if not ALPR_PERMISSIONS.allows(actor, AlprAction.OPEN_ANY_CASE_READS):
        query = query.where(Investigation.lead_id == actor.id)
    return list(session.scalars(query.order_by(Investigation.case_number)))


def _chosen(session: Session, actor: User, investigation_id: int | None) -> Investigation:
    allowed = {i.id: i for i in export_investigations(session, actor)}
    if not allowed:
        raise ExportRefused(
            "Read data is exported only for an active criminal investigation you lead (policy "
            "425.5: a copy would otherwise outlive the 60-day destruction). You have none.",
        )
    if investigation_id not in allowed:
        raise ExportRefused(
            "Choose an active investigation you may export for.", field="investigation_id"
        )
    # locked and read again, so that the case cannot close between the check and the hold
    session.get(Investigation, investigation_id, with_for_update=True, populate_existing=True)
    return allowed[investigation_id]


def export_reads(
    session: Session,
    actor: User,
    reads: Sequence[Read],
    *,
    investigation_id: int | None,
    purpose: str,
    source: dict[str, object],
) -> Exported:
    """Hold `reads` for the investigation and audit their export; raises ExportRefused.

    The plated reads go under one hold listing their plates, the others under one listing
    their devices, each over the exported reads' time span (a hold keeps nothing outside its
    plates or devices). A read with neither plate nor device cannot be held, so it is left
    out of the file. `source` says where the reads came from (the search or the hit list).
    """
    investigation = _chosen(session, actor, investigation_id)
    if investigation.status != InvestigationStatus.ACTIVE.value:
        raise ExportRefused(
            f"Investigation {investigation.case_number} is no longer active.",
            field="investigation_id",
        )
    purpose = (purpose or "").strip()
    if not purpose:
        raise ExportRefused("State the purpose of the export.", field="purpose")
    plated = [r for r in reads if r.plate]
    by_device = [r for r in reads if not r.plate and r.device_id is not None]
    if not plated and not by_device:
        raise ExportRefused("There are no reads to export.")
    description = f"Exported as CSV ({source.get('kind', 'reads')}): {purpose}"[:2000]
    hold_ids = []
    for group, plates, devices in (
        (plated, {r.plate for r in plated if r.plate}, ()),
        (by_device, (), {r.device_id for r in by_device if r.device_id is not None}),
    ):
        if not group:
            continue
        hold = place_hold(
            session,
            actor,
            investigation,
            min(r.captured_at for r in group),
            max(r.captured_at for r in group) + WINDOW_PAST_NEWEST,
            plates=plates,
            device_ids=devices,
            description=description,
        )
        hold_ids.append(hold.id)
    exported = plated + by_device
    exported.sort(key=lambda r: (r.captured_at, r.id), reverse=True)
    left_out = len(reads) - len(exported)
    record(
        session,
        actor,
        AuditAction.READS_EXPORTED,
        investigation,
        {
            "count": len(exported),
            "purpose": purpose,
            "format": "csv",
            "left_out": left_out,
            "hold_ids": hold_ids,
            **source,
        },
    )
    return Exported(exported, hold_ids, left_out)
