"""Holds: keep the data an active criminal investigation or an exculpatory request relies on.

425.5: data *related to an active criminal investigation* escapes the 60-day rule, and an
exculpatory request keeps data until the criminal matter is resolved. A hold names that data
by a bounded scope (a time window narrowed by plates and/or devices) and is in force only while
its reason is: the investigation active, the exculpatory request received or active (from
the written request until the criminal matter is resolved, or the request is declined).

An investigation hold keeps its data past 60 days a little longer than it is in force: once
the case closes, until the Deputy Chief or designee decide what happens to it, and then under
the records-retention schedule until the end date they chose (:func:`hold_keeping_clause`).
Only a hold in force defers an ACP participant's destruction (425.5(b): an *active* matter).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import Session

from app.audit.actions import AuditAction
from app.audit.services import record
from app.auth.models import User
from app.core.refusal import Refusal
from app.db import utcnow
from app.investigations.models import INVESTIGATION_KEEPING, Investigation, InvestigationStatus
from app.investigations.sections import count_and_newest
from app.investigations.services import case_data_released
from app.reads.models import Device
from app.reads.plates import FieldError, normalise_plate
from app.retention.models import (
    EXCULPATORY_HOLDING,
    ExculpatoryRequest,
    Hold,
    HoldDevice,
    HoldKind,
    HoldPlate,
    HoldStatus,
)
from app.retention.policy import HoldScope
from app.retention.workflow import HoldMachine
from app.workflow.step import take_step

#: A hold keeps data past the statutory 60 days, so its window must be a real, bounded period:
#: anything longer than a year is taken for a typing error rather than a case's needs.
MAX_HOLD_SPAN = timedelta(days=366)


class HoldError(Refusal):
    """A hold (or a request's scope) cannot be placed or released; the message says why.

    `field` names the form field the message belongs next to (plates, window_start,
    window_end, device_ids, reason), or is None for a refusal of the whole step.
    """


@dataclass(frozen=True)
class CleanScope:
    """A validated scope, ready to be stored on a Hold."""

    window_start: datetime
    window_end: datetime
    plates: tuple[str, ...]
    device_ids: tuple[int, ...]


def clean_scope(
    session: Session,
    window_start: datetime | None,
    window_end: datetime | None,
    plates: Iterable[str] = (),
    device_ids: Iterable[int] = (),
    *,
    label: str = "a hold",
) -> CleanScope:
    """Check a scope or raise HoldError: bounded window, and at least one plate or device.

    A scope with neither plates nor devices would keep *everyone's* data in the window, which
    is not "data related to" one matter (425.5), so it is refused as empty. `label` names what
    the scope belongs to ("a hold", "an exculpatory request") so the message fits its form.
    """
    subject = label[0].upper() + label[1:]
    if window_start is None or window_end is None:
        raise HoldError(
            f"{subject} needs a bounded time window: give both its start and its end.",
            field="window_start" if window_start is None else "window_end",
        )
    if window_start.tzinfo is None or window_end.tzinfo is None:
        raise HoldError(
            "The window's start and end need a time zone.",
            field="window_start" if window_start.tzinfo is None else "window_end",
        )
    if window_end <= window_start:
        raise HoldError("The window's end must come after its start.", field="window_end")
    if window_end - window_start > MAX_HOLD_SPAN:
        raise HoldError(
            f"The window spans {(window_end - window_start).days} days; {label} may span at "
            f"most {MAX_HOLD_SPAN.days} days. Narrow it to the period the matter concerns.",
            field="window_end",
        )
    cleaned: set[str] = set()
    for raw in plates:
        if not str(raw).strip():
            continue
        try:
            cleaned.add(normalise_plate(str(raw)))
        except FieldError as exc:
            raise HoldError(f"Plate {str(raw)!r}: {exc.message}", field="plates") from None
    devices = {int(d) for d in device_ids}
    if devices:
        known = set(session.scalars(select(Device.id).where(Device.id.in_(devices))))
        if unknown := devices - known:
            raise HoldError(
                f"Unknown device id(s): {', '.join(map(str, sorted(unknown)))}.",
                field="device_ids",
            )
    if not cleaned and not devices:
        raise HoldError(
            f"{subject}'s scope is empty: list at least one plate or one device, so that it "
            "keeps only the data the matter concerns.",
            field="plates",
        )
    return CleanScope(window_start, window_end, tuple(sorted(cleaned)), tuple(sorted(devices)))


def new_hold(kind: HoldKind, scope: CleanScope, description: str, actor: object) -> Hold:
    """A Hold row for `scope` (not yet added to a session)."""
    return Hold(
        kind=kind.value,
        window_start=scope.window_start,
        window_end=scope.window_end,
        description=description.strip(),
        created_by_id=actor.id if isinstance(actor, User) else None,
        plates=[HoldPlate(plate=p) for p in scope.plates],
        devices=[HoldDevice(device_id=d) for d in scope.device_ids],
    )


def scope_summary(hold: Hold) -> dict[str, object]:
    """What the audit trail records about a hold's scope: its window and counts.

    Plates are not written to the trail (it is public once redacted, § 13.824 subd. 7);
    the hold row itself names them for staff.
    """
    return {
        "window_start": hold.window_start.isoformat(),
        "window_end": hold.window_end.isoformat(),
        "plates": len(hold.plates),
        "devices": sorted(d.device_id for d in hold.devices),
    }


def place_hold(
    session: Session,
    actor: User | str,
    investigation: Investigation,
    window_start: datetime | None,
    window_end: datetime | None,
    plates: Iterable[str] = (),
    device_ids: Iterable[int] = (),
    description: str = "",
) -> Hold:
    """Keep the data in scope for an active investigation (425.5); audited HOLD_PLACED.

    Raises HoldError when the investigation is not active or the scope is empty or unbounded;
    nothing is added to the session then.
    """
    if investigation.status != InvestigationStatus.ACTIVE.value:
        raise HoldError(
            f"Investigation {investigation.case_number} is {investigation.status}: only an "
            "active criminal investigation can hold data.",
            field="investigation_id",
        )
    scope = clean_scope(session, window_start, window_end, plates, device_ids)
    hold = new_hold(HoldKind.INVESTIGATION, scope, description, actor)
    hold.investigation_id = investigation.id
    session.add(hold)
    session.flush()
    record(
        session,
        actor,
        AuditAction.HOLD_PLACED,
        hold,
        {"kind": hold.kind, "investigation_id": investigation.id, **scope_summary(hold)},
    )
    return hold


def release_hold(
    session: Session,
    actor: User | str | None,
    hold: Hold,
    reason: str,
    *,
    case_released: bool = False,
) -> Hold:
    """Stop an investigation hold early (placed → released); audited HOLD_RELEASED.

    The data falls back under the 60-day rule. Raises WorkflowError (nothing changes) when the
    hold is already released, is an exculpatory hold (released through its request's workflow,
    which records the resolution of the criminal matter), the actor may not release holds, or
    no reason is given. `case_released` says the hold's closed investigation has just released
    its data (its disposition, or its schedule's end): the hold ends with it, whoever took
    that step (see :class:`app.retention.workflow.HoldMachine`).
    """
    reason = (reason or "").strip()
    return take_step(
        session,
        actor,
        hold,
        "release",
        audit_action=AuditAction.HOLD_RELEASED,
        changes={"released_at": utcnow()},
        details={"kind": hold.kind, "reason": reason, **scope_summary(hold)},
        reason=reason,
        case_released=case_released,
    )


def hold_steps(actor: object, hold: Hold) -> list[str]:
    """The steps `actor` may take on `hold` now (its page shows exactly these).

    An exculpatory hold takes none of its own: its request's release or decline ends it.
    """
    if hold.kind != HoldKind.INVESTIGATION.value:
        return []
    return HoldMachine.around(hold).next_steps(actor)


@case_data_released.connect
def release_case_holds(
    investigation: Investigation, *, session: Session, actor: User | str | None, reason: str
) -> None:
    """A closed case whose data is released keeps nothing: each placed hold is released, audited.

    Released, not merely dormant, so reopening the case does not bring back data that fell due
    to the purge since; a reopened case places holds anew. The step is the same as a person's
    release, taken with ``case_released=True`` so that whoever released the case's data (the
    Deputy Chief or designee, or the purge when its schedule ended) releases its holds.
    """
    # Locked as they are found: a release committed meanwhile takes its hold out of the list
    # (PostgreSQL re-checks the condition once the lock is granted), so the disposition never
    # trips on a hold someone released while it waited.
    open_holds = (
        select(Hold)
        .where(Hold.investigation_id == investigation.id, Hold.status == HoldStatus.PLACED.value)
        .order_by(Hold.id)
        .with_for_update()
    )
    for hold in session.scalars(open_holds).all():
        release_hold(session, actor, hold, reason, case_released=True)


def hold_in_force_clause() -> ColumnElement[bool]:
    """SQL truth of "this hold is in force": placed (not released) and its reason still holds.

    An investigation hold lasts while the investigation is active. An exculpatory hold lasts
    from the receipt of the written request (received or active) until the criminal matter is
    resolved (released), or until the Deputy Chief or designee declines the request: 425.5(a)
    keeps the data "if a written request is made", so the purge must not destroy it while the
    request waits to be looked at.
    """
    investigation_active = exists().where(
        Investigation.id == Hold.investigation_id,
        Investigation.status == InvestigationStatus.ACTIVE.value,
    )
    request_holding = exists().where(
        ExculpatoryRequest.id == Hold.exculpatory_request_id,
        ExculpatoryRequest.status.in_(EXCULPATORY_HOLDING),
    )
    return and_(
        Hold.status == HoldStatus.PLACED.value,
        or_(
            and_(Hold.kind == HoldKind.INVESTIGATION.value, investigation_active),
            and_(Hold.kind == HoldKind.EXCULPATORY.value, request_holding),
        ),
    )


def hold_keeping_clause() -> ColumnElement[bool]:
    """SQL truth of "this hold keeps its data from the 60-day purge".

    A hold in force does (:func:`hold_in_force_clause`), and so does a placed investigation
    hold of a closed case until its disposition releases the data, or while the data is kept
    under the records-retention schedule (:data:`INVESTIGATION_KEEPING`): nothing a hold
    protects is destroyed before the Deputy Chief or designee decide.
    """
    case_keeping = exists().where(
        Investigation.id == Hold.investigation_id,
        Investigation.status.in_(INVESTIGATION_KEEPING),
    )
    return or_(
        hold_in_force_clause(),
        and_(
            Hold.status == HoldStatus.PLACED.value,
            Hold.kind == HoldKind.INVESTIGATION.value,
            case_keeping,
        ),
    )


def scope_of(hold: Hold) -> HoldScope:
    """The pure rule's view of a stored hold."""
    return HoldScope(
        window_start=hold.window_start,
        window_end=hold.window_end,
        plates=frozenset(p.plate for p in hold.plates),
        device_ids=frozenset(d.device_id for d in hold.devices),
    )


def holds_in_force(session: Session) -> list[Hold]:
    """Every hold in force now, with plates and devices loaded."""
    return list(session.scalars(select(Hold).where(hold_in_force_clause()).order_by(Hold.id)))


def scopes_in_force(session: Session) -> list[HoldScope]:
    """The in-force holds as the pure rule takes them (what defers ACP destruction)."""
    return [scope_of(hold) for hold in holds_in_force(session)]


def holds_keeping(session: Session) -> list[Hold]:
    """Every hold that keeps its data from the 60-day purge now, with plates and devices."""
    return list(session.scalars(select(Hold).where(hold_keeping_clause()).order_by(Hold.id)))


def scopes_keeping(session: Session) -> list[HoldScope]:
    """The holds keeping data from the 60-day purge, as the pure rule takes them."""
    return [scope_of(hold) for hold in holds_keeping(session)]


def holds_of_case(session: Session, investigation: Investigation) -> tuple[int, list[Hold]]:
    """The holds placed for a case (released ones too), newest first: its case page lists them."""
    stmt = select(Hold).where(Hold.investigation_id == investigation.id)
    return count_and_newest(session, stmt, Hold.id.desc())
