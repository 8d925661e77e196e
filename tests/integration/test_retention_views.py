"""Retention pages: who may reach them, the compliance line, entering requests through forms."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.audit.actions import AuditAction
from app.audit.models import AuditEntry
from app.auth.models import Role
from app.core.timeutil import local_today
from app.retention.models import AcpRequest, ExculpatoryRequest, StoredDocument
from tests.conftest import form_csrf
from tests.integration.retention_support import aged_read, run_purge

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


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


def test_records_enter_an_acp_request_with_its_scan(client, session, login_as):
    login_as(Role.RECORDS)
    response = _acp_form(client)
    assert response.status_code == 302
    session.commit()
    request = session.scalars(select(AcpRequest)).one()
    assert len(request.plates) == 2 and request.document_sha256
    assert session.get(StoredDocument, request.document_sha256).content_type == "application/pdf"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "ABC123" not in page and "received" in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"plates": "   "}, "at least one plate"),
        ({"document": (io.BytesIO(b"MZ not a scan"), "x.exe")}, "PDF, PNG or JPEG"),
    ],
)
def test_bad_acp_form_is_refused_and_nothing_saved(client, session, login_as, overrides, message):
    login_as(Role.RECORDS)
    response = _acp_form(client, **overrides)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    session.commit()
    assert session.scalar(select(func.count()).select_from(AcpRequest)) == 0


def test_exculpatory_release_without_disposition_is_refused(client, session, login_as):
    login_as(Role.RECORDS)
    start = (local_today() - timedelta(days=5)).isoformat()
    response = client.post(
        "/retention/exculpatory/new",
        data={
            "csrf_token": form_csrf(client, "/retention/exculpatory/new"),
            "requester_name": "J. Subject",
            "case_file_number": "85-CR-1",
            "received_on": local_today().isoformat(),
            "window_start": f"{start} 08:00",
            "window_end": f"{local_today().isoformat()} 08:00",
            "plates": "ABC123",
            "document": (io.BytesIO(PDF), "req.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    detail = response.headers["Location"]
    token = form_csrf(client, detail)
    client.post(f"{detail}/activate", data={"csrf_token": token})
    page = client.post(
        f"{detail}/release", data={"csrf_token": token, "disposition": ""}, follow_redirects=True
    ).get_data(as_text=True)
    assert "disposition" in page
    session.commit()
    assert session.scalars(select(ExculpatoryRequest)).one().status == "active"
