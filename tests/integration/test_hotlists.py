"""Hotlist loads (425.4.1(b)): the state file, atomic replacement, other sources' investigation."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.alpr.devices import create_device
from app.alpr.hotlists import HotlistError, load_hotlist, parse_hotlist
from app.alpr.ingest.batch import ingest_reads
from app.alpr.ingest.validation import ReadIn
from app.audit.actions import AuditAction
from app.audit.models import AuditEntry
from app.auth.access import ADMIN_ROLES, EQUIPMENT_ROLES
from app.db import utcnow
from app.investigations.models import InvestigationStatus
from app.reads.models import Hit, HotlistEntry, HotlistSource
from tests.factories import InvestigationFactory
from tests.helpers import form_csrf

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "hotlist_sample.csv"


def entries(session, source_name="mn_plate_file") -> list[tuple[str, str]]:
    session.rollback()
    return sorted(
        session.execute(
            select(HotlistEntry.plate, HotlistEntry.category)
            .join(HotlistSource)
            .where(HotlistSource.name == source_name)
        ).all()
    )


def test_the_sample_file_loads_and_is_audited_with_counts_and_digest(session):
    load = load_hotlist(session, "test", SAMPLE.read_bytes())
    session.commit()
    assert load.entries == 50 == len(entries(session))
    assert load.source.kind == "mn_plate_file" and load.source.entry_count == 50
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == AuditAction.HOTLIST_LOADED.value)
    ).one()
    details = json.loads(entry.detail.details_json)
    assert details["entries"] == 50 and details["file_sha256"] == load.sha256
    assert sum(details["by_category"].values()) == 50


def test_header_aliases_categories_and_plate_normalisation():
    rows = parse_hotlist(
        "\ufeffLicense Plate,Type,NCIC Number,Extra\n"
        "abc-123,Stolen Vehicle,N1,x\nxy 9,SUSPENDED,,y\nq1,warrant,W1,z\n".encode()
    )
    assert rows == [
        ("ABC123", "stolen_vehicle", "N1"),
        ("XY9", "suspended_revoked", None),
        ("Q1", "warrant", "W1"),
    ]


def test_a_new_load_replaces_the_previous_one(session):
    load_hotlist(session, "test", b"plate,category\nOLD1,warrant\nOLD2,warrant\n")
    session.commit()
    load = load_hotlist(session, "test", b"plate,category\nNEW1,stolen_plate\n")
    session.commit()
    assert entries(session) == [("NEW1", "stolen_plate")]
    assert load.replaced == 2


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"plate,category\nOK1,warrant\nBAD*,warrant\nOK2,kidnapping\n", "line 3: plate"),
        (b"plate,category\nOK1,warrant\nOK2,kidnapping\n", "line 3: unknown category 'kidnapping'"),
        (b"number,kind\nOK1,warrant\n", "must name the plate and category"),
        (b"", "empty"),
        (b"plate,category\n", "no entries"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (b"plate,category\nOK1,warrant\n" + b"A" * 200_000 + b",warrant\n", "line 3 is not valid"),
        (b'plate,category\nOK1,warrant\n"OK2' + b",warrant\n" * 20_000, "unclosed quote"),
    ],
)
def test_a_bad_file_loads_nothing_and_keeps_the_old_list(session, data, words):
    load_hotlist(session, "test", b"plate,category\nKEEP1,warrant\n")
    session.commit()
    with pytest.raises(HotlistError) as refused:
        load_hotlist(session, "test", data)
    session.rollback()
    assert words in str(refused.value)
    assert entries(session) == [("KEEP1", "warrant")]


def test_a_load_failing_midway_rolls_back_to_the_old_list(session, monkeypatch):
    load_hotlist(session, "test", b"plate,category\nKEEP1,warrant\n")
    session.commit()

    def broken_audit(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("app.alpr.hotlists.record", broken_audit)
    with pytest.raises(RuntimeError):
        load_hotlist(session, "test", b"plate,category\nNEW1,warrant\n")
    session.rollback()
    assert entries(session) == [("KEEP1", "warrant")]


def test_other_sources_need_an_active_investigation(session):
    data = b"plate,category\nSUSP1,investigative\n"
    with pytest.raises(HotlistError, match="active criminal investigation"):
        load_hotlist(session, "test", data, source_name="tip line")
    with pytest.raises(HotlistError, match="No investigation"):
        load_hotlist(session, "test", data, source_name="tip line", case_number="99-NOPE")
    closed = InvestigationFactory(
        status=InvestigationStatus.CLOSED.value, closed_on=utcnow().date()
    )
    with pytest.raises(HotlistError, match="is closed"):
        load_hotlist(session, "test", data, source_name="tip line", case_number=closed.case_number)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(HotlistSource)) == 0
    active = InvestigationFactory()
    load = load_hotlist(
        session, "test", data, source_name="tip line", case_number=active.case_number.lower()
    )
    session.commit()
    assert load.source.kind == "investigation" and load.source.investigation_id == active.id


def test_a_closed_investigations_list_is_no_longer_matched(session):
    investigation = InvestigationFactory()
    load_hotlist(
        session,
        "test",
        b"plate,category\nSUSP1,investigative\n",
        source_name="tip line",
        case_number=investigation.case_number,
    )
    device, _ = create_device(session, "test", serial="CAM-H", kind="mobile")
    session.commit()
    now = utcnow()
    ingest_reads(session, "test", [ReadIn(0, "SUSP1", now, 44.0, -91.0)], device=device)
    investigation.status = InvestigationStatus.CLOSED.value
    investigation.closed_on = now.date()
    session.flush()
    ingest_reads(
        session,
        "test",
        [ReadIn(0, "SUSP1", now - timedelta(seconds=1), 44.0, -91.0)],
        device=device,
    )
    session.commit()
    assert session.scalar(select(func.count()).select_from(Hit)) == 1


def test_cli_import_and_its_refusals(app, session, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["hotlist", "import", str(SAMPLE)])
    assert result.exit_code == 0, result.output
    assert "loaded 50 entries into mn_plate_file" in result.output
    refused = runner.invoke(args=["hotlist", "import", str(SAMPLE), "--source", "gang list"])
    assert refused.exit_code != 0 and "active criminal investigation" in refused.output
    bad = tmp_path / "bad.csv"
    bad.write_text("plate,category\nA1,warrant\n!!,warrant\n")
    refused = runner.invoke(args=["hotlist", "import", str(bad)])
    assert refused.exit_code != 0 and "line 3" in refused.output
    assert len(entries(session)) == 50


def test_the_hotlists_page_uploads_for_trained_administrators(client, session, login_as):
    login_as(*ADMIN_ROLES)
    token = form_csrf(client, "/alpr/hotlists")
    response = client.post(
        "/alpr/hotlists",
        data={
            "csrf_token": token,
            "source": "mn_plate_file",
            "file": (io.BytesIO(SAMPLE.read_bytes()), "mn.csv"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Loaded 50 entries into mn_plate_file" in page
    bad = client.post(
        "/alpr/hotlists",
        data={"csrf_token": token, "source": "other", "file": (io.BytesIO(b"x"), "x.csv")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and "active criminal investigation" in bad.get_data(as_text=True)


@pytest.mark.parametrize("role", sorted(EQUIPMENT_ROLES))
def test_trained_equipment_administrators_reach_the_hotlists_page(client, session, login_as, role):
    """425.3: hotlists are part of the equipment the Deputy Chief or their designee manages."""
    login_as(role)
    assert client.get("/alpr/hotlists").status_code == 200


@pytest.mark.parametrize(
    ("role", "trained"),
    [("operator", True), ("admin", False), ("deputy_chief", False), ("designee", False)],
)
def test_the_hotlists_page_refuses_operators_and_untrained_admins(
    client, session, login_as, role, trained
):
    login_as(role, trained=trained)
    assert client.get("/alpr/hotlists").status_code == 403
