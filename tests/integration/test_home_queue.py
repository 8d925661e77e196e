"""Each role's home page: the service function behind each card, and who sees which card."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.alpr.devices import silent_devices, tokens_to_rotate
from app.alpr.hits import open_hit_ages
from app.alpr.image_reads import review_waiting
from app.auth.models import Role
from app.auth.training import training_lapsing
from app.bca.services import notices_due
from app.core.timeutil import local_today
from app.db import utcnow
from app.reads.models import DeviceStatus, HitStatus, PlateStatus
from app.requests.models import OPEN_STATES, RequestStatus
from app.requests.services import requests_by_state
from app.retention.models import AcpStatus, ExculpatoryStatus
from app.retention.queue import retention_queue
from tests.factories import (
    AcpRequestFactory,
    AgencyFactory,
    AgencyRequestFactory,
    BcaNoticeFactory,
    DeviceFactory,
    ExculpatoryHoldFactory,
    ExculpatoryRequestFactory,
    HitFactory,
    HoldFactory,
    InvestigationFactory,
    ReadFactory,
    TrainingRecordFactory,
    UserFactory,
)
from tests.helpers import HOME_CARDS

# --- the service functions ---------------------------------------------------------------


def test_open_hits_are_counted_by_the_age_of_their_read(session):
    now = utcnow()
    HitFactory(read__captured_at=now - timedelta(minutes=10))
    HitFactory(read__captured_at=now - timedelta(minutes=50))
    HitFactory(read__captured_at=now - timedelta(hours=5))
    HitFactory(read__captured_at=now - timedelta(days=3))
    HitFactory(read__captured_at=now - timedelta(minutes=5), status=HitStatus.CLOSED.value)
    assert open_hit_ages(session, now) == [
        ("under 1 hour", 2),
        ("1–24 hours", 1),
        ("over 24 hours", 1),
    ]


def test_hits_on_reads_out_of_use_are_not_counted(session):
    HitFactory(read__acp_deferred_at=utcnow())  # kept only for a hold, handed to no one
    HitFactory()
    assert sum(count for _, count in open_hit_ages(session, utcnow())) == 1


def test_review_waiting_counts_the_plates_the_queue_shows(session):
    ReadFactory(plate_status=PlateStatus.NEEDS_REVIEW.value)
    ReadFactory(plate_status=PlateStatus.NEEDS_REVIEW.value)
    ReadFactory(plate_status=PlateStatus.REPORTED.value)
    assert review_waiting(session) == 2


def test_silent_devices_and_old_tokens(session):
    now = utcnow()
    quiet = DeviceFactory(last_seen_at=now - timedelta(hours=30))
    DeviceFactory(last_seen_at=now - timedelta(hours=2))
    never = DeviceFactory(created_at=now - timedelta(days=3))
    DeviceFactory(created_at=now - timedelta(hours=1))
    DeviceFactory(last_seen_at=now - timedelta(days=9), status=DeviceStatus.REVOKED.value)
    assert [d.id for d in silent_devices(session, now, 24)] == [never.id, quiet.id]
    assert [d.id for d in silent_devices(session, now, 48)] == [never.id]

    old = DeviceFactory(token_issued_at=now - timedelta(days=400))
    DeviceFactory(token_issued_at=now - timedelta(days=10))
    DeviceFactory(token_issued_at=None)
    assert [d.id for d in tokens_to_rotate(session, now, 365)] == [old.id]


def test_training_lapsing_within_the_window_and_not_when_renewed(session):
    today = local_today()
    soon = UserFactory(roles=[Role.OPERATOR])
    TrainingRecordFactory(user=soon, expires_on=today + timedelta(days=10))
    renewed = UserFactory(roles=[Role.OPERATOR])
    TrainingRecordFactory(user=renewed, expires_on=today + timedelta(days=10))
    TrainingRecordFactory(user=renewed, expires_on=today + timedelta(days=400))
    UserFactory(roles=[Role.OPERATOR], trained=True)  # a year to go
    expired = UserFactory(roles=[Role.OPERATOR])
    TrainingRecordFactory(
        user=expired, completed_on=today - timedelta(days=400), expires_on=today - timedelta(1)
    )
    gone = UserFactory(roles=[Role.OPERATOR], is_active_account=False)
    TrainingRecordFactory(user=gone, expires_on=today + timedelta(days=5))
    assert [(u.id, until) for u, until in training_lapsing(session, today, 30)] == [
        (soon.id, today + timedelta(days=10))
    ]
    assert training_lapsing(session, today, 5) == []


def test_retention_queue_lists_what_waits_for_a_step(session):
    received = AcpRequestFactory()
    verified = AcpRequestFactory(status=AcpStatus.VERIFIED.value)
    destroyed = AcpRequestFactory(status=AcpStatus.EXISTING_DESTROYED.value)
    AcpRequestFactory(status=AcpStatus.SUPPRESSION_ACTIVE.value)
    exculpatory = ExculpatoryRequestFactory()
    ExculpatoryRequestFactory(status=ExculpatoryStatus.ACTIVE.value)
    HoldFactory()  # its case is active: in force
    ended = HoldFactory(investigation=InvestigationFactory(status="closed"))
    ExculpatoryHoldFactory()  # its request is received: in force
    queue = retention_queue(session)
    assert [r.id for r in queue.acp_to_verify] == [received.id]
    assert [r.id for r in queue.acp_to_destroy] == [verified.id]
    assert [r.id for r in queue.acp_to_activate] == [destroyed.id]
    assert exculpatory.id in [r.id for r in queue.exculpatory_received]
    assert [h.id for h in queue.holds_ended] == [ended.id]
    assert queue.total == 3 + len(queue.exculpatory_received) + 1


def test_requests_by_state_counts_every_state_asked_for(session):
    agency = AgencyFactory()
    AgencyRequestFactory(agency=agency)
    AgencyRequestFactory(agency=agency, status=RequestStatus.NEEDS_INFORMATION.value)
    AgencyRequestFactory()
    assert requests_by_state(session, OPEN_STATES) == {
        "submitted": 2,
        "under_review": 0,
        "needs_information": 1,
    }
    mine = requests_by_state(session, ("submitted", "needs_information"), agency_id=agency.id)
    assert mine == {"submitted": 1, "needs_information": 1}


def test_notices_due_are_overdue_or_due_soon(session):
    today = local_today()
    late = BcaNoticeFactory(event_on=today - timedelta(days=12))
    soon = BcaNoticeFactory(event_on=today - timedelta(days=8))
    BcaNoticeFactory(event_on=today - timedelta(days=1))
    assert [n.id for n in notices_due(session, today)] == [late.id, soon.id]


# --- who sees which card -----------------------------------------------------------------

CARDS = set(HOME_CARDS)
EXPECTED = {
    Role.OPERATOR: {"card-hits", "card-review", "card-searches"},
    Role.RECORDS: {"card-retention"},
    Role.DEPUTY_CHIEF: {
        "card-retention",
        "card-requests",
        "bca-due",
        "compliance-counters",
        "card-training-lapsing",
    },
    Role.DESIGNEE: {
        "card-retention",
        "card-requests",
        "bca-due",
        "compliance-counters",
        "card-training-lapsing",
    },
    Role.ADMIN: {"bca-due", "card-silent-devices", "card-tokens"},
    Role.AUDITOR: {"card-audit"},
}


def _cards(html: str) -> set[str]:
    return {card for card in CARDS if f'data-testid="{card}"' in html}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_sees_its_cards_only(client, session, login_as, role):
    from app.reports.services import check_compliance

    check_compliance(session, "test", utcnow(), retention_days=60, today=local_today())
    session.commit()
    login_as(role)
    page = client.get("/").get_data(as_text=True)
    assert _cards(page) == EXPECTED[role]
    fragment = client.get("/home/queue").get_data(as_text=True)
    assert _cards(fragment) == EXPECTED[role]
    assert 'hx-trigger="every 30s"' in fragment and "<html" not in fragment


def test_staff_without_training_see_no_work_only_the_warning(client, session, login_as):
    HitFactory()
    login_as(Role.OPERATOR, Role.DEPUTY_CHIEF, trained=False)
    page = client.get("/").get_data(as_text=True)
    assert _cards(page) == set()
    assert "No current department-approved ALPR training" in page


def test_agency_users_see_their_agency_requests_by_state(client, session, login_as):
    agency = AgencyFactory(name="Goodhue County Sheriff")
    AgencyRequestFactory(agency=agency, status=RequestStatus.NEEDS_INFORMATION.value)
    AgencyRequestFactory(agency=agency)
    AgencyRequestFactory()  # another agency's
    login_as(Role.AGENCY, agency=agency, trained=False)
    page = client.get("/").get_data(as_text=True)
    assert _cards(page) == {"card-agency-requests"}
    assert re.search(r'data-testid="agency-needs_information">1<', page)
    assert re.search(r'data-testid="agency-pending">1<', page)
    assert "Audit chain" not in page and "ALPR training" not in page


def test_counts_link_to_the_lists_they_count(client, session, login_as):
    AgencyRequestFactory()
    AgencyRequestFactory(status=RequestStatus.UNDER_REVIEW.value)
    login_as(Role.DEPUTY_CHIEF)
    page = client.get("/").get_data(as_text=True)
    assert re.search(
        r'href="/requests\?state=submitted"[^>]*data-testid="requests-submitted">1<', page
    )
    assert re.search(
        r'href="/requests\?state=under_review"[^>]*data-testid="requests-under_review">1<', page
    )
    listed = client.get("/requests?state=under_review").get_data(as_text=True)
    assert listed.count('data-testid="queue-row"') == 1 or "Under review" in listed


def test_the_compliance_card_says_when_nothing_was_checked_yet(client, session, login_as):
    login_as(Role.DESIGNEE)
    page = client.get("/").get_data(as_text=True)
    assert 'data-testid="compliance-counters"' in page
    assert "have not been checked yet" in page


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("ALPR_DEVICE_SILENT_HOURS", "0", "at least 1"),
        ("ALPR_DEVICE_SILENT_HOURS", str(2**63), "at most 8784"),
        ("ALPR_TOKEN_ROTATE_DAYS", "99999999999", "at most 3660"),
        ("ALPR_TRAINING_LAPSE_DAYS", "-5", "at least 1"),
        ("ALPR_TRAINING_LAPSE_DAYS", "thirty", "whole number"),
    ],
)
def test_the_home_thresholds_refuse_values_that_mean_nothing(
    make_app, monkeypatch, variable, value, message
):
    from pathlib import Path

    from app.config import ConfigurationError, load_settings

    instance = Path(make_app().config["INSTANCE_PATH"])
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=message):
        load_settings(instance)


def test_the_home_thresholds_apply_as_configured(make_app, session, monkeypatch):
    from pathlib import Path

    from app.config import load_settings

    instance = Path(make_app().config["INSTANCE_PATH"])
    monkeypatch.setenv("ALPR_DEVICE_SILENT_HOURS", "8784")
    settings = load_settings(instance)
    assert settings["DEVICE_SILENT_HOURS"] == 8784
    assert silent_devices(session, utcnow(), settings["DEVICE_SILENT_HOURS"]) == []
