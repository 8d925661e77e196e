"""`flask --app wsgi retention purge`: run the retention purge now, in this process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

retention_cli = AppGroup("retention", help="Retention (policy 425.5).")


@retention_cli.command("purge")
def purge() -> None:
    """Destroy every read past retention that no hold keeps (and unheld ACP-deferred reads)."""
    from workers.retention import purge_expired_reads

    result = purge_expired_reads()
    click.echo(
        f"purge run {result['run_id']}: {result['reads_destroyed']} reads and "
        f"{result['images_destroyed']} images destroyed "
        f"({result['acp_deferred_destroyed']} ACP-deferred; {result['files_removed']} files "
        f"removed, {result['leftover_files_removed']} left over from an earlier run); "
        f"cutoff {result['cutoff']}"
    )


backup_cli = AppGroup("backup", help="Backups that keep the retention rule (425.5).")


def _folder() -> Path:
    return Path(current_app.config["BACKUP_DIR"])


def _sessions() -> Any:
    return current_app.extensions["alpr_sessionmaker"]


@backup_cli.command("create")
def backup_create() -> None:
    """Take a backup into ALPR_BACKUP_DIR, then delete those past the retention period."""
    from app.retention.backups import create_backup

    path = create_backup(_sessions(), current_app.config["DATABASE_URL"], _folder())
    click.echo(f"backup {path}")
    backup_prune.callback()  # type: ignore[misc]


@backup_cli.command("prune")
def backup_prune() -> None:
    """Delete the backups (and ledger entries) older than ALPR_RETENTION_DAYS."""
    from app.retention.backups import prune_backups

    removed = prune_backups(
        _sessions(),
        _folder(),
        Path(current_app.config["DESTRUCTION_LEDGER"]),
        current_app.config["RETENTION_DAYS"],
    )
    click.echo(
        f"{len(removed)} backups past retention deleted" + "".join(f"\n  {n}" for n in removed)
    )


@backup_cli.command("list")
def backup_list() -> None:
    """The backups kept, oldest first."""
    from app.retention.backups import list_backups

    for taken, path in list_backups(_folder()):
        click.echo(f"{taken.isoformat()}  {path}")


@backup_cli.command("restore")
@click.argument("backup", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace the database without asking.")
def backup_restore(backup: Path, yes: bool) -> None:
    """Replace the database with BACKUP, then re-apply every destruction since and purge.

    Stop the web process and the workers first; the app serves nobody until this finishes.
    """
    from app.retention.backups import BackupError, restore_backup

    if not yes:
        click.confirm(f"Replace the database with {backup.name}?", abort=True)
    try:
        result = restore_backup(
            backup,
            database_url=current_app.config["DATABASE_URL"],
            engine=current_app.extensions["alpr_engine"],
            session_factory=_sessions(),
            ledger_file=Path(current_app.config["DESTRUCTION_LEDGER"]),
            instance_path=Path(current_app.config["INSTANCE_PATH"]),
            retention_days=current_app.config["RETENTION_DAYS"],
            batch_size=current_app.config["PURGE_BATCH_SIZE"],
        )
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"restored {result.backup}: {result.reads_destroyed_again} reads destroyed again, "
        f"{result.purged_reads} purged, {result.orphan_files_removed} pictures removed, "
        f"{result.missing_files} pictures missing; run `flask --app wsgi audit verify`"
    )
