"""`flask --app wsgi bca list`: the BCA notices still to send, with their deadlines."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.bca.services import DUE_SOON_DAYS, dashboard
from app.core.timeutil import local_today
from app.db import unit_of_work

bca_cli = AppGroup(
    "bca", help="Notices to the Bureau of Criminal Apprehension (policy 425.4.1(d))."
)


@bca_cli.command("list")
@click.option("--all", "everything", is_flag=True, help="Also the notices already sent.")
def list_command(everything: bool) -> None:
    """One line per notice: id, event, device, location, event date, due date, deadline.

    Open notices only (due and overdue), unless --all. Ends with the count overdue.
    """
    today = local_today()
    with unit_of_work() as session:
        board = dashboard(session, today)
        shown = 0
        for row in board.rows:
            notice = row.notice
            if not everything and notice.sent_on is not None:
                continue
            shown += 1
            location = notice.deployment.location_name if notice.deployment else ""
            click.echo(
                "\t".join(
                    [
                        str(notice.id),
                        notice.event,
                        notice.device.serial,
                        location,
                        notice.event_on.isoformat(),
                        notice.due_on.isoformat(),
                        notice.status,
                        "OVERDUE" if row.overdue else row.deadline,
                    ]
                )
            )
    if not shown:
        click.echo("no notices" if everything else "no notices due")
    click.echo(
        f"{board.overdue} overdue, {board.due_soon} due within {DUE_SOON_DAYS} days, "
        f"{board.open} open"
    )
