"""Notices to agencies (425.7): the requester is mailed at each decision, through an outbox.

Each notice is written with its step (a refused step writes none); without SMTP the outbox page
is the delivery, with SMTP a job sends it (a real SMTP server on a local port here).
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.auth.models import Role
from app.requests.models import OutboxMessage
from app.requests.notifications import send_outbox
from app.requests.services import (
    approve_request,
    ask_for_information,
    deny_request,
    refer_to_records,
)
from app.workflow.machine import WorkflowError
from tests.factories import AgencyFactory, AgencyRequestFactory, UserFactory
from tests.helpers import count_rows, form_csrf, smtp_server

FINDING = "A witness saw this plate leave the burglary; its reads show where it went next."


def messages(session) -> list[OutboxMessage]:
    session.rollback()
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


@pytest.mark.parametrize(
    ("take", "kind", "words"),
    [
        (
            lambda s, a, r: ask_for_information(s, a, r, question="Which night?"),
            "asked",
            "Which night?",
        ),
        (
            lambda s, a, r: approve_request(s, a, r, finding=FINDING, active_investigation="RPD 1"),
            "approved",
            FINDING,
        ),
        (
            lambda s, a, r: deny_request(s, a, r, reason="Not pertinent."),
            "denied",
            "Not pertinent.",
        ),
        (
            lambda s, a, r: refer_to_records(s, a, r, reason="A civil matter."),
            "referred",
            "Records Maintenance and Release",
        ),
    ],
)
def test_each_decision_mails_the_requester_in_the_same_transaction(session, take, kind, words):
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF], trained=True)
    request = AgencyRequestFactory(status="under_review")
    take(session, chief, request)
    session.commit()
    (message,) = messages(session)
    assert message.kind == kind and message.recipient == request.submitted_by.email
    assert message.request_id == request.id and words in message.body
    assert f"request {request.id}" in message.subject and message.sent_at is None


def test_a_refused_decision_mails_nobody(session):
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF], trained=True)
    request = AgencyRequestFactory(status="under_review")
    with pytest.raises(WorkflowError):
        approve_request(session, chief, request, finding="", active_investigation="RPD 1")
    session.rollback()
    assert count_rows(session, OutboxMessage) == 0


def test_without_smtp_an_admin_reads_the_outbox_and_nobody_else(client, session, login_as):
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF], trained=True)
    request = AgencyRequestFactory(status="under_review")
    deny_request(session, chief, request, reason="Not pertinent.")
    session.commit()
    assert send_outbox(session, None, "alpr@wpd.example.com") == {"sent": 0, "failed": 0}
    login_as(Role.ADMIN)
    html = client.get("/requests/outbox").get_data(as_text=True)
    assert "No SMTP server is configured" in html and "Not pertinent." in html
    assert request.submitted_by.email in html


def test_the_deputy_chief_cannot_read_the_outbox(client, login_as):
    login_as(Role.DEPUTY_CHIEF, Role.DESIGNEE, Role.RECORDS, Role.AUDITOR)
    assert client.get("/requests/outbox").status_code == 403


def test_an_invitation_is_mailed_with_its_link(client, session, login_as):
    agency = AgencyFactory()
    login_as(Role.DEPUTY_CHIEF)
    page = f"/requests/agencies/{agency.id}"
    response = client.post(
        f"{page}/invite",
        data={
            "csrf_token": form_csrf(client, page),
            "name": "Det. Q",
            "email": "q@rpd.example.com",
        },
    )
    link = re.search(r'data-testid="invitation-link">([^<]+)<', response.get_data(as_text=True))
    (message,) = messages(session)
    assert message.kind == "invitation" and message.recipient == "q@rpd.example.com"
    assert link.group(1) in message.body


def test_with_smtp_the_outbox_is_sent_and_a_refused_address_waits(session):
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF], trained=True)
    good = AgencyRequestFactory(status="under_review")
    bad_user = UserFactory(
        roles=[Role.AGENCY], email="nobody@gone.example.com", agency=AgencyFactory()
    )
    bad = AgencyRequestFactory(status="under_review", submitted_by=bad_user, agency=bad_user.agency)
    deny_request(session, chief, good, reason="Not pertinent.")
    deny_request(session, chief, bad, reason="Not pertinent.")
    session.commit()
    with smtp_server(refuse="gone.example.com") as (port, received):
        outcome = send_outbox(session, f"smtp://127.0.0.1:{port}", "alpr@wpd.example.com")
        assert outcome == {"sent": 1, "failed": 1}
    assert [m["to"] for m in received] == [[good.submitted_by.email]]
    assert "Subject: ALPR data request" in received[0]["data"]
    sent, waiting = messages(session)
    assert sent.sent_at is not None and waiting.sent_at is None
    assert "SMTPRecipientsRefused" in waiting.last_error and waiting.attempts == 1


def test_an_unreachable_smtp_server_leaves_the_mail_waiting(session):
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF], trained=True)
    deny_request(session, chief, AgencyRequestFactory(status="under_review"), reason="No.")
    session.commit()
    with smtp_server() as (port, _):
        closed = port
    outcome = send_outbox(session, f"smtp://127.0.0.1:{closed}", "alpr@wpd.example.com")
    assert outcome["sent"] == 0 and outcome["unreachable"] == 1
    (message,) = messages(session)
    assert message.sent_at is None and message.attempts == 0
