"""`flask --app wsgi audit ...`: verify the chain, sign a checkpoint, run the sequencer.

`verify` checks the chain (alone or against a saved checkpoint): exit 0 when intact, 1 naming
the first bad entry or why the checkpoint fails.
`sequence` exits 1 when an entry is still unchained past the alarm's bound afterwards.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from app.audit.actions import AuditAction
from app.audit.checkpoints import (
    CheckpointError,
    public_key_hex,
    read_document,
    sign_checkpoint,
    verify_against,
)
from app.audit.services import (
    bring_up_to_date,
    record,
    sequence,
    unchained,
    verify,
    verify_and_record,
)
from app.db import unit_of_work

audit_cli = AppGroup("audit", help="The hash-chained audit trail.")
CLI_ACTOR = "cli:audit-verify"


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


@audit_cli.command("verify")
@click.option("--record/--no-record", default=True, help="Append the outcome to the trail.")
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A saved checkpoint JSON file: prove the chain still extends it.",
)
@click.option(
    "--public-key",
    help="Trust this Ed25519 public key (hex) instead of this installation's own.",
)
def verify_command(record: bool, checkpoint_file: Path | None, public_key: str | None) -> None:
    """Verify the whole chain, and with --checkpoint that it extends a saved checkpoint."""
    if checkpoint_file is None:
        with unit_of_work() as session:
            if record:
                result = verify_and_record(session, CLI_ACTOR)
            else:
                bring_up_to_date(session)
                result = verify(session)
        if not result.ok:
            _fail(result.describe())
        click.echo(result.describe())
        return
    try:
        saved = read_document(checkpoint_file.read_text(encoding="utf-8", errors="replace"))
    except CheckpointError as exc:
        _fail(f"checkpoint FAILS: {exc}")
    with unit_of_work() as session:
        proof = verify_against(session, saved, public_key or public_key_hex(session))
        if record:
            _record_proof(session, saved, proof.ok, proof.reason)
    if not proof.ok:
        _fail(proof.describe())
    click.echo(proof.describe())


def _record_proof(session: Session, saved: dict[str, Any], ok: bool, reason: str) -> None:
    record(
        session,
        CLI_ACTOR,
        AuditAction.AUDIT_VERIFIED,
        None,
        {"ok": ok, "checkpoint_seq": saved["seq"], "reason": reason},
    )


@audit_cli.command("checkpoint")
def checkpoint_command() -> None:
    """Sign a checkpoint of the chain now (the scheduled job does so daily and after a purge)."""
    try:
        with unit_of_work() as session:
            checkpoint = sign_checkpoint(session, "cli:audit-checkpoint")
            line = f"signed checkpoint at seq {checkpoint.seq}: head {checkpoint.head_hash}"
    except CheckpointError as exc:
        _fail(str(exc))
    click.echo(line)


@audit_cli.command("sequence")
@click.option(
    "--follow",
    is_flag=True,
    help="Keep chaining until stopped: the sequencer process of ALPR_AUDIT_SEQUENCER=process.",
)
@click.option("--interval", default=0.05, show_default=True, help="Seconds between runs.")
def sequence_command(follow: bool, interval: float) -> None:
    """Chain every entry waiting for the sequencer (the scheduled job does so each minute)."""
    engine = current_app.extensions["alpr_engine"]
    while follow:
        sequence(engine)
        time.sleep(interval)
    chained = sequence(engine)
    with unit_of_work() as session:
        waiting = unchained(session)
    alarm = waiting.alarm()
    if alarm is not None:
        _fail(alarm)
    click.echo(f"chained {chained} entries; {waiting.count} newer waiting")


@audit_cli.command("public-key")
def public_key_command() -> None:
    """Print the public half of the signing key (hex), to publish."""
    with unit_of_work() as session:
        click.echo(public_key_hex(session))
