"""Signed checkpoints catch the rewrites `audit verify` alone cannot see (issue 13 item 4)."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, text, update

from app.audit.actions import AuditAction
from app.audit.checkpoints import (
    CheckpointError,
    document,
    latest_checkpoint,
    public_key_hex,
    read_document,
    sign_checkpoint,
    signed_statement,
    verify_against,
)
from app.audit.models import AuditChainHead, AuditCheckpoint, AuditEntry
from app.audit.services import chain_hash, entry_header, record, verify
from app.config import ConfigurationError, audit_signing_key
from tests.integration.test_audit_chain import append_entries


def _saved(session, count: int = 6) -> dict:
    """A chain of `count` entries, a checkpoint of it, and the document the public saves."""
    append_entries(session, count)
    checkpoint = sign_checkpoint(session, "test")
    session.commit()
    return json.loads(json.dumps(document(checkpoint)))


def _proof(session, saved: dict):
    session.expire_all()
    return verify_against(session, saved, public_key_hex(session))


def _wipe(session) -> None:
    for table in ("audit_details", "audit_checkpoints", "audit_entries", "audit_chain_head"):
        session.execute(text(f"DELETE FROM {table}"))  # noqa: S608 (fixed table names)
    session.commit()


def _cut_tail(session, keep: int) -> None:
    """Delete every entry after seq `keep` and point the head row at the new last entry."""
    doomed = session.scalars(select(AuditEntry.id).where(AuditEntry.seq > keep)).all()
    session.execute(text("DELETE FROM audit_details WHERE entry_id >= :i"), {"i": min(doomed)})
    session.execute(text("DELETE FROM audit_entries WHERE seq > :k"), {"k": keep})
    last = session.scalars(select(AuditEntry).where(AuditEntry.seq == keep)).one()
    session.execute(update(AuditChainHead).values(seq=last.seq, entry_hash=last.entry_hash))
    session.commit()


def _recompute_from(session, seq: int, actor_label: str) -> None:
    """Rewrite entry `seq`, then recompute every later link and the head, as a forger would."""
    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    prev_hash = entries[seq - 2].entry_hash
    for entry in entries[seq - 1 :]:
        if entry.seq == seq:
            entry.actor_label = actor_label
        entry.prev_hash = prev_hash
        entry.entry_hash = chain_hash(prev_hash, entry_header(entry), entry.details_digest)
        prev_hash = entry.entry_hash
        session.flush()
    session.execute(update(AuditChainHead).values(entry_hash=prev_hash))
    session.commit()


def test_a_fresh_checkpoint_holds_and_its_signing_is_recorded(session):
    saved = _saved(session)
    assert saved["seq"] == 6
    proof = _proof(session, saved)
    assert proof.ok, proof.reason
    signed = session.scalars(
        select(AuditEntry).where(AuditEntry.action == AuditAction.AUDIT_CHECKPOINT_SIGNED.value)
    ).one()
    assert signed.seq == 7
    assert signed.subject_type == "audit_checkpoints"
    assert json.loads(signed.detail.details_json)["head_hash"] == saved["head_hash"]


def test_the_chain_growing_after_the_checkpoint_still_extends_it(session):
    saved = _saved(session)
    append_entries(session, 3)
    assert _proof(session, saved).ok


def test_a_wiped_trail_passes_verify_but_fails_the_checkpoint(session):
    saved = _saved(session)
    _wipe(session)
    assert verify(session).ok, "verify alone cannot see a wiped trail"
    proof = _proof(session, saved)
    assert not proof.ok and "entries were removed" in proof.reason


def test_a_cut_tail_with_the_head_rewritten_passes_verify_but_fails_the_checkpoint(session):
    saved = _saved(session)
    _cut_tail(session, keep=4)
    assert verify(session).ok, "verify alone cannot see a cut tail with a rewritten head"
    proof = _proof(session, saved)
    assert not proof.ok and "now ends at seq 4" in proof.reason


def test_a_chain_recomputed_from_an_early_entry_passes_verify_but_fails_the_checkpoint(session):
    saved = _saved(session)
    _recompute_from(session, 2, "someone-else")
    assert verify(session).ok, "verify alone cannot see a recomputed chain"
    proof = _proof(session, saved)
    assert not proof.ok and "rewritten" in proof.reason


def test_the_entry_hash_covers_the_row_id(session):
    entries = append_entries(session, 3)
    moved = entries[1]
    session.execute(text("DELETE FROM audit_details WHERE entry_id = :i"), {"i": moved.id})
    session.execute(
        text("UPDATE audit_entries SET id = :new WHERE id = :old"), {"new": 900, "old": moved.id}
    )
    session.commit()
    session.expire_all()
    result = verify(session)
    assert not result.ok and result.first_bad_id == 900
    assert "entry hash" in result.reason


def test_entries_take_ids_in_chain_order(session):
    entries = append_entries(session, 4)
    ids = [e.id for e in entries]
    assert ids == sorted(ids) and ids == list(range(ids[0], ids[0] + 4))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: d.update(seq=d["seq"] - 1), "signature does not match"),
        (lambda d: d.update(head_hash="a" * 64), "signature does not match"),
        (lambda d: d.update(signed_at="2020-01-01T00:00:00+00:00"), "signature does not match"),
        (lambda d: d.update(signature="00" * 64), "signature does not match"),
        (lambda d: d.update(signature="zz"), "not hex"),
        (lambda d: d.update(signature="00" * 10), "must be 64 bytes"),
        (lambda d: d.update(seq=-1), "0 or more"),
        (lambda d: d.update(seq=True), "whole number"),
        (lambda d: d.update(format="other/v9"), "unknown checkpoint format"),
        (lambda d: d.pop("signature"), "lacks signature"),
    ],
)
def test_an_altered_checkpoint_file_fails(session, change, reason):
    saved = _saved(session)
    change(saved)
    proof = _proof(session, saved)
    assert not proof.ok and reason in proof.reason


def test_a_checkpoint_signed_by_another_key_fails_even_when_self_consistent(session):
    saved = _saved(session)
    forger = Ed25519PrivateKey.generate()
    _recompute_from(session, 2, "someone-else")
    head = session.execute(select(AuditChainHead)).scalar_one()
    forged = dict(saved, head_hash=head.entry_hash, seq=head.seq)
    forged["signature"] = forger.sign(
        signed_statement(forged["seq"], forged["head_hash"], forged["signed_at"])
    ).hex()
    forged["public_key"] = (
        forger.public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        .hex()
    )
    proof = _proof(session, forged)
    assert not proof.ok and "different key" in proof.reason


def test_read_document_refuses_what_is_not_a_checkpoint():
    for text_, reason in [
        ("not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ("[" * 5000 + "]" * 5000, "not JSON"),
        ("{}", "lacks format"),
    ]:
        with pytest.raises(CheckpointError, match=reason):
            read_document(text_)


def test_signing_refuses_a_broken_chain(session):
    entries = append_entries(session, 3)
    session.execute(
        update(AuditEntry).where(AuditEntry.id == entries[1].id).values(actor_label="x")
    )
    session.commit()
    with pytest.raises(CheckpointError, match="broken chain"):
        sign_checkpoint(session, "test")
    session.rollback()
    assert session.scalar(select(AuditCheckpoint.id)) is None


def test_signing_refuses_a_chain_that_no_longer_extends_the_last_checkpoint(session):
    _saved(session)
    _recompute_from(session, 2, "someone-else")
    with pytest.raises(CheckpointError, match="rewritten"):
        sign_checkpoint(session, "test")


def test_latest_checkpoint_is_the_newest(session):
    _saved(session, 2)
    record(session, "test", AuditAction.USER_CREATED, None, {})
    newer = sign_checkpoint(session, "test")
    session.commit()
    assert latest_checkpoint(session).id == newer.id


def _write(tmp_path, saved: dict):
    path = tmp_path / "checkpoint.json"
    path.write_text(json.dumps(saved))
    return str(path)


def test_cli_verify_against_a_saved_checkpoint(app, session, tmp_path):
    saved = _saved(session)
    runner = app.test_cli_runner()
    good = runner.invoke(args=["audit", "verify", "--checkpoint", _write(tmp_path, saved)])
    assert good.exit_code == 0, good.output
    assert "checkpoint holds" in good.output
    _cut_tail(session, keep=3)
    plain = runner.invoke(args=["audit", "verify", "--no-record"])
    assert plain.exit_code == 0
    bad = runner.invoke(args=["audit", "verify", "--checkpoint", _write(tmp_path, saved)])
    assert bad.exit_code == 1
    assert "checkpoint FAILS" in bad.output and "entries were removed" in bad.output


def test_cli_checkpoint_file_errors_are_clear(app, tmp_path):
    path = tmp_path / "junk.json"
    path.write_text("{not json")
    result = app.test_cli_runner().invoke(args=["audit", "verify", "--checkpoint", str(path)])
    assert result.exit_code == 1 and "not JSON" in result.output


def test_cli_signs_and_prints_the_public_key(app, session):
    runner = app.test_cli_runner()
    signed = runner.invoke(args=["audit", "checkpoint"])
    assert signed.exit_code == 0 and "signed checkpoint at seq" in signed.output
    key = runner.invoke(args=["audit", "public-key"])
    assert key.output.strip() == public_key_hex(session)
    assert len(key.output.strip()) == 64


def test_cli_trusts_a_given_public_key_over_its_own(app, session, tmp_path):
    saved = _saved(session)
    other = Ed25519PrivateKey.generate().public_key()
    other_hex = other.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()
    result = app.test_cli_runner().invoke(
        args=["audit", "verify", "--checkpoint", _write(tmp_path, saved), "--public-key", other_hex]
    )
    assert result.exit_code == 1 and "different key" in result.output


def test_the_daily_job_and_the_purge_sign_checkpoints(app, session):
    from workers import retention, tasks

    append_entries(session, 2)
    with app.app_context():
        job = tasks.sign_audit_checkpoint()
        purge = retention.purge_expired_reads()
    session.expire_all()
    seqs = session.scalars(select(AuditCheckpoint.seq).order_by(AuditCheckpoint.id)).all()
    assert seqs == [job["seq"], purge["checkpoint_seq"]]
    assert purge["checkpoint_seq"] > job["seq"]


def test_the_schedules_sign_a_checkpoint_daily():
    from workers.schedules import SCHEDULES

    assert "sign_audit_checkpoint" in {s.name for s in SCHEDULES}


def _pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def test_the_signing_key_comes_from_a_file_and_production_demands_one(tmp_path, monkeypatch):
    monkeypatch.delenv("ALPR_AUDIT_SIGNING_KEY", raising=False)
    monkeypatch.delenv("ALPR_AUDIT_SIGNING_KEY_FILE", raising=False)
    monkeypatch.setenv("ALPR_ENV", "production")
    with pytest.raises(ConfigurationError, match="refuses to start without"):
        audit_signing_key(tmp_path)
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(_pem(Ed25519PrivateKey.generate()))
    monkeypatch.setenv("ALPR_AUDIT_SIGNING_KEY_FILE", str(key_file))
    assert audit_signing_key(tmp_path) == key_file.read_bytes()
    assert not (tmp_path / "audit_signing_key.pem").exists()


def test_a_bad_signing_key_is_refused_clearly(tmp_path, monkeypatch):
    from cryptography.hazmat.primitives.asymmetric import ec

    monkeypatch.delenv("ALPR_AUDIT_SIGNING_KEY_FILE", raising=False)
    monkeypatch.setenv("ALPR_AUDIT_SIGNING_KEY", "not a key")
    with pytest.raises(ConfigurationError, match="not an unencrypted PEM"):
        audit_signing_key(tmp_path)
    monkeypatch.setenv(
        "ALPR_AUDIT_SIGNING_KEY", _pem(ec.generate_private_key(ec.SECP256R1())).decode()
    )
    with pytest.raises(ConfigurationError, match="must be an Ed25519 key"):
        audit_signing_key(tmp_path)
    monkeypatch.delenv("ALPR_AUDIT_SIGNING_KEY")
    monkeypatch.setenv("ALPR_AUDIT_SIGNING_KEY_FILE", str(tmp_path / "missing.pem"))
    with pytest.raises(ConfigurationError, match="cannot be read"):
        audit_signing_key(tmp_path)


def test_development_generates_a_private_key_file_once(tmp_path, monkeypatch):
    monkeypatch.delenv("ALPR_AUDIT_SIGNING_KEY", raising=False)
    monkeypatch.delenv("ALPR_AUDIT_SIGNING_KEY_FILE", raising=False)
    monkeypatch.delenv("ALPR_ENV", raising=False)
    first = audit_signing_key(tmp_path)
    assert audit_signing_key(tmp_path) == first
    assert (tmp_path / "audit_signing_key.pem").stat().st_mode & 0o777 == 0o600


def test_the_public_page_shows_the_latest_checkpoint_and_serves_it_to_save(
    app, client, session, tmp_path
):
    assert client.get("/public/audit/checkpoint.json").status_code == 404
    _saved(session)
    newer = sign_checkpoint(session, "test")
    session.commit()
    page = client.get("/public/audit").get_data(as_text=True)
    assert newer.head_hash in page and newer.signature in page
    assert public_key_hex(session) in page
    saved = client.get("/public/audit/checkpoint.json")
    assert saved.status_code == 200 and "attachment" in saved.headers["Content-Disposition"]
    assert json.loads(saved.data) == document(newer)
    result = app.test_cli_runner().invoke(
        args=[
            "audit",
            "verify",
            "--checkpoint",
            _write(tmp_path, json.loads(saved.data)),
            "--public-key",
            public_key_hex(session),
        ]
    )
    assert result.exit_code == 0, result.output
