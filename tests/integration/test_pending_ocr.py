"""Reads waiting for OCR are visible to staff with their age, and counted on the home page."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.alpr.pending_ocr import PENDING_PAGE_SIZE, age_text, pending_ocr_summary
from app.audit.actions import AuditAction
from app.auth.models import Role
from app.db import utcnow
from app.reads.models import PlateStatus
from tests.factories import DeviceFactory, ReadFactory, UserFactory
from tests.helpers import details, entries, login


def _waiting(minutes: float, device=None, **fields):
    received = utcnow() - timedelta(minutes=minutes)
    if device is not None:
        fields["device"] = device
    return ReadFactory(
        plate=None,
        plate_status=PlateStatus.PENDING_OCR.value,
        captured_at=received - timedelta(seconds=5),
        received_at=received,
        **fields,
    )


def test_staff_see_the_reads_waiting_for_ocr_oldest_first_with_their_age(client, session):
    camera = DeviceFactory(serial="CAM-NORTH-7")
    fresh = _waiting(3, camera)
    stuck = _waiting(60 * 26 + 5, camera)
    ReadFactory(plate="ABC1234", plate_status=PlateStatus.OCR_ACCEPTED.value)
    operator = UserFactory(roles=[Role.OPERATOR], trained=True)
    session.commit()
    login(client, operator.email)

    response = client.get("/alpr/pending-ocr")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "2 reads waiting." in html
    assert html.index(f'<td data-label="Read">{stuck.id}</td>') < html.index(
        f'<td data-label="Read">{fresh.id}</td>'
    ), "oldest first"
    assert "CAM-NORTH-7" in html and "1 d 2 h" in html and "3 min" in html
    assert "ABC1234" not in html
    (viewed,) = entries(session, AuditAction.PENDING_OCR_VIEWED)
    assert details(viewed) == {"page": 1, "result_count": 2, "read_ids": [stuck.id, fresh.id]}


def _two_pages_waiting(client, session) -> None:
    """A page and one read waiting, and a trained operator signed in to see them."""
    device = DeviceFactory()
    for n in range(PENDING_PAGE_SIZE + 1):
        _waiting(100 - n, device)
    operator = UserFactory(roles=[Role.OPERATOR], trained=True)
    session.commit()
    login(client, operator.email)


def test_the_list_is_paged(client, session):
    _two_pages_waiting(client, session)
    first = client.get("/alpr/pending-ocr").get_data(as_text=True)
    assert first.count('data-testid="pending-age"') == PENDING_PAGE_SIZE
    assert "Page 1 of 2" in first
    assert '<a href="/alpr/pending-ocr?page=2">Newer</a>' in first, "oldest first: then newer"
    second = client.get("/alpr/pending-ocr?page=2").get_data(as_text=True)
    assert second.count('data-testid="pending-age"') == 1
    assert '<a href="/alpr/pending-ocr?page=1">Older</a>' in second


@pytest.mark.parametrize(
    ("page", "shown"),
    [
        ("0", 1),
        ("-1", 1),
        (str(-(2**63)), 1),
        ("abc", 1),
        ("1\x00", 1),
        ("", 1),
        ("3", 2),
        (str(2**63 - 1), 2),
        (str(2**63), 2),
        (str(10**30), 2),
    ],
)
def test_a_page_out_of_range_or_not_a_number_is_the_nearest_page(client, session, page, shown):
    _two_pages_waiting(client, session)
    response = client.get("/alpr/pending-ocr", query_string={"page": page})

    assert response.status_code == 200
    assert f"Page {shown} of 2" in response.get_data(as_text=True)
    (viewed,) = entries(session, AuditAction.PENDING_OCR_VIEWED)
    assert details(viewed)["page"] == shown
    assert details(viewed)["result_count"] == (PENDING_PAGE_SIZE if shown == 1 else 1)


def test_an_empty_queue_is_one_empty_page_whatever_page_is_asked(client, session):
    operator = UserFactory(roles=[Role.OPERATOR], trained=True)
    session.commit()
    login(client, operator.email)

    response = client.get("/alpr/pending-ocr", query_string={"page": str(2**63)})

    assert response.status_code == 200
    assert 'data-testid="pending-age"' not in response.get_data(as_text=True)
    (viewed,) = entries(session, AuditAction.PENDING_OCR_VIEWED)
    assert details(viewed) == {"page": 1, "result_count": 0, "read_ids": []}


@pytest.mark.parametrize(
    ("roles", "trained", "status"),
    [([Role.RECORDS], True, 403), ([Role.AGENCY], True, 403), ([Role.OPERATOR], False, None)],
)
def test_only_trained_alpr_staff_open_the_list(client, session, roles, trained, status):
    user = UserFactory(roles=roles, trained=trained)
    session.commit()
    login(client, user.email)
    response = client.get("/alpr/pending-ocr")
    assert response.status_code != 200
    if status:
        assert response.status_code == status
    assert not entries(session, AuditAction.PENDING_OCR_VIEWED)


def test_the_administrators_home_counts_the_waiting_reads_and_the_oldest_age(client, session):
    admin = UserFactory(roles=[Role.ADMIN], trained=True)
    operator = UserFactory(roles=[Role.OPERATOR], trained=True)
    session.commit()
    login(client, admin.email)
    assert 'data-testid="pending-ocr-summary"' not in client.get("/").get_data(as_text=True)
    _waiting(5)
    _waiting(95)
    session.commit()
    html = client.get("/").get_data(as_text=True)
    assert "2 reads waiting for OCR; the oldest for 1 h 35 min." in html
    assert "/alpr/pending-ocr" in html
    client.post("/auth/logout")
    other = client.application.test_client()
    login(other, operator.email)
    assert 'data-testid="pending-ocr-summary"' not in other.get("/").get_data(as_text=True)


def test_the_summary_counts_only_reads_waiting(session):
    assert pending_ocr_summary(session) is None
    _waiting(10)
    ReadFactory(plate="XYZ987", plate_status=PlateStatus.NEEDS_REVIEW.value)
    session.commit()
    summary = pending_ocr_summary(session)
    assert summary.count == 1 and summary.oldest_waiting >= timedelta(minutes=10)


@pytest.mark.parametrize(
    ("waited", "text"),
    [
        (timedelta(seconds=20), "under a minute"),
        (timedelta(minutes=7, seconds=59), "7 min"),
        (timedelta(hours=4, minutes=12), "4 h 12 min"),
        (timedelta(days=2, hours=3, minutes=9), "2 d 3 h"),
        (timedelta(seconds=-5), "under a minute"),
    ],
)
def test_ages_read_in_their_two_largest_units(waited, text):
    assert age_text(waited) == text
