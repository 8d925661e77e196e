"""POST /api/v1/agency-reads: reads another agency shares, kept like our own (policy 425.5)."""

from __future__ import annotations

import json
from functools import partial

import pytest
from sqlalchemy import select

from app.alpr.devices import create_device
from app.alpr.hotlists import load_hotlist
from app.audit.actions import AuditAction
from app.auth.access import rule_for_endpoint
from app.auth.agencies import create_agency, issue_agency_token, revoke_agency_token
from app.auth.errors import AccountError
from app.auth.models import Agency
from app.db import utcnow
from app.reads.models import ActiveUsePeriod, Hit, Read
from app.retention.models import AcpRequest
from tests.factories import AcpSuppressionFactory, api_read
from tests.helpers import count_rows, entries, post_json

URL = "/api/v1/agency-reads"
DEVICE_URL = "/api/v1/reads"


@pytest.fixture
def partner(session):
    agency = create_agency(session, "test", name="La Crosse Police", ori="WI0320100")
    token = issue_agency_token(session, "test", agency)
    session.commit()
    return agency, token


post = partial(post_json, url=URL)


def test_the_endpoint_is_reached_only_with_a_token_not_a_login(app):
    rule = rule_for_endpoint(app, "alpr_api.post_agency_reads")
    assert rule is not None and rule.bearer_token and not rule.public and not rule.roles


def test_shared_reads_are_stored_with_their_agency_and_no_period_of_use(client, session, partner):
    agency, token = partner
    response = post(
        client, token, {"reads": [api_read("abc 123"), api_read("xyz-9", client_read_id="lx-2")]}
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["agency"] == "La Crosse Police"
    assert (body["received"], body["stored"], body["duplicate"]) == (2, 2, 0)
    assert [r["outcome"] for r in body["results"]] == ["stored", "stored"]
    assert body["results"][1]["client_read_id"] == "lx-2"
    session.rollback()
    rows = session.scalars(select(Read).order_by(Read.plate)).all()
    assert [(r.plate, r.source_agency_id, r.device_id, r.active_use_period_id) for r in rows] == [
        ("ABC123", agency.id, None, None),
        ("XYZ9", agency.id, None, None),
    ]
    assert {r.id for r in rows} == {item["read_id"] for item in body["results"]}
    assert count_rows(session, ActiveUsePeriod) == 0  # not this department's use of an ALPR


def test_one_audit_entry_records_the_batchs_counts_and_no_plates(client, session, partner):
    agency, token = partner
    post(client, token, {"reads": [api_read("AUD111"), api_read("AUD222")]})
    (entry,) = entries(session, AuditAction.READS_IMPORTED)
    assert entry.actor_label == "agency:La Crosse Police"
    assert (entry.subject_type, entry.subject_id) == ("agencies", str(agency.id))
    details = json.loads(entry.detail.details_json)
    assert details["received"] == 2 and details["stored"] == 2
    assert details["duplicate"] == 0 and details["destroyed_acp"] == 0 and details["hits"] == 0
    assert details["active_use_periods"] == []
    assert "AUD111" not in entry.detail.details_json and "AUD222" not in entry.detail.details_json
    assert entries(session, AuditAction.READS_INGESTED) == []


def test_a_resend_is_a_duplicate_and_stores_nothing_twice(client, session, partner):
    _, token = partner
    batch = {
        "reads": [api_read("ABC123", minutes_ago=9, client_read_id="lx-1"), api_read("DEF456")]
    }
    assert post(client, token, batch).get_json()["stored"] == 2
    again = post(client, token, batch).get_json()
    assert [r["outcome"] for r in again["results"]] == ["duplicate", "duplicate"]
    assert again["stored"] == 0 and again["duplicate"] == 2
    assert count_rows(session, Read) == 2


def test_another_agencys_same_read_is_another_api_read(client, session, partner):
    _, token = partner
    other = create_agency(session, "test", name="Rochester PD")
    other_token = issue_agency_token(session, "test", other)
    session.commit()
    same = api_read(client_read_id="r-1")
    assert post(client, token, {"reads": [same]}).get_json()["stored"] == 1
    assert post(client, other_token, {"reads": [same]}).get_json()["stored"] == 1
    assert count_rows(session, Read) == 2


def test_tokens_missing_unknown_or_revoked_are_refused(client, session, partner):
    agency, token = partner
    missing = client.post(URL, json={"reads": [api_read()]})
    assert missing.status_code == 401 and missing.is_json
    assert "Bearer" in missing.headers["WWW-Authenticate"]
    unknown = post(client, "alpr_not-a-real-token", {"reads": [api_read()]})
    assert unknown.status_code == 401 and "unknown agency token" in unknown.get_json()["error"]
    revoke_agency_token(session, "test", agency, "partnership ended")
    session.commit()
    revoked = post(client, token, {"reads": [api_read()]})
    assert revoked.status_code == 403 and "revoked" in revoked.get_json()["error"]
    assert count_rows(session, Read) == 0


def test_a_new_token_replaces_the_old_one(client, session, partner):
    agency, old = partner
    new = issue_agency_token(session, "test", agency)
    session.commit()
    assert post(client, old, {"reads": [api_read()]}).status_code == 401
    assert post(client, new, {"reads": [api_read()]}).status_code == 200
    revoke_agency_token(session, "test", agency)
    session.commit()
    again = issue_agency_token(session, "test", agency)  # a revoked token can be replaced
    session.commit()
    assert post(client, new, {"reads": [api_read("NEW1")]}).status_code == 401
    assert post(client, again, {"reads": [api_read("NEW1")]}).status_code == 200


def test_only_the_digest_of_a_token_is_stored(session, partner):
    agency, token = partner
    session.rollback()
    stored = session.get(Agency, agency.id)
    assert stored.api_token_hash and stored.api_token_hash != token
    assert token not in stored.api_token_hash and token.startswith(stored.api_token_hint)
    for entry in entries(session, AuditAction.AGENCY_TOKEN_ISSUED):
        assert token not in entry.detail.details_json


def test_device_and_agency_tokens_each_open_only_their_own_endpoint(client, session, partner):
    _, agency_token = partner
    _, device_token = create_device(session, "test", serial="CAM-1", kind="mobile")
    session.commit()
    by_device = post(client, device_token, {"reads": [api_read()]})
    assert by_device.status_code == 401 and "unknown agency token" in by_device.get_json()["error"]
    by_agency = post(client, agency_token, {"reads": [api_read()]}, url=DEVICE_URL)
    assert by_agency.status_code == 401 and "unknown device token" in by_agency.get_json()["error"]
    image = client.post(
        "/api/v1/reads/image",
        data={"captured_at": utcnow().isoformat(), "latitude": "44", "longitude": "-91"},
        headers={"Authorization": f"Bearer {agency_token}"},
    )
    assert image.status_code == 401
    assert count_rows(session, Read) == 0


def test_listed_plates_create_hits(client, session, partner):
    agency, token = partner
    load_hotlist(session, "test", b"plate,category,reference\nSTOLE1,stolen_vehicle,N-1\n")
    session.commit()
    body = post(client, token, {"reads": [api_read("STOLE1"), api_read("CLEAN1")]}).get_json()
    assert body["hits"] == 1
    session.rollback()
    hit = session.scalars(select(Hit)).one()
    assert (hit.read.plate, hit.read.source_agency_id, hit.category) == (
        "ST0LE1",
        agency.id,
        "stolen_vehicle",
    )
    (hit_entry,) = entries(session, AuditAction.HIT_CREATED)
    assert hit_entry.subject_id == str(hit.id)
    assert hit_entry.actor_label == "agency:La Crosse Police"
    assert count_rows(session, ActiveUsePeriod) == 0


def test_an_acp_participants_plate_is_destroyed_at_collection(client, session, partner):
    _, token = partner
    request = AcpSuppressionFactory(suppressed=["HIDE42"])
    body = post(client, token, {"reads": [api_read("HIDE42"), api_read("SHOW42")]}).get_json()
    assert [r["outcome"] for r in body["results"]] == ["destroyed_acp", "stored"]
    assert body["destroyed_acp"] == 1
    assert list(session.scalars(select(Read.plate))) == ["SH0W42"]
    session.rollback()
    assert session.get(AcpRequest, request.id).destroyed_at_collection == 1
    (entry,) = entries(session, AuditAction.READS_IMPORTED)
    assert json.loads(entry.detail.details_json)["destroyed_acp"] == 1
    assert "HIDE42" not in entry.detail.details_json


def test_token_services_refuse_what_makes_no_sense(session):
    agency = create_agency(session, "test", name="Winona County Sheriff")
    session.commit()
    with pytest.raises(AccountError, match="no API token"):
        revoke_agency_token(session, "test", agency)
    issue_agency_token(session, "test", agency)
    revoke_agency_token(session, "test", agency)
    with pytest.raises(AccountError, match="already revoked"):
        revoke_agency_token(session, "test", agency)


# --- flask --app wsgi agencies ... ---------------------------------------------------------


def test_cli_issue_rotate_and_revoke_are_audited_and_work(app, client, session):
    runner = app.test_cli_runner()
    created = runner.invoke(args=["agencies", "create", "--name", "Rochester PD", "--ori", "mn1"])
    assert created.exit_code == 0, created.output
    issued = runner.invoke(args=["agencies", "issue-token", "--name", "Rochester PD"])
    assert issued.exit_code == 0, issued.output
    token = issued.output.strip().splitlines()[-1]
    assert token.startswith("alpr_") and " " not in token
    assert post(client, token, {"reads": [api_read()]}).status_code == 200

    rotated = runner.invoke(args=["agencies", "issue-token", "--name", "Rochester PD"])
    assert rotated.exit_code == 0 and "old token no longer works" in rotated.output
    new_token = rotated.output.strip().splitlines()[-1]
    assert new_token != token
    assert post(client, token, {"reads": [api_read("OLD1")]}).status_code == 401
    assert post(client, new_token, {"reads": [api_read("NEW1")]}).status_code == 200

    listed = runner.invoke(args=["agencies", "list"])
    assert "Rochester PD\tMN1\tAPI token alpr_" in listed.output and new_token not in listed.output

    revoked = runner.invoke(
        args=["agencies", "revoke-token", "--name", "Rochester PD", "--reason", "leaked"]
    )
    assert revoked.exit_code == 0, revoked.output
    assert post(client, new_token, {"reads": [api_read("LATE1")]}).status_code == 403
    assert "revoked" in runner.invoke(args=["agencies", "list"]).output

    agency = session.scalars(select(Agency).where(Agency.name == "Rochester PD")).one()
    actions = [
        (e.action, e.actor_label, e.subject_id)
        for e in entries(session, AuditAction.AGENCY_TOKEN_ISSUED)
        + entries(session, AuditAction.AGENCY_TOKEN_ROTATED)
        + entries(session, AuditAction.AGENCY_TOKEN_REVOKED)
    ]
    assert actions == [
        ("agency.token_issued", "cli:agencies", str(agency.id)),
        ("agency.token_rotated", "cli:agencies", str(agency.id)),
        ("agency.token_revoked", "cli:agencies", str(agency.id)),
    ]
    (revocation,) = entries(session, AuditAction.AGENCY_TOKEN_REVOKED)
    assert json.loads(revocation.detail.details_json)["reason"] == "leaked"
    for action in (AuditAction.AGENCY_TOKEN_ISSUED, AuditAction.AGENCY_TOKEN_ROTATED):
        for entry in entries(session, action):
            assert token not in entry.detail.details_json
            assert new_token not in entry.detail.details_json


def test_cli_refuses_unknown_agencies_and_double_revocation(app, session):
    runner = app.test_cli_runner()
    unknown = runner.invoke(args=["agencies", "issue-token", "--name", "Nobody"])
    assert unknown.exit_code != 0 and "No agency named 'Nobody'" in unknown.output
    unknown = runner.invoke(args=["agencies", "revoke-token", "--name", "Nobody"])
    assert unknown.exit_code != 0 and "No agency named" in unknown.output
    create_agency(session, "test", name="Rochester PD")
    session.commit()
    none_yet = runner.invoke(args=["agencies", "revoke-token", "--name", "Rochester PD"])
    assert none_yet.exit_code != 0 and "no API token" in none_yet.output
    assert entries(session, AuditAction.AGENCY_TOKEN_REVOKED) == []
