"""POST /api/v1/reads: the device ingest contract, duplicates, hits, ACP, agencies.

Bad input, which both JSON read APIs refuse alike, is tested in test_read_api_contract.py.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest
from sqlalchemy import func, select

from app.alpr.devices import create_device, revoke_device
from app.alpr.hotlists import load_hotlist
from app.audit.actions import AuditAction
from app.audit.models import AuditDetail, AuditEntry
from app.auth.agencies import create_agency
from app.auth.models import Role
from app.core.timeutil import local_today
from app.db import utcnow
from app.investigations.services import close_investigation
from app.reads.models import ActiveUsePeriod, Hit, Read
from app.retention.acp.digests import plate_hmac
from app.retention.acp.lifecycle import (
    destroy_existing_acp_data,
    receive_acp_request,
    verify_acp_request,
)
from app.retention.holds import place_hold
from app.retention.models import AcpDestroyedRead, AcpPlate, AcpRequest, AcpStatus
from tests.factories import InvestigationFactory, UserFactory, api_read
from tests.helpers import PAPER_ORIGINAL, actions, count_rows, post_json, run_purge

URL = "/api/v1/reads"


@pytest.fixture
def camera(session):
    device, token = create_device(session, "test", serial="CAM-1", kind="mobile")
    session.commit()
    return device, token


post = partial(post_json, url=URL)


def test_a_valid_batch_is_stored_normalised_with_per_read_outcomes(client, session, camera):
    _, token = camera
    response = post(
        client, token, {"reads": [api_read("abc 123"), api_read("xyz-9", client_read_id="r-2")]}
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["stored"] == 2 and body["duplicate"] == 0
    assert [r["outcome"] for r in body["results"]] == ["stored", "stored"]
    assert body["results"][1]["client_read_id"] == "r-2"
    assert sorted(session.scalars(select(Read.plate))) == ["ABC123", "XYZ9"]
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == AuditAction.READS_INGESTED.value)
    ).one()
    assert entry.actor_label == "device:CAM-1"
    details = entry.detail.details_json
    assert '"stored":2' in details and "ABC123" not in details and "XYZ9" not in details


def test_tokens_missing_unknown_or_revoked_are_refused(client, session, camera):
    device, token = camera
    assert client.post(URL, json={"reads": [api_read()]}).status_code == 401
    unknown = post(client, "alpr_not-a-real-token", {"reads": [api_read()]})
    assert unknown.status_code == 401 and "unknown device token" in unknown.get_json()["error"]
    revoke_device(session, "test", device, "stolen car")
    session.commit()
    revoked = post(client, token, {"reads": [api_read()]})
    assert revoked.status_code == 403 and "revoked" in revoked.get_json()["error"]
    assert count_rows(session, Read) == 0


def test_resending_a_batch_stores_nothing_twice(client, session, camera):
    _, token = camera
    twice = api_read("DEF456", minutes_ago=8)
    batch = {"reads": [api_read("ABC123", minutes_ago=9, client_read_id="r-1"), twice, dict(twice)]}
    first = post(client, token, batch).get_json()
    assert [r["outcome"] for r in first["results"]] == ["stored", "stored", "duplicate"]
    second = post(client, token, batch).get_json()
    assert [r["outcome"] for r in second["results"]] == ["duplicate"] * 3
    assert second["stored"] == 0 and second["duplicate"] == 3
    assert count_rows(session, Read) == 2
    period = session.scalars(select(ActiveUsePeriod)).one()
    assert period.plates_read == 2  # a resend is not a new plate read


def test_the_same_client_read_id_from_another_device_is_another_read(client, session, camera):
    _, token = camera
    _, other_token = create_device(session, "test", serial="CAM-2", kind="mobile")
    session.commit()
    same = {"reads": [api_read(client_read_id="r-1")]}
    assert post(client, token, same).get_json()["stored"] == 1
    assert post(client, other_token, same).get_json()["stored"] == 1
    assert count_rows(session, Read) == 2


def test_listed_plates_create_hits_each_audited(client, session, camera):
    _, token = camera
    load_hotlist(
        session,
        "test",
        b"plate,category,reference\nSTOLE1,stolen_vehicle,N-1\nWANT1,warrant,W-9\nWANT1,stolen_plate,N-2\n",
    )
    session.commit()
    body = post(
        client, token, {"reads": [api_read("STOLE1"), api_read("CLEAN1"), api_read("want 1")]}
    ).get_json()
    assert body["hits"] == 3
    hits = session.scalars(select(Hit).order_by(Hit.id)).all()
    assert {(h.read.plate, h.category, h.hotlist_reference) for h in hits} == {
        ("ST0LE1", "stolen_vehicle", "N-1"),
        ("WANT1", "warrant", "W-9"),
        ("WANT1", "stolen_plate", "N-2"),
    }
    hit_entries = session.scalars(
        select(AuditEntry).where(AuditEntry.action == AuditAction.HIT_CREATED.value)
    ).all()
    assert sorted(int(e.subject_id) for e in hit_entries) == sorted(h.id for h in hits)


def test_an_acp_participants_plate_is_destroyed_at_collection(app, client, session, camera):
    _, token = camera
    request = AcpRequest(
        participant_number="ACP-1",
        received_on=local_today(),
        status=AcpStatus.SUPPRESSION_ACTIVE.value,
    )
    request.plates = [AcpPlate(plate_hmac=plate_hmac(app.config["ACP_HMAC_KEY"], "HIDE42"))]
    session.add(request)
    session.commit()
    body = post(client, token, {"reads": [api_read("HIDE42"), api_read("SHOW42")]}).get_json()
    assert [r["outcome"] for r in body["results"]] == ["destroyed_acp", "stored"]
    assert body["destroyed_acp"] == 1
    assert list(session.scalars(select(Read.plate))) == ["SH0W42"]  # O folded into 0
    period = session.scalars(select(ActiveUsePeriod)).one()
    assert period.plates_read == 2  # destroyed at collection, still counted in the log of use
    session.rollback()
    assert session.get(AcpRequest, request.id).destroyed_at_collection == 1


def test_a_resent_read_stored_before_suppression_began_is_a_duplicate(app, client, session, camera):
    """The read is already held (the ACP job destroys it); its resend must not count again."""
    _, token = camera
    batch = {"reads": [api_read("HIDE42", minutes_ago=7), api_read("SHOW42", minutes_ago=6)]}
    assert post(client, token, batch).get_json()["stored"] == 2
    request = AcpRequest(
        participant_number="ACP-2",
        received_on=local_today(),
        status=AcpStatus.SUPPRESSION_ACTIVE.value,
    )
    request.plates = [AcpPlate(plate_hmac=plate_hmac(app.config["ACP_HMAC_KEY"], "HIDE42"))]
    session.add(request)
    session.commit()
    again = post(client, token, batch).get_json()
    assert [r["outcome"] for r in again["results"]] == ["duplicate", "duplicate"]
    assert again["destroyed_acp"] == 0
    session.rollback()
    assert session.scalars(select(ActiveUsePeriod)).one().plates_read == 2
    assert session.get(AcpRequest, request.id).destroyed_at_collection == 0


def _suppress(app, session, plate: str, number: str) -> AcpRequest:
    request = AcpRequest(
        participant_number=number,
        received_on=local_today(),
        status=AcpStatus.SUPPRESSION_ACTIVE.value,
    )
    request.plates = [AcpPlate(plate_hmac=plate_hmac(app.config["ACP_HMAC_KEY"], plate))]
    session.add(request)
    session.commit()
    return request


@pytest.mark.parametrize("client_id", [True, False])
def test_a_resent_read_destroyed_at_collection_counts_once(app, client, session, camera, client_id):
    """The read was never stored, yet its resend is known (a keyed digest, no plate)."""
    _, token = camera
    request = _suppress(app, session, "HIDE42", "ACP-3")
    extra = {"client_read_id": "cam-7"} if client_id else {}
    batch = {
        "reads": [api_read("HIDE42", minutes_ago=7, **extra), api_read("SHOW42", minutes_ago=6)]
    }
    first = post(client, token, batch).get_json()
    again = post(client, token, batch).get_json()
    assert [r["outcome"] for r in first["results"]] == ["destroyed_acp", "stored"]
    assert [r["outcome"] for r in again["results"]] == ["duplicate", "duplicate"]
    session.rollback()
    session.expire_all()  # objects kept from the set-up's commit
    assert session.scalars(select(ActiveUsePeriod)).one().plates_read == 2
    assert session.get(AcpRequest, request.id).destroyed_at_collection == 1
    (kept,) = session.scalars(select(AcpDestroyedRead)).all()
    assert "HIDE42" not in kept.key_hmac and "cam-7" not in kept.key_hmac
    details = [d.details_json or "" for d in session.scalars(select(AuditDetail))]
    assert not any("HIDE42" in text for text in details)


def test_a_resent_deferred_read_counts_once(app, client, session, camera):
    device, token = camera
    request = _suppress(app, session, "HELD42", "ACP-4")
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF])
    place_hold(
        session,
        chief,
        InvestigationFactory(),
        utcnow() - timedelta(hours=1),
        utcnow(),
        device_ids=[device.id],
    )
    session.commit()
    batch = {"reads": [api_read("HELD42")]}
    assert post(client, token, batch).get_json()["results"][0]["outcome"] == "stored"
    assert post(client, token, batch).get_json()["results"][0]["outcome"] == "duplicate"
    session.rollback()
    session.expire_all()  # objects kept from the set-up's commit
    assert session.get(AcpRequest, request.id).deferred == 1
    assert session.scalars(select(ActiveUsePeriod)).one().plates_read == 1


def assert_resend_counted_nowhere(client, token, session, batch, request_id, counted_as):
    """The one read was counted once (as `counted_as` on the request); its resend adds nothing."""
    again = post(client, token, batch).get_json()
    assert again["results"][0]["outcome"] == "duplicate" and again["destroyed_acp"] == 0
    session.rollback()
    session.expire_all()
    assert session.scalars(select(ActiveUsePeriod)).one().plates_read == 1
    request = session.get(AcpRequest, request_id)
    assert (getattr(request, counted_as), request.destroyed_at_collection) == (1, 0)


@pytest.mark.parametrize("client_id", [True, False])
def test_a_resent_read_destroyed_as_existing_data_counts_once(
    app, client, session, camera, client_id
):
    """Stored, then destroyed with the participant's existing data: its resend is a duplicate."""
    _, token = camera
    extra = {"client_read_id": "cam-9"} if client_id else {}
    batch = {"reads": [api_read("HIDE42", minutes_ago=7, **extra)]}
    assert post(client, token, batch).get_json()["stored"] == 1
    records = UserFactory(roles=[Role.RECORDS])
    request = receive_acp_request(
        session,
        records,
        participant_number="ACP-6",
        plates=["HIDE42"],
        received_on=local_today(),
        paper_original=PAPER_ORIGINAL,
    )
    verify_acp_request(session, records, request)
    assert destroy_existing_acp_data(session, records, request).destroyed == 1
    session.commit()

    assert_resend_counted_nowhere(client, token, session, batch, request.id, "existing_destroyed")


def test_a_resent_deferred_read_the_purge_destroyed_counts_once(app, client, session, camera):
    """Kept for a case, destroyed once it closed (well within 60 days): its resend is known."""
    device, token = camera
    request = _suppress(app, session, "HELD42", "ACP-7")
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF])
    case = InvestigationFactory()
    place_hold(
        session, chief, case, utcnow() - timedelta(hours=1), utcnow(), device_ids=[device.id]
    )
    session.commit()
    batch = {"reads": [api_read("HELD42")]}
    assert post(client, token, batch).get_json()["results"][0]["outcome"] == "stored"
    close_investigation(session, chief, case, "Charged", local_today())
    session.commit()
    assert run_purge(app).acp_deferred_destroyed == 1

    assert_resend_counted_nowhere(client, token, session, batch, request.id, "deferred")


def test_the_purge_forgets_digests_of_reads_past_retention(app, client, session, camera):
    _, token = camera
    _suppress(app, session, "HIDE42", "ACP-5")
    post(client, token, {"reads": [api_read("HIDE42")]})
    run_purge(app)
    assert session.scalars(select(func.count()).select_from(AcpDestroyedRead)).one() == 1
    session.rollback()  # end the snapshot before the purge's own sessions write
    assert run_purge(app, now=utcnow() + timedelta(days=61)).acp_digests_forgotten == 1
    assert session.scalars(select(func.count()).select_from(AcpDestroyedRead)).one() == 0


def test_other_agency_reads_import_records_the_agency(app, session, tmp_path):
    agency = create_agency(session, "test", name="La Crosse Police", ori="WI0320100")
    session.commit()
    when = (utcnow() - timedelta(days=2)).isoformat()
    csv_file = tmp_path / "reads.csv"
    csv_file.write_text(
        "plate,captured_at,latitude,longitude,client_read_id\n"
        f"abc-123,{when},43.81,-91.25,lx-1\n"
        f"XYZ789,{when},43.82,-91.26,\n"
    )
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reads", "import", str(csv_file), "--agency", "La Crosse Police"])
    assert result.exit_code == 0, result.output
    assert "stored 2" in result.output
    rows = session.scalars(select(Read).order_by(Read.plate)).all()
    assert [(r.plate, r.source_agency_id, r.device_id, r.active_use_period_id) for r in rows] == [
        ("ABC123", agency.id, None, None),
        ("XYZ789", agency.id, None, None),
    ]
    again = runner.invoke(args=["reads", "import", str(csv_file), "--agency", "La Crosse Police"])
    assert again.exit_code == 0 and "stored 0, duplicate 2" in again.output
    assert count_rows(session, Read) == 2
    assert AuditAction.READS_IMPORTED.value in actions(session)


def test_other_agency_import_refuses_bad_rows_and_extra_columns_whole(app, session, tmp_path):
    create_agency(session, "test", name="Rochester PD")
    session.commit()
    when = (utcnow() - timedelta(days=1)).isoformat()
    runner = app.test_cli_runner()
    bad_row = tmp_path / "bad.csv"
    bad_row.write_text(
        f"plate,captured_at,latitude,longitude\nGOOD1,{when},44,-92\nBAD!,{when},95,-92\n"
    )
    result = runner.invoke(args=["reads", "import", str(bad_row), "--agency", "Rochester PD"])
    assert result.exit_code != 0 and "line 3" in result.output and "latitude" in result.output
    extra = tmp_path / "extra.csv"
    extra.write_text(f"plate,captured_at,latitude,longitude,owner\nGOOD1,{when},44,-92,Jo\n")
    result = runner.invoke(args=["reads", "import", str(extra), "--agency", "Rochester PD"])
    assert result.exit_code != 0 and "owner" in result.output
    unknown = runner.invoke(args=["reads", "import", str(extra), "--agency", "Nobody"])
    assert unknown.exit_code != 0 and "No agency named" in unknown.output
    assert count_rows(session, Read) == 0
