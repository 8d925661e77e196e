"""`flask --app wsgi retention purge`: run the retention purge now, in this process."""

from __future__ import annotations

import click
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
