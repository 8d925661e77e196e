"""CSV exports: read data only for an active investigation, held and audited; lists per role."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.alpr.exports import export_reads
from app.audit.actions import AuditAction
from app.auth.models import Role
from app.core.csv_export import safe_cell
from app.core.timeutil import format_local
from app.db import utcnow
from app.investigations.models import InvestigationStatus
from app.reads.models import Read
from app.retention.models import Hold
from tests.factories import (
    AgencyFactory,
    DeviceFactory,
    HitFactory,
    HoldFactory,
    InvestigationFactory,
    ReadFactory,
    UserFactory,
)
from tests.helpers import (
    STATED_PURPOSE,
    count_rows,
    entry_details,
    form_csrf,
    login,
    run_purge,
)

DAYS_AGO = 50


def _local(moment) -> str:
    return format_local(moment, "%Y-%m-%dT%H:%M")


def _search(client, plate: str) -> int:
    """Run a purpose-bound search of `plate` over the last 59 days; its stored id."""
    now = utcnow()
    response = client.post(
        "/alpr/search",
        data={
            "csrf_token": form_csrf(client, "/alpr/search"),
            **STATED_PURPOSE,
            "plate": plate,
            "start": _local(now - timedelta(days=59)),
            "end": _local(now + timedelta(minutes=2)),
            "warrant_number": "SW-2026-0001",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _rows(response) -> list[dict[str, str]]:
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def _reads_of(plate: str) -> list[Read]:
    now = utcnow()
    return [
        ReadFactory(plate=plate, captured_at=now - timedelta(days=DAYS_AGO, hours=hours))
        for hours in (1, 2, 3)
    ]


def test_an_export_of_reads_is_refused_without_an_active_investigation(client, login_as, session):
    _reads_of("EXP123")
    operator = login_as(Role.OPERATOR)
    closed = InvestigationFactory(lead=operator, status=InvestigationStatus.CLOSED.value)
    closed.closed_on = closed.opened_on
    session.commit()
    search_id = _search(client, "EXP123")
    path = f"/alpr/searches/{search_id}/export"

    page = client.get(path)
    assert page.status_code == 200
    assert "only for an active criminal investigation" in page.get_data(as_text=True)
    refused = client.post(
        path,
        data={
            "csrf_token": form_csrf(client, "/alpr/search"),
            "investigation_id": closed.id,
            "purpose": "Court exhibit",
        },
    )
    assert refused.status_code == 403
    assert refused.mimetype == "text/html"
    hits = client.post(
        "/alpr/hits/export",
        data={
            "csrf_token": form_csrf(client, "/alpr/search"),
            "investigation_id": closed.id,
            "purpose": "Court exhibit",
        },
    )
    assert hits.status_code == 403 and hits.mimetype == "text/html"
    assert entry_details(session, AuditAction.READS_EXPORTED) == []
    assert count_rows(session, Hold) == 0


def test_an_export_for_someone_elses_case_or_without_purpose_is_refused_at_the_field(
    client, login_as, session
):
    _reads_of("EXP124")
    operator = login_as(Role.OPERATOR)
    InvestigationFactory(lead=operator)
    others = InvestigationFactory()
    session.commit()
    path = f"/alpr/searches/{_search(client, 'EXP124')}/export"
    token = form_csrf(client, path)
    for data in (
        {"investigation_id": others.id, "purpose": "Court exhibit"},
        {"investigation_id": 2**63, "purpose": "Court exhibit"},
        {"investigation_id": "x\x00", "purpose": "Court exhibit"},
        {"investigation_id": others.id, "purpose": ""},
    ):
        response = client.post(path, data={"csrf_token": token, **data})
        assert response.status_code == 422, data
        assert 'role="alert"' in response.get_data(as_text=True)
    assert entry_details(session, AuditAction.READS_EXPORTED) == []
    assert count_rows(session, Hold) == 0


def test_exported_reads_are_held_for_the_case_and_the_export_audited(
    app, client, login_as, session
):
    exported = _reads_of("EXP125")
    unplated = ReadFactory(
        plate=None, device=exported[0].device, captured_at=utcnow() - timedelta(days=DAYS_AGO)
    )
    other = ReadFactory(plate="NOTOUT1", captured_at=exported[0].captured_at)
    operator = login_as(Role.OPERATOR)
    case = InvestigationFactory(lead=operator)
    session.commit()
    search_id = _search(client, "EXP125")
    path = f"/alpr/searches/{search_id}/export"
    page = client.get(path)
    assert page.status_code == 200 and case.case_number in page.get_data(as_text=True)

    response = client.post(
        path,
        data={
            "csrf_token": form_csrf(client, path),
            "investigation_id": case.id,
            "purpose": "Exhibit for the charging decision",
        },
    )
    assert response.status_code == 200
    rows = _rows(response)
    assert sorted(int(r["read_id"]) for r in rows) == sorted(r.id for r in exported)
    assert {r["plate"] for r in rows} == {"EXP125"}
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="search-{search_id}-reads.csv"'
    )
    (audit,) = entry_details(session, AuditAction.READS_EXPORTED)
    assert audit["count"] == 3
    assert audit["purpose"] == "Exhibit for the charging decision"
    assert audit["search_id"] == search_id
    (hold,) = session.scalars(select(Hold)).all()
    assert hold.investigation_id == case.id and [p.plate for p in hold.plates] == ["EXP125"]
    assert audit["hold_ids"] == [hold.id]

    exported_ids, unexported_ids = {r.id for r in exported}, {other.id, unplated.id}
    with app.app_context():
        run_purge(app, now=utcnow() + timedelta(days=20), retention_days=60)
    session.rollback()
    kept = set(session.scalars(select(Read.id)))
    assert exported_ids <= kept  # held for the case: the purge spares them
    assert not unexported_ids & kept  # never exported: destroyed


def test_a_supervisor_exports_the_hit_list_under_any_active_case(client, login_as, session):
    device = DeviceFactory()
    hit = HitFactory(read=ReadFactory(plate="HOT777", device=device))
    chief = login_as(Role.DEPUTY_CHIEF)
    case = InvestigationFactory()  # a supervisor exports for any active case
    session.commit()
    response = client.post(
        "/alpr/hits/export",
        data={
            "csrf_token": form_csrf(client, "/alpr/hits/export"),
            "investigation_id": case.id,
            "purpose": "Pattern of stolen vehicles",
        },
    )
    assert response.status_code == 200
    (row,) = _rows(response)
    assert row["hit_id"] == str(hit.id) and row["plate"] == "HOT777"
    (audit,) = entry_details(session, AuditAction.READS_EXPORTED)
    assert audit["count"] == 1 and audit["kind"] == "hits"
    assert session.scalars(select(Hold)).one().created_by_id == chief.id


def test_reads_without_a_plate_are_held_by_their_device(session):
    case = InvestigationFactory()
    device = DeviceFactory()
    plated = ReadFactory(plate="DEV001", device=device)
    unplated = ReadFactory(plate=None, device=device)
    nothing = ReadFactory(plate=None, device=None, source_agency_id=AgencyFactory().id)
    user = UserFactory(roles=[Role.DEPUTY_CHIEF], trained=True)
    session.commit()
    result = export_reads(
        session,
        user,
        [plated, unplated, nothing],
        investigation_id=case.id,
        purpose="Court exhibit",
        source={"kind": "hits", "show": "open"},
    )
    assert {r.id for r in result.reads} == {plated.id, unplated.id} and result.left_out == 1
    by_plate, by_device = (session.get(Hold, i) for i in result.hold_ids)
    assert [p.plate for p in by_plate.plates] == ["DEV001"] and by_plate.devices == []
    assert [d.device_id for d in by_device.devices] == [device.id] and by_device.plates == []
    assert by_device.window_start <= unplated.captured_at <= by_device.window_end


LISTS = [
    ("/requests/export.csv", {Role.RECORDS, Role.DEPUTY_CHIEF}, {Role.OPERATOR, Role.AGENCY}),
    ("/retention/holds.csv", {Role.RECORDS, Role.ADMIN}, {Role.OPERATOR, Role.AUDITOR}),
    ("/alpr/devices.csv", {Role.ADMIN, Role.DESIGNEE}, {Role.OPERATOR, Role.RECORDS}),
    ("/bca/notices.csv", {Role.DEPUTY_CHIEF}, {Role.OPERATOR, Role.AGENCY}),
]


@pytest.mark.parametrize(("url", "allowed", "refused"), LISTS)
def test_lists_export_as_csv_to_the_roles_that_see_them(app, session, url, allowed, refused):
    for role in sorted(allowed | refused):
        client = app.test_client()
        login(client, UserFactory(roles=[role], trained=True).email)
        response = client.get(url)
        if role in allowed:
            assert response.status_code == 200, (url, role)
            assert response.mimetype == "text/csv"
        else:
            assert response.status_code in (302, 403), (url, role)
    exported = entry_details(session, AuditAction.LIST_EXPORTED)
    assert len(exported) == len(allowed)
    assert all("count" in entry for entry in exported)


def test_a_formula_in_a_listed_cell_is_quoted(client, login_as, session):
    DeviceFactory(serial="CAM-EVIL", description='=HYPERLINK("http://x.test","click")')
    HoldFactory(description="+1+cmd|' /C calc'!A0")
    login_as(Role.ADMIN)
    (device,) = [r for r in _rows(client.get("/alpr/devices.csv")) if r["serial"] == "CAM-EVIL"]
    assert device["description"] == '\'=HYPERLINK("http://x.test","click")'
    (hold,) = _rows(client.get("/retention/holds.csv"))
    assert hold["description"].startswith("'+1+cmd")


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("ABC123", "ABC123"),
        (-91.64, "-91.64"),
        (None, ""),
    ],
)
def test_safe_cell(value, cell):
    assert safe_cell(value) == cell
