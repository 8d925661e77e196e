"""Every event of every declared machine, from every state, goes through the one step mechanism.

The subject is a real row in that state; `take_step` either moves it where its machine says and
appends exactly one audit entry naming from and to, or refuses with a WorkflowError and changes
nothing. A machine added later without a row here fails `test_every_machine_is_walked`.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from app.alpr.workflow import HitMachine, PlateMachine
from app.audit.actions import AuditAction
from app.audit.models import AuditEntry
from app.auth.models import Role
from app.bca.models import BcaNotice
from app.bca.workflow import BcaNoticeMachine
from app.breaches.models import BreachIncident
from app.breaches.workflow import BreachMachine
from app.core.timeutil import local_today
from app.db import utcnow
from app.investigations.models import Investigation
from app.investigations.workflow import InvestigationMachine
from app.reads.models import Hit
from app.requests.models import APPROVED_STATES, AgencyRequest
from app.requests.workflow import AgencyRequestMachine
from app.retention.models import ExculpatoryRequest, Hold
from app.retention.workflow import AcpMachine, ExculpatoryMachine, HoldMachine
from app.workflow.machine import GuardedMachine, WorkflowError, machine_for
from app.workflow.step import take_step
from tests.factories import (
    AcpRequestFactory,
    AgencyRequestFactory,
    BcaNoticeFactory,
    BreachIncidentFactory,
    ExculpatoryRequestFactory,
    HitFactory,
    HoldFactory,
    InvestigationFactory,
    ReadFactory,
    UserFactory,
)


def inputs() -> dict[str, Any]:
    """Inputs that satisfy every input guard of every machine (a correction names a new plate).

    Built when a test runs, not at import: the dates are today's, and a run that crosses the
    department's midnight would otherwise pass yesterday's.
    """
    today = local_today()
    return {
        "reason": "stated for the trail",
        "verified_via": "MNJIS",
        "verification_reference": "MNJIS 26-0042",
        "verified_at": utcnow(),
        "note": "worked and closed",
        "action": "Traffic stop",
        "impracticable_reason": "radio down",
        "disposition": "charges dismissed",
        "resolved_on": today,
        "ended_on": today,
        "plate": "NEW123",
        "findings": "two records were copied",
        "notified_on": today,
        "notification_method": "written",
        "individuals_notified": 2,
        "report_summary": "facts and results",
        "report_completed_on": today,
        "question": "Which vehicle was seen, and when?",
        "answer": "A grey sedan, at 02:10 on the night of the burglary.",
        "finding": "The plate was seen leaving the burglary scene; the reads show its route.",
        "active_investigation": "Agency case 25-000123, burglary",
        "package_sha256": "0" * 64,
        "sent_on": today,
        "sent_method": "email",
        "sent_to": "BCA ALPR notices",
        "sent_reference": "Notice 1",
        "acknowledged_on": today,
        "acknowledgement_note": "received",
        "schedule_category": "felony",
        "retain_until": today + timedelta(days=365),
        "today": today,
    }


#: What the service sets with a step where the schema requires it (CHECK constraints back it).
CHANGES: dict[tuple[str, str], Any] = {
    ("ExculpatoryMachine", "decline"): lambda: {"decline_reason": inputs()["reason"]},
    ("AcpMachine", "decline"): lambda: {"decline_reason": inputs()["reason"]},
    ("ExculpatoryMachine", "release"): lambda: {
        "disposition": inputs()["disposition"],
        "resolved_on": inputs()["resolved_on"],
    },
    ("HoldMachine", "release"): lambda: {"released_at": utcnow()},
    ("AgencyRequestMachine", "approve"): lambda: {
        "finding": inputs()["finding"],
        "active_investigation": inputs()["active_investigation"],
    },
    ("BcaNoticeMachine", "send_notice"): lambda: {
        key: inputs()[key] for key in ("sent_on", "sent_method", "sent_to")
    },
    ("BcaNoticeMachine", "acknowledge"): lambda: {"acknowledged_on": inputs()["acknowledged_on"]},
    ("InvestigationMachine", "retain"): lambda: {
        "schedule_category": inputs()["schedule_category"],
        "retain_until": inputs()["retain_until"],
    },
    ("HitMachine", "mark_impracticable"): lambda: {"impracticable_reason": "radio down"},
}


def _investigation(state: str) -> Investigation:
    """A case in `state`; one kept under the schedule ends today, so that it may lapse."""
    closed = state != "active"
    retained = state == "retained"
    return InvestigationFactory(
        status=state,
        opened_on=local_today() - timedelta(days=3),
        closed_on=local_today() if closed else None,
        closing_reason="closed before" if closed else None,
        schedule_category="felony" if retained else None,
        retain_until=local_today() if retained else None,
    )


def _exculpatory(state: str) -> ExculpatoryRequest:
    return ExculpatoryRequestFactory(
        status=state,
        received_on=local_today() - timedelta(days=3),
        disposition="resolved" if state == "released" else None,
        resolved_on=local_today() if state == "released" else None,
        decline_reason="does not qualify" if state == "declined" else None,
    )


def _breach(state: str) -> BreachIncident:
    order = ["reported", "investigating", "individuals_notified", "report_completed"]
    reached = order.index(state)
    return BreachIncidentFactory(
        status=state,
        investigation_started_at=utcnow() if reached >= 1 else None,
        notified_on=local_today() if reached >= 2 else None,
        notification_method="written" if reached >= 2 else None,
        individuals_notified=2 if reached >= 2 else None,
        report_completed_on=local_today() if reached >= 3 else None,
    )


def _bca_notice(state: str) -> BcaNotice:
    sent = state != "open"
    return BcaNoticeFactory(
        status=state,
        sent_on=local_today() - timedelta(days=1) if sent else None,
        sent_method="mail" if sent else None,
        sent_to="BCA" if sent else None,
        acknowledged_on=local_today() if state == "acknowledged" else None,
    )


def _hit(state: str) -> Hit:
    """A hit on a read of yesterday, so the inputs' query time falls after it."""
    return HitFactory(
        status=state,
        read=ReadFactory(captured_at=utcnow() - timedelta(days=1)),
        impracticable_reason="radio down" if state == "impracticable" else None,
    )


def _agency_request(state: str) -> AgencyRequest:
    approved = state in APPROVED_STATES
    return AgencyRequestFactory(
        status=state,
        finding=inputs()["finding"] if approved else None,
        active_investigation=inputs()["active_investigation"] if approved else None,
    )


def _hold(state: str) -> Hold:
    return HoldFactory(status=state, released_at=utcnow() if state == "released" else None)


#: machine → how to make a row of its model in a given state.
SUBJECTS: dict[type[GuardedMachine], Any] = {
    HitMachine: _hit,
    PlateMachine: lambda state: ReadFactory(plate_status=state, plate="ABC123"),
    InvestigationMachine: _investigation,
    ExculpatoryMachine: _exculpatory,
    AcpMachine: lambda state: AcpRequestFactory(
        status=state, decline_reason="could not be verified" if state == "declined" else None
    ),
    HoldMachine: _hold,
    BreachMachine: _breach,
    BcaNoticeMachine: _bca_notice,
    AgencyRequestMachine: _agency_request,
}

#: Steps only the requesting agency's own user takes: (machine, event) → that user.
OWN_AGENCY_STEPS = {
    (AgencyRequestMachine, "answer"): lambda subject: subject.submitted_by,
    (AgencyRequestMachine, "withdraw"): lambda subject: subject.submitted_by,
}


def _cases() -> list[tuple[type, str, str]]:
    cases = []
    for machine in SUBJECTS:
        events = sorted(str(event) for event in machine.events)
        for state in machine.states:
            cases.extend((machine, state.value, event) for event in events)
    return cases


def _entries(session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEntry))


def test_every_machine_is_walked(app):
    assert set(GuardedMachine._by_model.values()) == set(SUBJECTS)


@pytest.mark.parametrize(
    ("machine_class", "state", "event"),
    _cases(),
    ids=lambda value: getattr(value, "__name__", value),
)
def test_every_event_through_take_step(session, machine_class, state, event):
    actor = UserFactory(
        roles=[Role.DEPUTY_CHIEF, Role.RECORDS, Role.ADMIN, Role.OPERATOR], trained=True
    )
    subject = SUBJECTS[machine_class](state)
    session.flush()
    if (machine_class, event) in OWN_AGENCY_STEPS:
        actor = OWN_AGENCY_STEPS[machine_class, event](subject)
    machine = machine_for(subject)
    candidates = [t for t in machine.current_state.transitions if t.match(event)]
    before = _entries(session)

    if not candidates:
        with pytest.raises(WorkflowError, match="cannot take the"):
            take_step(
                session, actor, subject, event, audit_action=AuditAction.HOLD_RELEASED, **inputs()
            )
        assert getattr(subject, machine.STATE_FIELD) == state
        assert _entries(session) == before
        return

    changes = CHANGES.get((machine_class.__name__, event), dict)()
    take_step(
        session,
        actor,
        subject,
        event,
        audit_action=AuditAction.HOLD_RELEASED,
        changes=changes,
        **inputs(),
    )
    target = candidates[0].target.value
    assert getattr(subject, machine.STATE_FIELD) == target
    assert _entries(session) == before + 1
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    details = json.loads(entry.detail.details_json)
    assert (details["from"], details["to"]) == (state, target)
    assert entry.actor_user_id == actor.id
