"""Retention pages: who may reach them, the compliance line, entering requests through forms."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.audit.actions import AuditAction
from app.audit.models import AuditEntry
from app.auth.models import Role
from app.core.timeutil import local_today
from app.db import utcnow
from app.retention import exculpatory
from app.retention.acp import lifecycle
from app.retention.documents import document_path
from app.retention.holds import place_hold
from app.retention.models import AcpRequest, ExculpatoryRequest, Hold, StoredDocument
from tests.factories import AcpRequestFactory, InvestigationFactory, UserFactory
from tests.helpers import (
    CONFIRMED,
    PDF,
    aged_read,
    field_error,
    form_csrf,
    run_purge,
    stored_documents,
)


@pytest.mark.parametrize(
    ("roles", "trained", "status"),
    [
        ((Role.RECORDS,), True, 200),
        ((Role.DEPUTY_CHIEF,), True, 200),
        ((Role.DESIGNEE,), True, 200),
        ((Role.ADMIN,), True, 200),
        ((Role.RECORDS,), False, 403),
        ((Role.OPERATOR,), True, 403),
        ((Role.AUDITOR,), True, 403),
    ],
)
def test_dashboard_roles_and_training(client, session, login_as, roles, trained, status):
    login_as(*roles, trained=trained)
    assert client.get("/retention/").status_code == status


def test_request_pages_refuse_operators(client, session, login_as):
    login_as(Role.OPERATOR)
    assert client.get("/retention/acp/new").status_code == 403
    assert client.get("/retention/exculpatory/new").status_code == 403


def test_compliance_line_reads_zero_after_the_purge_and_viewing_is_audited(
    app, client, session, login_as
):
    login_as(Role.DEPUTY_CHIEF)
    aged_read(61)
    aged_read(3)
    page = client.get("/retention/").get_data(as_text=True)
    assert "no hold keeps: <strong>1</strong>" in page
    run_purge(app)
    page = client.get("/retention/").get_data(as_text=True)
    assert "no hold keeps: <strong>0</strong>" in page and "compliant" in page
    session.commit()
    viewed = session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == AuditAction.RETENTION_VIEWED.value)
    )
    assert viewed == 2


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def _audit_fails(*args, **kwargs):
    raise RuntimeError("audit trail unavailable")


def _acp_form(client, **overrides):
    data = {
        "csrf_token": form_csrf(client, "/retention/acp/new"),
        "participant_number": "ACP-77",
        "plates": "ABC 123\nxyz-789",
        "received_on": local_today().isoformat(),
        "document": (io.BytesIO(PDF), "request.pdf"),
    }
    data.update(overrides)
    return client.post("/retention/acp/new", data=data, content_type="multipart/form-data")


def test_records_enter_an_acp_request_with_its_scan(app, client, session, login_as):
    login_as(Role.RECORDS)
    response = _acp_form(client)
    assert response.status_code == 302
    session.commit()
    request = session.scalars(select(AcpRequest)).one()
    assert len(request.plates) == 2 and request.document_sha256
    assert session.get(StoredDocument, request.document_sha256).content_type == "application/pdf"
    with app.app_context():
        assert stored_documents(app) == [document_path(request.document_sha256)]
    assert stored_documents(app)[0].read_bytes() == PDF
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "ABC123" not in page and "received" in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"plates": "   "}, "at least one plate"),
        ({"plates": "ABC123\n!!"}, "Plate 2"),
        ({"participant_number": "  "}, "This field is required"),
        ({"document": (io.BytesIO(b"MZ not a scan"), "x.exe")}, "PDF, PNG or JPEG"),
    ],
)
def test_bad_acp_form_is_refused_and_nothing_saved(
    app, client, session, login_as, overrides, message
):
    login_as(Role.RECORDS)
    response = _acp_form(client, **overrides)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    session.commit()
    assert _count(session, AcpRequest) == 0 and _count(session, StoredDocument) == 0
    assert stored_documents(app) == [], "a refused request must not leave the scan on disk"


def test_a_failure_after_the_scan_is_written_takes_it_back(
    app, client, session, login_as, monkeypatch
):
    login_as(Role.RECORDS)
    written: list[Path] = []

    def audit_fails(*args, **kwargs):
        written.extend(stored_documents(app))
        _audit_fails()

    monkeypatch.setattr(lifecycle, "record", audit_fails)
    assert _acp_form(client).status_code == 500
    assert len(written) == 1, "the scan was on disk when the transaction failed"
    session.commit()
    assert _count(session, AcpRequest) == 0 and _count(session, StoredDocument) == 0
    assert stored_documents(app) == []


def test_a_failed_request_keeps_a_scan_an_earlier_request_references(
    app, client, session, login_as, monkeypatch
):
    login_as(Role.RECORDS)
    assert _acp_form(client).status_code == 302
    kept = stored_documents(app)
    monkeypatch.setattr(lifecycle, "record", _audit_fails)
    assert _acp_form(client, participant_number="ACP-78").status_code == 500
    session.commit()
    assert _count(session, AcpRequest) == 1 and _count(session, StoredDocument) == 1
    assert len(kept) == 1 and stored_documents(app) == kept


def _no_scan() -> tuple[io.BytesIO, str]:
    """What a browser sends for a file input left empty."""
    return io.BytesIO(b""), ""


@pytest.mark.parametrize("form", ["acp", "exculpatory"])
@pytest.mark.parametrize(
    ("paper_original", "field", "message"),
    [
        ("", "document", "The written request is required"),
        ("  ", "document", "The written request is required"),
        ("RF-1\x00 cabinet 3", "paper_original", "control characters"),
        ("R" * 201, "paper_original", "200 characters"),
    ],
)
def test_a_request_without_its_written_request_is_refused_at_the_field(
    app, client, session, login_as, form, paper_original, field, message
):
    login_as(Role.RECORDS)
    post = _acp_form if form == "acp" else _exculpatory_form
    response = post(client, document=_no_scan(), paper_original=paper_original)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in (field_error(body, field) or ""), body
    assert "85-CR-1" in body if form == "exculpatory" else 'value="ACP-77"' in body
    session.commit()
    assert _count(session, AcpRequest) == 0 and _count(session, ExculpatoryRequest) == 0
    assert _count(session, Hold) == 0 and _count(session, AuditEntry) == _count_views(session)


@pytest.mark.parametrize("form", ["acp", "exculpatory"])
def test_the_paper_original_on_file_stands_for_the_scan(app, client, session, login_as, form):
    login_as(Role.RECORDS)
    post = _acp_form if form == "acp" else _exculpatory_form
    response = post(client, document=_no_scan(), paper_original="RF-2026-7, records cabinet 2")
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "paper original: RF-2026-7, records cabinet 2" in page
    session.commit()
    model = AcpRequest if form == "acp" else ExculpatoryRequest
    request = session.scalars(select(model)).one()
    assert (request.paper_original, request.document_sha256) == (
        "RF-2026-7, records cabinet 2",
        None,
    )
    assert stored_documents(app) == []


def _count_views(session) -> int:
    """Audit entries of sign-ins and page views: what a refused form may still leave."""
    return session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(~AuditEntry.action.like("acp.%"), ~AuditEntry.action.like("exculpatory.%"))
    )


def _exculpatory_form(client, **overrides):
    start = (local_today() - timedelta(days=5)).isoformat()
    data = {
        "csrf_token": form_csrf(client, "/retention/exculpatory/new"),
        "requester_name": "J. Subject",
        "case_file_number": "85-CR-1",
        "received_on": local_today().isoformat(),
        "window_start": f"{start} 08:00",
        "window_end": f"{local_today().isoformat()} 08:00",
        "plates": "ABC123",
        "document": (io.BytesIO(PDF), "req.pdf"),
    }
    data.update(overrides)
    return client.post("/retention/exculpatory/new", data=data, content_type="multipart/form-data")


def test_records_enter_an_exculpatory_request_and_one_scan_is_stored(
    app, client, session, login_as
):
    login_as(Role.RECORDS)
    response = _exculpatory_form(client)
    assert response.status_code == 302, response.get_data(as_text=True)
    session.commit()
    request = session.scalars(select(ExculpatoryRequest)).one()
    assert _count(session, StoredDocument) == 1
    with app.app_context():
        assert stored_documents(app) == [document_path(request.document_sha256)]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"plates": ""}, "scope is empty"),
        ({"window_end": ""}, "bounded time window"),
        ({"window_start": "yesterday"}, "such as 2026-03-01 08:00"),
        ({"document": (io.BytesIO(b""), "empty.pdf")}, "Scanned request"),
        ({"document": (io.BytesIO(b"GIF89a"), "x.gif")}, "PDF, PNG or JPEG"),
    ],
)
def test_bad_exculpatory_form_is_refused_and_nothing_saved(
    app, client, session, login_as, overrides, message
):
    login_as(Role.RECORDS)
    response = _exculpatory_form(client, **overrides)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    session.commit()
    assert _count(session, ExculpatoryRequest) == 0 and _count(session, Hold) == 0
    assert _count(session, StoredDocument) == 0
    assert stored_documents(app) == [], "a refused request must not leave the scan on disk"


def test_a_failed_exculpatory_entry_takes_its_scan_back(
    app, client, session, login_as, monkeypatch
):
    login_as(Role.RECORDS)
    monkeypatch.setattr(exculpatory, "record", _audit_fails)
    assert _exculpatory_form(client).status_code == 500
    session.commit()
    assert _count(session, ExculpatoryRequest) == 0 and _count(session, StoredDocument) == 0
    assert stored_documents(app) == []


def _active_request(client, login_as) -> str:
    """Records staff enter a request and activate it, then sign out; the detail page's path."""
    login_as(Role.RECORDS)
    response = _exculpatory_form(client)
    assert response.status_code == 302, response.get_data(as_text=True)
    detail = response.headers["Location"]
    token = form_csrf(client, detail)
    client.post(f"{detail}/activate", data={"csrf_token": token})
    client.post("/logout", data={"csrf_token": token})
    return detail


def test_exculpatory_release_without_disposition_is_refused(client, session, login_as):
    detail = _active_request(client, login_as)
    login_as(Role.DESIGNEE)
    token = form_csrf(client, detail)
    page = client.post(
        f"{detail}/release",
        data={"csrf_token": token, "disposition": "", **CONFIRMED},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "disposition" in page
    session.commit()
    assert session.scalars(select(ExculpatoryRequest)).one().status == "active"


@pytest.mark.parametrize(
    ("role", "may_release"),
    [
        (Role.DEPUTY_CHIEF, True),
        (Role.DESIGNEE, True),
        (Role.RECORDS, False),
        (Role.ADMIN, False),
    ],
)
def test_only_the_deputy_chief_or_designee_release_an_exculpatory_hold(
    client, session, login_as, role, may_release
):
    detail = _active_request(client, login_as)
    login_as(role)
    page = client.get(detail).get_data(as_text=True)
    assert ("Matter resolved: release" in page) is may_release
    assert (f'action="{detail}/release"' in page) is may_release
    response = client.post(
        f"{detail}/release",
        data={
            "csrf_token": form_csrf(client, detail),
            "disposition": "Charges dismissed",
            "resolved_on": local_today().isoformat(),
            **CONFIRMED,
        },
    )
    assert response.status_code == (302 if may_release else 403)
    session.commit()
    request = session.scalars(select(ExculpatoryRequest)).one()
    assert request.status == ("released" if may_release else "active")
    released = select(AuditEntry).where(AuditEntry.action == AuditAction.EXCULPATORY_RELEASED.value)
    assert len(session.scalars(released).all()) == (1 if may_release else 0)


def _received_request(client, session, login_as) -> str:
    """Records staff enter a request; the detail page's path."""
    login_as(Role.RECORDS)
    response = _exculpatory_form(client)
    assert response.status_code == 302, response.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": form_csrf(client, response.headers["Location"])})
    return response.headers["Location"]


@pytest.mark.parametrize(
    ("role", "sees_decline", "sees_activate"),
    [
        (Role.DEPUTY_CHIEF, True, True),
        (Role.DESIGNEE, True, True),
        (Role.RECORDS, False, True),
        (Role.ADMIN, False, False),  # an administrator may not activate: no button
    ],
)
def test_the_decline_form_is_shown_only_to_the_deputy_chief_or_designee(
    client, session, login_as, role, sees_decline, sees_activate
):
    detail = _received_request(client, session, login_as)
    login_as(role)
    page = client.get(detail).get_data(as_text=True)
    assert ("Activate hold" in page) is sees_activate
    assert ("Decline request" in page) is sees_decline
    assert (f'action="{detail}/decline"' in page) is sees_decline
    assert "in force since the request was received" in page


def test_the_deputy_chief_declines_a_request_with_a_reason(client, session, login_as):
    detail = _received_request(client, session, login_as)
    login_as(Role.DEPUTY_CHIEF)
    token = form_csrf(client, detail)
    page = client.post(
        f"{detail}/decline",
        data={"csrf_token": token, "reason": "  ", **CONFIRMED},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Declining needs a stated reason" in page
    session.commit()
    assert session.scalars(select(ExculpatoryRequest)).one().status == "received"

    page = client.post(
        f"{detail}/decline",
        data={
            "csrf_token": token,
            "reason": "Not the subject of a criminal investigation.",
            **CONFIRMED,
        },
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Request declined" in page and "Not the subject of a criminal investigation." in page
    assert "Decline request" not in page and "Activate hold" not in page
    session.commit()
    request = session.scalars(select(ExculpatoryRequest)).one()
    assert (request.status, request.decline_reason) == (
        "declined",
        "Not the subject of a criminal investigation.",
    )
    declined = session.scalars(
        select(AuditEntry).where(AuditEntry.action == AuditAction.EXCULPATORY_DECLINED.value)
    ).all()
    assert len(declined) == 1

    page = client.post(
        f"{detail}/decline",
        data={"csrf_token": token, "reason": "again", **CONFIRMED},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "declined cannot take the &#39;decline&#39; step" in page


@pytest.mark.parametrize(("role", "status"), [(Role.RECORDS, 403), (Role.ADMIN, 403)])
def test_others_may_not_decline(client, session, login_as, role, status):
    detail = _received_request(client, session, login_as)
    login_as(role)
    token = form_csrf(client, detail)
    response = client.post(f"{detail}/decline", data={"csrf_token": token, "reason": "no"})
    assert response.status_code == status
    session.commit()
    assert session.scalars(select(ExculpatoryRequest)).one().status == "received"


def test_declining_without_the_csrf_token_is_refused(client, session, login_as):
    detail = _received_request(client, session, login_as)
    login_as(Role.DESIGNEE)
    assert client.post(f"{detail}/decline", data={"reason": "no"}).status_code == 400
    session.commit()
    assert session.scalars(select(ExculpatoryRequest)).one().status == "received"


@pytest.mark.parametrize(
    ("role", "keeps_holds"),
    [(Role.DEPUTY_CHIEF, True), (Role.DESIGNEE, True), (Role.ADMIN, True), (Role.RECORDS, False)],
)
def test_hold_links_are_shown_only_to_those_who_may_follow_them(
    client, session, login_as, role, keeps_holds
):
    """Records staff see the dashboard but may not place or release holds: no such links."""
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF])
    now = utcnow()
    hold = place_hold(
        session, chief, InvestigationFactory(), now - timedelta(days=2), now, plates=["ABC123"]
    )
    session.commit()
    login_as(role)
    page = client.get("/retention/").get_data(as_text=True)
    assert ("Place a hold" in page) is keeps_holds
    assert (f"/retention/holds/{hold.id}/release" in page) is keeps_holds
    assert "New ACP request" in page and "New exculpatory request" in page
    assert (client.get("/retention/holds/new").status_code == 200) is keeps_holds


@pytest.mark.parametrize(
    ("role", "may_decline"),
    [
        (Role.DEPUTY_CHIEF, True),
        (Role.DESIGNEE, True),
        (Role.RECORDS, False),
        (Role.ADMIN, False),
    ],
)
def test_only_the_deputy_chief_or_designee_decline_an_acp_request(
    client, session, login_as, role, may_decline
):
    request = AcpRequestFactory(status="verified")
    session.commit()
    detail = f"/retention/acp/{request.id}"
    login_as(role)
    page = client.get(detail).get_data(as_text=True)
    assert ("Decline request" in page) is may_decline
    assert 'id="acp-decline-confirm"' in page if may_decline else "acp-decline" not in page
    response = client.post(
        f"{detail}/decline",
        data={
            "csrf_token": form_csrf(client, detail),
            "reason": "The participant withdrew the request.",
            **CONFIRMED,
        },
        follow_redirects=True,
    )
    assert response.status_code == (200 if may_decline else 403)
    session.commit()
    session.expire_all()
    request = session.get(AcpRequest, request.id)
    assert request.status == ("declined" if may_decline else "verified")
    if may_decline:
        body = response.get_data(as_text=True)
        assert "Request declined" in body and "The participant withdrew the request." in body


def test_a_decline_without_a_reason_keeps_the_page_and_changes_nothing(client, session, login_as):
    request = AcpRequestFactory()
    session.commit()
    detail = f"/retention/acp/{request.id}"
    login_as(Role.DESIGNEE)
    response = client.post(
        f"{detail}/decline",
        data={"csrf_token": form_csrf(client, detail), "reason": " ", **CONFIRMED},
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Declining needs a stated reason" in (field_error(body, "reason") or ""), body
    session.commit()
    session.expire_all()
    assert session.get(AcpRequest, request.id).status == "received"
