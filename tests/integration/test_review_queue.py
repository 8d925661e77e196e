"""The operators' review queue: plates OCR was unsure of are confirmed or corrected, audited."""

from __future__ import annotations

import json
import re
import threading

import pytest
from sqlalchemy import select

from app.alpr.hotlists import load_hotlist
from app.alpr.image_reads import confirm_plate, correct_plate
from app.audit.models import AuditEntry
from app.auth.models import Role, User
from app.reads.models import Hit, PlateStatus, Read
from app.workflow.machine import WorkflowError
from tests.conftest import BACKEND
from tests.factories import UserFactory
from tests.helpers import form_csrf, pending_read, review_read

HTMX = {"HX-Request": "true"}


def row_token(client, read_id: int, form: str) -> str:
    html = client.get("/alpr/review").get_data(as_text=True)
    match = re.search(rf'name="{form}-{read_id}-csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def audit(session, action):
    session.commit()
    return session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


def fresh(session, read_id):
    session.commit()
    return session.get(Read, read_id, populate_existing=True)


def test_queue_lists_doubtful_plates_with_pictures_and_candidates(client, session, login_as):
    read = review_read(client, session, "KLM5512", {"rapidocr": "KLM5512", "tesseract": "KLH5512"})
    other = pending_read(client, session)  # still pending: not for review
    login_as(Role.OPERATOR)
    response = client.get("/alpr/review")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'id="review-row-{read.id}"' in html
    assert f'id="review-row-{other.id}"' not in html
    assert f'src="/alpr/reads/{read.id}/images/plate?via=review"' in html
    assert "KLH5512" in html and "tesseract" in html
    assert "<html" in html
    (entry,) = audit(session, "reads.review_queue_viewed")
    assert json.loads(entry.detail.details_json)["read_ids"] == [read.id]

    fragment = client.get("/alpr/review", headers=HTMX).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="review-list"')
    assert "<html" not in fragment


def test_queue_is_empty_when_nothing_needs_review(client, session, login_as):
    login_as(Role.OPERATOR)
    assert 'data-testid="review-empty"' in client.get("/alpr/review").get_data(as_text=True)


@pytest.mark.parametrize(
    ("roles", "trained", "status"),
    [((Role.OPERATOR,), False, 403), ((Role.AGENCY,), True, 403), ((Role.AUDITOR,), True, 403)],
)
def test_queue_needs_an_alpr_role_and_training(client, session, login_as, roles, trained, status):
    read = review_read(client, session)
    login_as(*roles, trained=trained)
    assert client.get("/alpr/review").status_code == status
    token = form_csrf(client, "/")  # a valid token: the role, not CSRF, must refuse it
    response = client.post(f"/alpr/review/{read.id}/confirm", data={"csrf_token": token})
    assert response.status_code == status
    assert fresh(session, read.id).plate_status == PlateStatus.NEEDS_REVIEW.value


def test_confirming_a_plate_is_audited_and_matches_the_hotlists(client, session, login_as):
    load_hotlist(session, "test", b"plate,category\nABC1234,stolen_vehicle\n")
    session.commit()
    read = review_read(client, session, "ABC1234")
    operator = login_as(Role.OPERATOR)
    token = row_token(client, read.id, "confirm")
    response = client.post(
        f"/alpr/review/{read.id}/confirm", data={f"confirm-{read.id}-csrf_token": token}
    )
    assert response.status_code == 302
    read = fresh(session, read.id)
    assert (read.plate, read.plate_status) == ("ABC1234", PlateStatus.CONFIRMED.value)
    (entry,) = audit(session, "read.plate_confirmed")
    assert entry.actor_user_id == operator.id
    assert json.loads(entry.detail.details_json)["after"] == "ABC1234"
    assert session.scalars(select(Hit).where(Hit.read_id == read.id)).one().category == (
        "stolen_vehicle"
    )

    again = client.post(
        f"/alpr/review/{read.id}/confirm",
        data={f"confirm-{read.id}-csrf_token": token},
        headers=HTMX,
    )
    assert "cannot take the &#39;confirm&#39; step" in again.get_data(as_text=True)
    assert len(audit(session, "read.plate_confirmed")) == 1


def test_correcting_a_plate_normalises_audits_and_matches_the_final_plate(
    client, session, login_as
):
    load_hotlist(session, "test", b"plate,category\nABC1284,warrant\nABC1234,stolen_plate\n")
    session.commit()
    read = review_read(client, session, "ABC1234")
    login_as(Role.OPERATOR)
    token = row_token(client, read.id, "correct")
    response = client.post(
        f"/alpr/review/{read.id}/correct",
        data={f"correct-{read.id}-csrf_token": token, f"correct-{read.id}-plate": "abc-1284"},
        headers=HTMX,
    )
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert fragment.lstrip().startswith(
        f'<article class="card review-row" id="review-row-{read.id}"'
    )
    assert "plate corrected to ABC1284" in fragment
    read = fresh(session, read.id)
    assert (read.plate, read.plate_status) == ("ABC1284", PlateStatus.CORRECTED.value)
    (entry,) = audit(session, "read.plate_corrected")
    details = json.loads(entry.detail.details_json)
    assert (details["before"], details["after"]) == ("ABC1234", "ABC1284")
    hits = session.scalars(select(Hit).where(Hit.read_id == read.id)).all()
    assert [h.category for h in hits] == ["warrant"]


@pytest.mark.parametrize(
    ("plate", "message"),
    [
        ("AB#12", "must be 1 to 10 letters and digits"),
        ("", "This field is required"),
        ("ABC1234", "different from the one OCR read"),
    ],
)
def test_a_bad_correction_is_refused_and_changes_nothing(client, session, login_as, plate, message):
    read = review_read(client, session, "ABC1234")
    login_as(Role.OPERATOR)
    token = row_token(client, read.id, "correct")
    response = client.post(
        f"/alpr/review/{read.id}/correct",
        data={f"correct-{read.id}-csrf_token": token, f"correct-{read.id}-plate": plate},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert fresh(session, read.id).plate_status == PlateStatus.NEEDS_REVIEW.value
    assert audit(session, "read.plate_corrected") == []


def test_a_decision_without_the_csrf_token_is_refused(client, session, login_as):
    read = review_read(client, session)
    login_as(Role.OPERATOR)
    response = client.post(
        f"/alpr/review/{read.id}/correct", data={f"correct-{read.id}-plate": "XYZ123"}
    )
    assert response.status_code == 400
    assert fresh(session, read.id).plate_status == PlateStatus.NEEDS_REVIEW.value


@pytest.mark.skipif(BACKEND != "postgres", reason="SQLite serialises writers: no two at once")
def test_two_reviewers_deciding_one_read_at_once_decide_it_once(app, client, session):
    """The second decision waits for the device lock, then sees the first and is refused."""
    read = review_read(client, session, "TWX4821")
    load_hotlist(session, "test", b"plate,category\nTWX4821,stolen_vehicle\n")
    first, second = (UserFactory(roles=[Role.OPERATOR], trained=True) for _ in range(2))
    session.commit()
    factory = app.extensions["alpr_sessionmaker"]
    refused: list[str] = []

    def correct_meanwhile() -> None:
        with app.app_context(), factory() as other:
            try:
                correct_plate(
                    other, other.get(User, second.id), other.get(Read, read.id), "TWX4822"
                )
                other.commit()
            except WorkflowError as exc:
                refused.append(str(exc))

    with app.app_context(), factory() as mine:
        confirm_plate(mine, mine.get(User, first.id), mine.get(Read, read.id))
        worker = threading.Thread(target=correct_meanwhile)
        worker.start()
        worker.join(timeout=1)
        assert worker.is_alive(), "the second decision did not wait for the device lock"
        mine.commit()
    worker.join(timeout=30)

    assert len(refused) == 1
    stored = fresh(session, read.id)
    assert (stored.plate, stored.plate_status) == ("TWX4821", PlateStatus.CONFIRMED.value)
    assert len(session.scalars(select(Hit).where(Hit.read_id == read.id)).all()) == 1


def test_a_refused_correction_without_htmx_shows_the_queue_again_with_the_typed_plate(
    client, session, login_as
):
    """A plain form post gets 422 and the page, the typed plate kept and the error by it."""
    read = review_read(client, session, "ABC1234")
    other = review_read(client, session, "KLM5512")
    login_as(Role.OPERATOR)
    token = row_token(client, read.id, "correct")
    response = client.post(
        f"/alpr/review/{read.id}/correct",
        data={f"correct-{read.id}-csrf_token": token, f"correct-{read.id}-plate": "AB!!23"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    field = f"correct-{read.id}-plate"
    assert re.search(rf'id="{field}" name="{field}" [^>]*value="AB!!23"', html), html
    error = re.search(rf'<p class="error" id="{field}-err" role="alert">([^<]*)<', html)
    assert error and "must be 1 to 10 letters and digits" in error.group(1)
    assert f'id="review-row-{other.id}"' in html  # the rest of the queue is still there
    assert fresh(session, read.id).plate_status == PlateStatus.NEEDS_REVIEW.value
    assert audit(session, "read.plate_corrected") == []


def test_a_refused_step_without_htmx_says_why_on_the_queue_page(client, session, login_as):
    read = review_read(client, session, "ABC1234")
    login_as(Role.OPERATOR)
    token = row_token(client, read.id, "correct")
    response = client.post(
        f"/alpr/review/{read.id}/correct",
        data={f"correct-{read.id}-csrf_token": token, f"correct-{read.id}-plate": "ABC1234"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "different from the one OCR read" in html and f'id="review-row-{read.id}"' in html
    assert audit(session, "read.plate_corrected") == []


@pytest.mark.parametrize("decide", ["confirm", "correct"])
def test_a_decided_plate_keeps_no_ocr_alternatives(client, session, decide):
    read = review_read(client, session, "KLM5512", {"rapidocr": "KLM5512", "tesseract": "KLH5512"})
    assert json.loads(fresh(session, read.id).ocr_candidates)["tesseract"] == "KLH5512"
    operator = UserFactory(roles=[Role.OPERATOR], trained=True)
    read = fresh(session, read.id)
    if decide == "confirm":
        confirm_plate(session, operator, read)
    else:
        correct_plate(session, operator, read, "KLH5512")
    assert fresh(session, read.id).ocr_candidates is None
