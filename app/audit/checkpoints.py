"""Signed checkpoints: the chain's length and head hash, signed with a key kept off the database.

`verify` proves the chain is consistent with itself, which whoever can write the database can
also arrange: wipe the tables, cut the tail and rewrite the head row, or recompute every hash
from an early entry. A checkpoint that the public has saved pins the chain at one moment;
:func:`verify_against` proves the current chain still extends it. The signed statement is a
small JSON document (:data:`CHECKPOINT_FORMAT`) anyone can keep and check with the public key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.actions import AuditAction
from app.audit.models import GENESIS_HASH, AuditChainHead, AuditCheckpoint, AuditEntry
from app.audit.services import bring_up_to_date, canonical_json, record, verify
from app.db import settings_of, utcnow

#: Names the document's shape; a verifier refuses any other.
CHECKPOINT_FORMAT = "alpr-records/audit-checkpoint/v1"
#: The fields a checkpoint document must carry.
DOCUMENT_FIELDS = ("format", "seq", "head_hash", "signed_at", "public_key", "signature")


class CheckpointError(RuntimeError):
    """A checkpoint could not be signed, read or proved."""


def _signing_key(session: Session) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(settings_of(session).audit_signing_key, None)
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointError("the audit signing key is not an Ed25519 key")
    return key


def public_key_hex(session: Session) -> str:
    """The installation's public key (raw, hex): what the public checks signatures against."""
    raw = (
        _signing_key(session)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    return raw.hex()


def signed_statement(seq: int, head_hash: str, signed_at: str) -> bytes:
    """The exact bytes signed: the statement without the key and the signature."""
    statement = {
        "format": CHECKPOINT_FORMAT,
        "seq": seq,
        "head_hash": head_hash,
        "signed_at": signed_at,
    }
    return canonical_json(statement).encode("utf-8")


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def document(checkpoint: AuditCheckpoint) -> dict[str, Any]:
    """The checkpoint as the JSON document the public saves."""
    return {
        "format": CHECKPOINT_FORMAT,
        "seq": checkpoint.seq,
        "head_hash": checkpoint.head_hash,
        "signed_at": _timestamp(checkpoint.signed_at),
        "public_key": checkpoint.public_key,
        "signature": checkpoint.signature,
    }


def latest_checkpoint(session: Session) -> AuditCheckpoint | None:
    """The most recent checkpoint, for the public page and the JSON download."""
    return session.scalars(
        select(AuditCheckpoint).order_by(AuditCheckpoint.seq.desc(), AuditCheckpoint.id.desc())
    ).first()


def sign_checkpoint(session: Session, actor: Any) -> AuditCheckpoint:
    """Sign the chain as it stands, but only a chain that verifies and extends the last one.

    Signing a tampered chain would vouch for the tampering; so the whole chain is verified
    first, and must still hold the entry the previous checkpoint pinned. Entries waiting for the
    sequencer are chained first, so the checkpoint covers every entry committed before it. The
    signing is then recorded as the next entry (the checkpoint covers the entries before it).
    """
    bring_up_to_date(session)
    result = verify(session)
    if not result.ok:
        raise CheckpointError(f"not signing a broken chain: {result.describe()}")
    previous = latest_checkpoint(session)
    if previous is not None:
        proof = verify_against(session, document(previous), previous.public_key)
        if not proof.ok:
            raise CheckpointError(f"not signing: {proof.reason}")
    head = session.execute(
        select(AuditChainHead.seq, AuditChainHead.entry_hash).where(AuditChainHead.id == 1)
    ).one_or_none()
    seq, head_hash = (head.seq, head.entry_hash) if head is not None else (0, GENESIS_HASH)
    signed_at = utcnow()
    key = _signing_key(session)
    signature = key.sign(signed_statement(seq, head_hash, _timestamp(signed_at)))
    checkpoint = AuditCheckpoint(
        seq=seq,
        head_hash=head_hash,
        signed_at=signed_at,
        public_key=public_key_hex(session),
        signature=signature.hex(),
    )
    session.add(checkpoint)
    session.flush()
    record(
        session,
        actor,
        AuditAction.AUDIT_CHECKPOINT_SIGNED,
        checkpoint,
        {"seq": seq, "head_hash": head_hash, "public_key": checkpoint.public_key},
    )
    return checkpoint


@dataclass(frozen=True)
class CheckpointProof:
    """Whether the current chain extends a saved checkpoint, and if not why."""

    ok: bool
    reason: str

    def describe(self) -> str:
        """One line for the CLI."""
        return ("checkpoint holds: " if self.ok else "checkpoint FAILS: ") + self.reason


def _hex_bytes(value: Any, name: str, length: int) -> bytes:
    if not isinstance(value, str):
        raise CheckpointError(f"the checkpoint's {name} must be a hex string")
    try:
        raw = bytes.fromhex(value)
    except ValueError as exc:
        raise CheckpointError(f"the checkpoint's {name} is not hex") from exc
    if len(raw) != length:
        raise CheckpointError(f"the checkpoint's {name} must be {length} bytes")
    return raw


def read_document(text: str) -> dict[str, Any]:
    """Parse a saved checkpoint file, refusing anything that is not one."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise CheckpointError("the checkpoint file is not JSON") from exc
    return checked_document(value)


def checked_document(value: Any) -> dict[str, Any]:
    """The document itself, once every field has the shape a checkpoint's has."""
    if not isinstance(value, dict):
        raise CheckpointError("the checkpoint file is not a JSON object")
    missing = [name for name in DOCUMENT_FIELDS if name not in value]
    if missing:
        raise CheckpointError(f"the checkpoint file lacks {', '.join(missing)}")
    if value["format"] != CHECKPOINT_FORMAT:
        raise CheckpointError(f"unknown checkpoint format {value['format']!r}")
    seq = value["seq"]
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        raise CheckpointError("the checkpoint's seq must be a whole number, 0 or more")
    _hex_bytes(value["head_hash"], "head_hash", 32)
    if not isinstance(value["signed_at"], str):
        raise CheckpointError("the checkpoint's signed_at must be a string")
    return value


def verify_against(session: Session, checkpoint: Any, trusted_public_key: str) -> CheckpointProof:
    """Prove the signature (by the trusted key), the whole chain, and that it holds the pin.

    The trusted key is the installation's own or one the verifier supplies, never only the
    key the file names: a forger can sign with a key of their own.
    """
    try:
        checkpoint = checked_document(checkpoint)
        trusted = _hex_bytes(trusted_public_key, "trusted public key", 32)
        named = _hex_bytes(checkpoint["public_key"], "public_key", 32)
        signature = _hex_bytes(checkpoint["signature"], "signature", 64)
    except CheckpointError as exc:
        return CheckpointProof(False, str(exc))
    if named != trusted:
        return CheckpointProof(False, "it was signed by a different key than the trusted one")
    seq, head_hash = checkpoint["seq"], checkpoint["head_hash"]
    try:
        Ed25519PublicKey.from_public_bytes(trusted).verify(
            signature, signed_statement(seq, head_hash, checkpoint["signed_at"])
        )
    except InvalidSignature:
        return CheckpointProof(False, "its signature does not match its contents")
    chain = verify(session)
    if not chain.ok:
        return CheckpointProof(False, f"the chain itself is broken: {chain.describe()}")
    if seq == 0:
        return CheckpointProof(True, f"the chain of {chain.entries} entries extends seq 0")
    if chain.entries < seq:
        return CheckpointProof(
            False,
            f"the checkpoint pins entry seq {seq} but the chain now ends at seq "
            f"{chain.entries}: entries were removed",
        )
    pinned = session.scalar(select(AuditEntry.entry_hash).where(AuditEntry.seq == seq))
    if pinned != head_hash:
        return CheckpointProof(
            False,
            f"entry seq {seq} no longer has the hash the checkpoint pinned: the chain was "
            "rewritten",
        )
    return CheckpointProof(
        True, f"the chain of {chain.entries} entries extends the checkpoint at seq {seq}"
    )
