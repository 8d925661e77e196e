"""`flask --app wsgi reports biennial`: the biennial audit report for any period."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.core.timeutil import format_local
from app.db import unit_of_work, utcnow
from app.reports.biennial import biennial_report
from app.reports.render import report_json, report_pdf, report_print_html
from app.reports.services import record_report

reports_cli = AppGroup("reports", help="The biennial audit report (§ 13.824 subd. 6).")
CLI_ACTOR = "cli:reports"


@reports_cli.command("biennial")
@click.option("--start", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First day.")
@click.option("--end", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Last day.")
@click.option(
    "--format", "fmt", type=click.Choice(["json", "html", "pdf"]), default="json", show_default=True
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write to this file (required for pdf); otherwise print.",
)
def biennial_command(start, end, fmt: str, output: Path | None) -> None:  # type: ignore[no-untyped-def]
    """The report for the local days START to END (inclusive); it is audited."""
    first: date = start.date()
    last: date = end.date()
    if last < first:
        raise click.BadParameter("the end date is before the start date", param_hint="--end")
    if fmt == "pdf" and output is None:
        raise click.BadParameter("a PDF needs --output FILE", param_hint="--output")
    with unit_of_work() as session:
        report = biennial_report(
            session,
            first,
            last,
            department=current_app.config["DEPARTMENT_NAME"],
            retention_days=current_app.config["RETENTION_DAYS"],
            now=utcnow(),
        )
        record_report(session, CLI_ACTOR, report, fmt)
    made = format_local(utcnow())
    if fmt == "pdf":
        output.write_bytes(report_pdf(report, generated_at=made, generated_by=CLI_ACTOR))
        click.echo(f"wrote {output} (content hash {report['content_hash']})")
        return
    text = (
        report_json(report)
        if fmt == "json"
        else report_print_html(report, generated_at=made, generated_by=CLI_ACTOR)
    )
    if output is None:
        click.echo(text)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output} (content hash {report['content_hash']})")
