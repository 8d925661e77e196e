"""Two people taking a step on one retention case at once: one wins, the other is told why.

Each step locks its row (:func:`app.workflow.step.lock_subject`), so the second waits for the
first to commit and its guards then see the state the first left. PostgreSQL only: SQLite
serialises writers, so there are never two at once there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.actions import AuditAction
from app.audit.models import AuditEntry
from app.auth.models import Role, User
from app.core.timeutil import local_today
from app.db import utcnow
from app.investigations.models import Investigation
from app.investigations.services import close_investigation
from app.retention.acp.lifecycle import receive_acp_request, verify_acp_request
from app.retention.exculpatory import (
    activate_exculpatory_hold,
    decline_exculpatory_request,
    receive_exculpatory_request,
)
from app.retention.holds import place_hold, release_hold
from app.retention.models import AcpRequest, ExculpatoryRequest, Hold
from app.workflow.machine import WorkflowError
from tests.conftest import BACKEND
from tests.factories import InvestigationFactory, UserFactory
from tests.helpers import PAPER_ORIGINAL

pytestmark = pytest.mark.skipif(
    BACKEND != "postgres", reason="SQLite serialises writers: no two at once"
)

Step = Callable[[Session], None]


def _two_at_once(app, first: Step, second: Step, *, waits: bool = True) -> list[str]:
    """Take `first`, start `second` meanwhile, check it waits (when the two share a row),
    commit; what refused `second`."""
    factory = app.extensions["alpr_sessionmaker"]
    refused: list[str] = []

    def meanwhile() -> None:
        with app.app_context(), factory() as other:
            try:
                second(other)
                other.commit()
            except WorkflowError as exc:
                refused.append(str(exc))

    with factory() as mine:
        first(mine)
        worker = threading.Thread(target=meanwhile)
        worker.start()
        worker.join(timeout=1)
        if waits:
            assert worker.is_alive(), "the second step did not wait for the row lock"
        mine.commit()
    worker.join(timeout=30)
    assert not worker.is_alive()
    return refused


def _count(session, action: AuditAction) -> int:
    session.rollback()
    return len(session.scalars(select(AuditEntry).where(AuditEntry.action == action.value)).all())


def test_activating_and_declining_one_exculpatory_request_at_once(app, session):
    chief, designee = (UserFactory(roles=[role]) for role in (Role.DEPUTY_CHIEF, Role.DESIGNEE))
    now = utcnow()
    request = receive_exculpatory_request(
        session,
        chief,
        requester_name="J. Subject",
        case_file_number="85-CR-24-1",
        received_on=local_today(),
        window_start=now - timedelta(days=2),
        window_end=now - timedelta(days=1),
        plates=["ABC123"],
        paper_original=PAPER_ORIGINAL,
    )
    session.commit()

    refused = _two_at_once(
        app,
        lambda s: activate_exculpatory_hold(
            s, s.get(User, chief.id), s.get(ExculpatoryRequest, request.id)
        ),
        lambda s: decline_exculpatory_request(
            s, s.get(User, designee.id), s.get(ExculpatoryRequest, request.id), reason="No."
        ),
    )

    assert len(refused) == 1
    assert refused[0].endswith("exculpatory request that is active cannot take the 'decline' step.")
    assert session.get(ExculpatoryRequest, request.id, populate_existing=True).status == "active"
    assert _count(session, AuditAction.EXCULPATORY_ACTIVATED) == 1
    assert _count(session, AuditAction.EXCULPATORY_DECLINED) == 0


def test_verifying_one_acp_request_twice_at_once(app, session):
    clerks = [UserFactory(roles=[Role.RECORDS]) for _ in range(2)]
    request = receive_acp_request(
        session,
        clerks[0],
        participant_number="ACP-1",
        plates=["ABC123"],
        received_on=local_today(),
        paper_original=PAPER_ORIGINAL,
    )
    session.commit()

    def verify(clerk: User) -> Step:
        return lambda s: verify_acp_request(s, s.get(User, clerk.id), s.get(AcpRequest, request.id))

    refused = _two_at_once(app, verify(clerks[0]), verify(clerks[1]))

    assert len(refused) == 1
    assert refused[0].endswith("ACP request that is verified cannot take the 'verify' step.")
    assert session.get(AcpRequest, request.id, populate_existing=True).status == "verified"
    assert _count(session, AuditAction.ACP_VERIFIED) == 1


def _hold(session, chief: User) -> Hold:
    now = utcnow()
    hold = place_hold(
        session,
        chief,
        InvestigationFactory(),
        now - timedelta(days=2),
        now - timedelta(days=1),
        plates=["ABC123"],
    )
    session.commit()
    return hold


def test_releasing_one_hold_twice_at_once(app, session):
    chief, designee = (UserFactory(roles=[role]) for role in (Role.DEPUTY_CHIEF, Role.DESIGNEE))
    hold = _hold(session, chief)

    def release(person: User) -> Step:
        return lambda s: release_hold(s, s.get(User, person.id), s.get(Hold, hold.id), "Done.")

    refused = _two_at_once(app, release(chief), release(designee))

    assert refused == ["A hold that is released cannot take the 'release' step."]
    assert session.get(Hold, hold.id, populate_existing=True).status == "released"
    assert _count(session, AuditAction.HOLD_RELEASED) == 1


def test_closing_a_case_while_its_hold_is_released_releases_it_once(app, session):
    """Closing a case leaves its holds to the disposition, so it shares no row with a release.

    Neither waits for nor refuses the other: the hold is released once, the case is closed.
    """
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF])
    hold = _hold(session, chief)

    refused = _two_at_once(
        app,
        lambda s: release_hold(s, s.get(User, chief.id), s.get(Hold, hold.id), "Done."),
        lambda s: close_investigation(
            s, "system:cli", s.get(Investigation, hold.investigation_id), "Closed.", local_today()
        ),
        waits=False,
    )

    assert refused == []
    assert session.get(Investigation, hold.investigation_id).status == "closed"
    assert _count(session, AuditAction.HOLD_RELEASED) == 1


def test_closing_one_investigation_twice_at_once(app, session):
    officers = [UserFactory(roles=[Role.OPERATOR]) for _ in range(2)]
    case = InvestigationFactory(opened_on=local_today() - timedelta(days=3))
    session.commit()

    def close(officer: User, reason: str) -> Step:
        return lambda s: close_investigation(
            s, s.get(User, officer.id), s.get(Investigation, case.id), reason, local_today()
        )

    refused = _two_at_once(app, close(officers[0], "Charged."), close(officers[1], "Cleared."))

    assert refused == [
        "An investigation that is closed (awaiting disposition) cannot take the 'close "
        "investigation' step."
    ]
    closed = session.get(Investigation, case.id, populate_existing=True)
    assert (closed.status, closed.closing_reason) == ("closed", "Charged.")
    assert _count(session, AuditAction.INVESTIGATION_CLOSED) == 1
