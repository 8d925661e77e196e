"""The tracking guard cannot be split (425.4.1(c)), and a purpose means something (425.6(b)).

One plate may be looked at for at most the tracking window (24 hours here) without a warrant
or exigency, added up over every search of it in the look-back (7 days), whoever searches and
however the windows are cut.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.alpr.search import (
    SearchCriteria,
    SearchError,
    SearchRefused,
    SearchRules,
    covered_time,
    perform_search,
)
from app.audit.models import AuditEntry
from app.auth.models import Role
from app.config import DEFAULT_WARRANT_NUMBER_PATTERN
from app.db import utcnow
from app.reads.models import Search
from tests.factories import AcpSuppressionFactory, ReadFactory, UserFactory

RULES = SearchRules(
    tracking_window_hours=24,
    tracking_lookback_days=7,
    warrant_pattern=DEFAULT_WARRANT_NUMBER_PATTERN,
    exigent_min_chars=40,
)
EXIGENCY = (
    "Amber alert: a four-year-old was taken from daycare at 14:10 by a non-custodial parent "
    "driving this car toward the Wisconsin border"
)


def search(session, user, start, end, plate="ABC123", now=None, **authority):
    return perform_search(
        session,
        user,
        criteria=SearchCriteria(start=start, end=end, plate=plate),
        purpose_category="criminal_investigation",
        purpose="Burglary suspect vehicle follow-up",
        case_number="24-000777",
        rules=RULES,
        now=now or utcnow(),
        **authority,
    )


def refusals(session) -> int:
    return session.scalar(
        select(func.count(AuditEntry.id)).where(AuditEntry.action == "search.refused")
    )


@pytest.fixture
def officers(session):
    return (
        UserFactory(roles=[Role.OPERATOR], trained=True),
        UserFactory(roles=[Role.OPERATOR], trained=True),
    )


def test_back_to_back_24_hour_windows_are_tracking(session, officers):
    now = utcnow()
    first, second = officers
    search(session, first, now - timedelta(hours=24), now)
    with pytest.raises(SearchRefused, match=r"48 hours, more than the 24-hour"):
        search(session, second, now - timedelta(hours=48), now - timedelta(hours=24))
    assert refusals(session) == 1
    allowed = search(
        session,
        second,
        now - timedelta(hours=48),
        now - timedelta(hours=24),
        warrant_number="SW-2026-0412",
    )
    assert allowed.is_tracking and allowed.warrant_number == "SW-2026-0412"


def test_windows_cut_into_hours_add_up_the_same(session, officers):
    now = utcnow()
    for hour in range(24):
        search(
            session,
            officers[hour % 2],
            now - timedelta(hours=hour + 1),
            now - timedelta(hours=hour),
        )
    with pytest.raises(SearchRefused):
        search(session, officers[0], now - timedelta(hours=25), now - timedelta(hours=24))


def test_the_same_window_looked_at_again_is_not_more_tracking(session, officers):
    now = utcnow()
    for officer in officers:
        search(session, officer, now - timedelta(hours=20), now)
    assert session.scalar(select(func.count(Search.id))) == 2


def test_searches_before_the_look_back_do_not_count(session, officers):
    now = utcnow()
    long_ago = now - timedelta(days=8)
    search(session, officers[0], long_ago - timedelta(hours=24), long_ago, now=long_ago)
    search(session, officers[1], now - timedelta(hours=24), now)


def test_other_plates_do_not_count(session, officers):
    now = utcnow()
    search(session, officers[0], now - timedelta(hours=24), now, plate="ABC123")
    search(
        session, officers[1], now - timedelta(hours=48), now - timedelta(hours=24), plate="XYZ789"
    )


def test_a_partial_plate_matching_one_plate_counts_as_that_plate(session, officers):
    now = utcnow()
    ReadFactory(plate="ABC123", captured_at=now - timedelta(hours=30))
    search(session, officers[0], now - timedelta(hours=24), now, plate="ABC123")
    with pytest.raises(SearchRefused):
        search(
            session, officers[1], now - timedelta(hours=48), now - timedelta(hours=24), plate="AB%"
        )


def test_a_protected_plates_windows_add_up_by_their_digest(session, officers):
    """An ACP participant's plate (425.5(b)) is kept only as a digest, and still followed."""
    now = utcnow()
    AcpSuppressionFactory(suppressed=["ABC123"])
    first = search(session, officers[0], now - timedelta(hours=24), now)
    assert (first.followed_plate, first.followed_plate_hmac is not None) == (None, True)
    with pytest.raises(SearchRefused, match=r"48 hours, more than the 24-hour"):
        search(session, officers[1], now - timedelta(hours=48), now - timedelta(hours=24))
    [refusal] = session.scalars(select(AuditEntry).where(AuditEntry.action == "search.refused"))
    assert "ABC123" not in refusal.detail.details_json
    assert "protected plate (ACP request" in refusal.detail.details_json


def test_searches_before_and_after_the_protection_add_up(session, officers):
    now = utcnow()
    search(session, officers[0], now - timedelta(hours=12), now)  # in clear: no request yet
    request = AcpSuppressionFactory(suppressed=["ABC123"])
    search(session, officers[1], now - timedelta(hours=24), now - timedelta(hours=12))
    with pytest.raises(SearchRefused, match=r"36 hours"):
        search(session, officers[1], now - timedelta(hours=36), now - timedelta(hours=24))
    request.status = "ended"  # the participant left the program: the plate is in clear again
    session.flush()
    with pytest.raises(SearchRefused, match=r"36 hours"):
        search(session, officers[0], now - timedelta(hours=36), now - timedelta(hours=24))


def test_covered_time_counts_overlaps_once():
    now = utcnow()
    hour = timedelta(hours=1)
    windows = [
        (now, now + 3 * hour),
        (now + hour, now + 2 * hour),
        (now + 5 * hour, now + 6 * hour),
    ]
    assert covered_time(windows) == 4 * hour


@pytest.mark.parametrize("category", ["", "curiosity", "'; drop table searches; --"])
def test_a_purpose_category_outside_425_3_is_refused_at_its_field(session, officers, category):
    now = utcnow()
    with pytest.raises(SearchError) as refused:
        perform_search(
            session,
            officers[0],
            criteria=SearchCriteria(start=now - timedelta(hours=1), end=now, plate="ABC123"),
            purpose_category=category,
            purpose="Burglary suspect vehicle follow-up",
            case_number="24-000777",
            rules=RULES,
            now=now,
        )
    assert refused.value.field == "purpose_category"
    assert session.scalar(select(func.count(Search.id))) == 0


@pytest.mark.parametrize(
    "statement",
    ["exigent", "N/A", "emergency", "x" * 60, "urgent urgent urgent urgent urgent urgent urgent"],
)
def test_an_exigency_statement_must_say_what_the_exigency_is(session, officers, statement):
    now = utcnow()
    with pytest.raises(SearchError) as refused:
        search(session, officers[0], now - timedelta(days=3), now, exigent_statement=statement)
    assert refused.value.field == "exigent_statement"
    accepted = search(
        session, officers[0], now - timedelta(days=3), now, exigent_statement=EXIGENCY
    )
    assert accepted.is_tracking and accepted.exigent_statement == EXIGENCY


@pytest.mark.parametrize("number", ["none", "x", "WARRANT", "SW 12", "12\x0034"])
def test_a_warrant_number_follows_the_pattern(session, officers, number):
    now = utcnow()
    with pytest.raises(SearchError) as refused:
        search(session, officers[0], now - timedelta(days=3), now, warrant_number=number)
    assert refused.value.field == "warrant_number"


def test_the_warrant_pattern_is_the_departments(session, officers):
    now = utcnow()
    strict = SearchRules(
        tracking_window_hours=24,
        tracking_lookback_days=7,
        warrant_pattern=r"\d{2}-SW-\d{4}",
        exigent_min_chars=40,
    )
    criteria = SearchCriteria(start=now - timedelta(days=3), end=now, plate="ABC123")
    fields = {
        "criteria": criteria,
        "purpose_category": "warrant",
        "purpose": "Arrest warrant for the registered owner",
        "case_number": "24-000778",
        "rules": strict,
        "now": now,
    }
    with pytest.raises(SearchError):
        perform_search(session, officers[0], warrant_number="SW-2026-0412", **fields)
    assert perform_search(session, officers[0], warrant_number="26-SW-0412", **fields).is_tracking


def test_back_to_back_days_through_the_search_page_are_refused_and_audited(
    client, session, login_as
):
    from zoneinfo import ZoneInfo

    from tests.helpers import form_csrf

    login_as(Role.OPERATOR)
    zone = ZoneInfo("America/Chicago")
    end = utcnow().replace(second=0, microsecond=0)

    def day(ending):
        return client.post(
            "/alpr/search",
            data={
                "csrf_token": form_csrf(client, "/alpr/search"),
                "purpose_category": "criminal_investigation",
                "purpose": "Burglary suspect vehicle follow-up",
                "case_number": "24-000777",
                "start": (ending - timedelta(hours=24)).astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
                "end": ending.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
                "plate": "ABC123",
                "device_id": "0",
                "deployment_id": "0",
            },
        )

    assert day(end).status_code == 302
    refused = day(end - timedelta(hours=24))
    assert refused.status_code == 403
    assert "24-hour tracking window" in refused.get_data(as_text=True)
    session.rollback()
    assert refusals(session) == 1
