"""The hash chain: appends, verification, tampering of every kind, redaction, the CLI."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text, update

from app.audit.actions import AuditAction
from app.audit.models import AuditChainHead, AuditDetail, AuditEntry
from app.audit.services import AuditError, record, redact_many, verify
from app.db import utcnow


def append_entries(session, count: int = 5) -> list[AuditEntry]:
    entries = [
        record(session, "test", AuditAction.USER_CREATED, ("user", i), {"n": i, "note": "ä€"})
        for i in range(count)
    ]
    session.commit()
    return entries


def test_entries_chain_and_verify(session):
    entries = append_entries(session)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[1].prev_hash == entries[0].entry_hash
    result = verify(session)
    assert result.ok and result.entries == 5


def test_empty_chain_verifies(session):
    assert verify(session).ok


def test_record_refuses_unknown_action(session):
    with pytest.raises(AuditError):
        record(session, "test", "made.up", None, {})


def test_rollback_takes_the_entry_with_it(session):
    append_entries(session, 2)
    record(session, "test", AuditAction.USER_CREATED, None, {"n": 99})
    session.rollback()
    append_entries(session, 1)
    result = verify(session)
    assert result.ok and result.entries == 3


TAMPERS = {
    "occurred_at": lambda e: {"occurred_at": utcnow()},
    "actor_label": lambda e: {"actor_label": "someone-else"},
    "action": lambda e: {"action": "auth.logout"},
    "subject_type": lambda e: {"subject_type": "device"},
    "subject_id": lambda e: {"subject_id": "999"},
    "details_digest": lambda e: {"details_digest": "f" * 64},
    "prev_hash": lambda e: {"prev_hash": "e" * 64},
    "entry_hash": lambda e: {"entry_hash": "d" * 64},
}


@pytest.mark.parametrize("column", list(TAMPERS))
def test_changing_any_column_is_caught_and_named(session, column):
    entries = append_entries(session)
    target = entries[2]
    session.execute(
        update(AuditEntry).where(AuditEntry.id == target.id).values(**TAMPERS[column](target))
    )
    session.commit()
    result = verify(session)
    assert not result.ok
    assert result.first_bad_id == target.id, result.describe()


def test_changing_seq_is_caught(session):
    entries = append_entries(session)
    session.execute(update(AuditEntry).where(AuditEntry.id == entries[2].id).values(seq=100))
    session.commit()
    result = verify(session)
    assert not result.ok
    assert result.first_bad_id == entries[3].id  # seq 3 is now missing: the gap is named


def test_changing_details_is_caught(session):
    entries = append_entries(session)
    session.execute(
        update(AuditDetail)
        .where(AuditDetail.entry_id == entries[1].id)
        .values(details_json='{"n":1,"note":"forged"}')
    )
    session.commit()
    result = verify(session)
    assert not result.ok and result.first_bad_id == entries[1].id
    assert "digest" in result.reason


def test_deleting_details_without_redaction_is_caught(session):
    entries = append_entries(session)
    session.execute(
        update(AuditDetail).where(AuditDetail.entry_id == entries[3].id).values(details_json=None)
    )
    session.commit()
    result = verify(session)
    assert not result.ok and result.first_bad_id == entries[3].id


def test_deleting_an_entry_is_caught(session):
    entries = append_entries(session)
    session.execute(text("DELETE FROM audit_details WHERE entry_id = :i"), {"i": entries[2].id})
    session.execute(text("DELETE FROM audit_entries WHERE id = :i"), {"i": entries[2].id})
    session.commit()
    result = verify(session)
    assert not result.ok
    assert result.first_bad_id == entries[3].id
    assert "gap" in result.reason


def test_deleting_the_last_entry_is_caught_by_the_head(session):
    entries = append_entries(session)
    session.execute(text("DELETE FROM audit_details WHERE entry_id = :i"), {"i": entries[4].id})
    session.execute(text("DELETE FROM audit_entries WHERE id = :i"), {"i": entries[4].id})
    session.commit()
    result = verify(session)
    assert not result.ok and "head" in result.reason


def test_deleting_the_last_entries_with_the_head_is_caught(session):
    entries = append_entries(session)
    for entry in entries[2:]:
        session.execute(text("DELETE FROM audit_details WHERE entry_id = :i"), {"i": entry.id})
        session.execute(text("DELETE FROM audit_entries WHERE id = :i"), {"i": entry.id})
    session.execute(text("DELETE FROM audit_chain_head"))
    session.commit()
    result = verify(session)
    assert not result.ok and "head is missing" in result.reason
    assert result.first_bad_id == entries[1].id


def test_inserting_a_forged_entry_is_caught(session):
    entries = append_entries(session)
    # Make room after entry 2 and insert a forged entry there with a plausible prev_hash.
    session.execute(update(AuditEntry).where(AuditEntry.seq > 2).values(seq=AuditEntry.seq + 100))
    session.flush()
    forged = AuditEntry(
        id=entries[-1].id + 1,
        seq=3,
        occurred_at=utcnow(),
        actor_user_id=None,
        actor_label="forger",
        action="auth.login",
        subject_type=None,
        subject_id=None,
        details_digest="0" * 64,
        prev_hash=entries[1].entry_hash,
        entry_hash="a" * 64,
    )
    session.add(forged)
    session.flush()
    session.execute(update(AuditEntry).where(AuditEntry.seq > 100).values(seq=AuditEntry.seq - 99))
    session.commit()
    result = verify(session)
    assert not result.ok and result.first_bad_id == forged.id


def test_swapping_two_entries_is_caught(session):
    entries = append_entries(session)
    a, b = entries[1], entries[2]
    a_seq, b_seq = a.seq, b.seq
    session.execute(update(AuditEntry).where(AuditEntry.id == a.id).values(seq=1_000_000))
    session.flush()
    session.execute(update(AuditEntry).where(AuditEntry.id == b.id).values(seq=a_seq))
    session.execute(update(AuditEntry).where(AuditEntry.id == a.id).values(seq=b_seq))
    session.commit()
    result = verify(session)
    assert not result.ok and result.first_bad_id == b.id


def test_swapping_contents_of_two_entries_is_caught(session):
    entries = append_entries(session)
    a, b = entries[1], entries[2]
    a_vals = {"actor_label": a.actor_label, "subject_id": a.subject_id}
    b_vals = {"actor_label": b.actor_label, "subject_id": b.subject_id}
    session.execute(update(AuditEntry).where(AuditEntry.id == a.id).values(**b_vals))
    session.execute(update(AuditEntry).where(AuditEntry.id == b.id).values(**a_vals))
    session.commit()
    result = verify(session)
    assert not result.ok and result.first_bad_id == a.id


def test_redaction_keeps_the_chain_valid_and_shows_as_redacted(session):
    entries = append_entries(session)
    redact_many(session, "records-officer", [entries[1].id], "ACP participant data")
    session.commit()
    result = verify(session)
    assert result.ok and result.entries == 6
    detail = session.get(AuditDetail, entries[1].id)
    session.refresh(detail)
    assert detail.details_json is None
    assert detail.redacted_reason == "ACP participant data"
    last = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert last.action == AuditAction.AUDIT_DETAILS_REDACTED.value


def _mark_redacted(session, entry_id: int, **values) -> None:
    """What someone with database access could do: flag an entry redacted without the service."""
    session.execute(
        update(AuditDetail)
        .where(AuditDetail.entry_id == entry_id)
        .values(redacted_at=utcnow(), redacted_reason="routine", **values)
    )
    session.commit()


def test_marking_redacted_and_rewriting_details_is_caught(app, session):
    entries = append_entries(session)
    _mark_redacted(session, entries[1].id, details_json='{"n":1,"note":"forged"}')
    result = verify(session)
    assert not result.ok and result.first_bad_id == entries[1].id, result.describe()
    assert result.first_bad_seq == entries[1].seq and "holds details" in result.reason
    bad = app.test_cli_runner().invoke(args=["audit", "verify", "--no-record"])
    assert bad.exit_code == 1
    assert f"audit chain BROKEN at entry id={entries[1].id} seq={entries[1].seq}:" in bad.output


def test_marking_redacted_while_keeping_details_is_caught(session):
    entries = append_entries(session)
    _mark_redacted(session, entries[2].id)
    result = verify(session)
    assert not result.ok and result.first_bad_id == entries[2].id, result.describe()
    assert "holds details" in result.reason


def test_blanking_details_as_if_redacted_without_a_record_is_caught(session):
    entries = append_entries(session)
    _mark_redacted(session, entries[2].id, details_json=None)
    result = verify(session)
    assert not result.ok and result.first_bad_id == entries[2].id, result.describe()
    assert result.first_bad_seq == 3 and result.entries == 2
    assert "no later entry records the redaction" in result.reason


def test_a_redaction_record_covers_only_the_entry_it_names(session):
    entries = append_entries(session)
    redact_many(session, "records-officer", [entries[0].id], "ACP participant data")
    session.commit()
    _mark_redacted(session, entries[3].id, details_json=None)
    result = verify(session)
    assert not result.ok and result.first_bad_id == entries[3].id, result.describe()


def test_changing_a_genuine_redactions_reason_is_caught(session):
    entries = append_entries(session)
    redact_many(session, "records-officer", [entries[1].id], "court order 123")
    session.commit()
    session.execute(
        update(AuditDetail)
        .where(AuditDetail.entry_id == entries[1].id)
        .values(redacted_reason="something else")
    )
    session.commit()
    result = verify(session)
    assert not result.ok and result.first_bad_id == entries[1].id
    assert "reason differs" in result.reason


def test_redaction_is_recorded_by_entry_id_and_reason_never_content(session):
    entries = append_entries(session, 2)
    redact_many(session, "records-officer", [entries[0].id], "court order 123")
    session.commit()
    record_entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert record_entry.action == AuditAction.AUDIT_DETAILS_REDACTED.value
    assert json.loads(record_entry.detail.details_json) == {
        "reason": "court order 123",
        "entries": [entries[0].id],
    }
    # Redacting the same entry twice keeps the first reason and both records verify.
    redact_many(session, "records-officer", [entries[0].id], "second look")
    session.commit()
    assert verify(session).ok


def test_a_broken_link_is_named_before_an_unrecorded_redaction(session):
    entries = append_entries(session)
    _mark_redacted(session, entries[1].id, details_json=None)
    session.execute(
        update(AuditEntry).where(AuditEntry.id == entries[3].id).values(actor_label="tampered")
    )
    session.commit()
    result = verify(session)
    assert not result.ok and result.first_bad_id == entries[3].id


def test_redaction_needs_a_reason(session):
    entries = append_entries(session, 1)
    with pytest.raises(AuditError):
        redact_many(session, "x", [entries[0].id], "  ")


def test_redacted_entry_shows_as_redacted_in_the_trail(client, session, login_as):
    from app.auth.models import Role

    entries = append_entries(session, 2)
    redact_many(session, "records-officer", [entries[0].id], "court order 123")
    session.commit()
    login_as(Role.AUDITOR, trained=True)
    html = client.get("/audit/").get_data(as_text=True)
    assert "redacted" in html and "court order 123" in html


def test_head_row_tracks_the_last_entry(session):
    entries = append_entries(session, 3)
    head = session.get(AuditChainHead, 1)
    session.refresh(head)
    assert head.seq == 3 and head.entry_hash == entries[-1].entry_hash


def test_cli_verify_exit_codes_and_names_the_bad_entry(app, session):
    entries = append_entries(session)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "intact" in ok.output
    session.execute(
        update(AuditEntry).where(AuditEntry.id == entries[2].id).values(actor_label="tampered")
    )
    session.commit()
    bad = runner.invoke(args=["audit", "verify"])
    assert bad.exit_code == 1
    assert f"id={entries[2].id}" in bad.output
    assert "seq=3" in bad.output


def test_auditor_can_run_a_verification_from_the_page(client, session, login_as):
    from app.auth.models import Role
    from tests.helpers import form_csrf

    login_as(Role.AUDITOR, trained=True)
    token = form_csrf(client, "/audit/")
    response = client.post("/audit/verify", data={"csrf_token": token}, follow_redirects=True)
    assert "audit chain intact" in response.get_data(as_text=True)
    home = client.get("/").get_data(as_text=True)
    assert "intact" in home


def test_record_many_appends_in_order_under_one_lock(session):
    from app.audit.services import PendingEntry, record_many

    first = append_entries(session, 1)[0]
    entries = record_many(
        session,
        [PendingEntry("test", AuditAction.HIT_CREATED, ("hits", n), {"n": n}) for n in range(3)],
    )
    session.commit()
    assert [e.seq for e in entries] == [2, 3, 4]
    assert entries[0].prev_hash == first.entry_hash
    assert entries[2].prev_hash == entries[1].entry_hash
    assert verify(session).ok
    assert record_many(session, []) == []
