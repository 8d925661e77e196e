"""`flask --app wsgi devices|hotlist|reads|agencies ...`: cameras, hotlists, other agencies' reads.

Contract (DESIGN.md): ``devices create``, ``devices rotate-token`` and ``agencies issue-token``
print the API token alone on the last line of their output, so scripts can take it with
``tail -n 1``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app.alpr.adapters.signatures import signing_secret
from app.alpr.devices import (
    DeviceError,
    create_device,
    get_device_by_serial,
    revoke_device,
    rotate_token,
)
from app.alpr.hotlists import MN_PLATE_FILE, HotlistError, load_hotlist
from app.alpr.ingest.batch import ingest_reads
from app.alpr.ingest.validation import IngestRefused, Limits, validate_reads
from app.auth.agencies import (
    create_agency,
    get_agency_by_name,
    issue_agency_token,
    revoke_agency_token,
)
from app.auth.errors import AccountError
from app.auth.models import Agency
from app.core.cli import command_unit_of_work
from app.db import unit_of_work, utcnow
from app.reads.models import CameraFormat, DateOrder, Device, DeviceKind

devices_cli = AppGroup("devices", help="ALPR cameras and their API tokens.")
hotlist_cli = AppGroup("hotlist", help="Hotlists reads are matched with (policy 425.4.1(b)).")
reads_cli = AppGroup("reads", help="Reads received from another agency (policy 425.5).")
agencies_cli = AppGroup(
    "agencies", help="Outside agencies and the API tokens they share reads with (policy 425.5)."
)

CLI_ACTOR = "cli:devices"


@devices_cli.command("create")
@click.option("--serial", required=True)
@click.option("--kind", required=True, type=click.Choice([k.value for k in DeviceKind]))
@click.option("--description", default="")
@click.option("--installed-on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None)
@click.option(
    "--format",
    "camera_format",
    type=click.Choice([f.value for f in CameraFormat]),
    default=None,
    help="The vendor payload it posts to /api/v1/cameras/<format>.",
)
@click.option(
    "--date-order",
    type=click.Choice([o.value for o in DateOrder], case_sensitive=False),
    default=None,
    help="How the camera writes dates (Genetec: its Windows locale; default MDY).",
)
def create_command(
    serial: str,
    kind: str,
    description: str,
    installed_on,
    camera_format: str | None,
    date_order: str | None,
) -> None:
    """Register a device; its API token is printed once, alone on the last line."""
    with command_unit_of_work(DeviceError) as session:
        device, token = create_device(
            session,
            CLI_ACTOR,
            serial=serial,
            kind=kind,
            description=description,
            installed_on=installed_on.date() if installed_on else None,
            camera_format=camera_format,
            date_order=date_order,
        )
        device_id = device.id
    click.echo(f"created device {device_id} serial={serial} kind={kind}")
    if kind == DeviceKind.FIXED.value:
        click.echo("a fixed device sends reads only once a deployment records its location")
    if camera_format:
        _echo_camera_setup(camera_format, token)
    click.echo("API token (shown once; store it in the camera now):")
    click.echo(token)


def _echo_camera_setup(camera_format: str, token: str) -> None:
    """Where the camera posts; for Verkada, the shared secret its webhook signs with."""
    click.echo(f"camera format {camera_format}: POST /api/v1/cameras/{camera_format}")
    if camera_format == CameraFormat.VERKADA.value:
        secret = signing_secret(current_app.config["SECRET_KEY"], token)
        click.echo(f"Verkada webhook shared secret (shown once): {secret}")


@devices_cli.command("rotate-token")
@click.option("--serial", required=True)
def rotate_command(serial: str) -> None:
    """Issue a new token (the old one stops working); printed alone on the last line."""
    with command_unit_of_work(DeviceError) as session:
        device = get_device_by_serial(session, serial)
        token = rotate_token(session, CLI_ACTOR, device)
        camera_format = device.camera_format
    if camera_format:
        _echo_camera_setup(camera_format, token)
    click.echo(f"new API token for {serial} (shown once; the old token no longer works):")
    click.echo(token)


@devices_cli.command("revoke")
@click.option("--serial", required=True)
@click.option("--reason", default="", help="Why, for the audit trail.")
def revoke_command(serial: str, reason: str) -> None:
    """Revoke a device: its token is refused from now on."""
    with command_unit_of_work(DeviceError) as session:
        revoke_device(session, CLI_ACTOR, get_device_by_serial(session, serial), reason)
    click.echo(f"revoked device {serial}")


@devices_cli.command("list")
def list_command() -> None:
    """Every device with kind, status, token hint and last use (never a token)."""
    with unit_of_work() as session:
        devices = session.scalars(select(Device).order_by(Device.serial)).all()
        for d in devices:
            seen = d.last_seen_at.isoformat(timespec="seconds") if d.last_seen_at else "never"
            click.echo(f"{d.serial}\t{d.kind}\t{d.status}\t{d.token_hint or ''}\tlast seen {seen}")
    if not devices:
        click.echo("no devices")


@hotlist_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", default=MN_PLATE_FILE, show_default=True, help="Source name.")
@click.option(
    "--case-number", default=None, help="Active investigation (any source but the state file)."
)
def hotlist_import(file: Path, source: str, case_number: str | None) -> None:
    """Replace a source's hotlist with FILE (CSV: plate,category[,reference])."""
    with command_unit_of_work(HotlistError) as session:
        load = load_hotlist(
            session,
            "cli:hotlist",
            file.read_bytes(),
            source_name=source,
            case_number=case_number,
        )
        name = load.source.name
    categories = ", ".join(f"{k}={v}" for k, v in load.by_category.items())
    click.echo(
        f"loaded {load.entries} entries into {name} (replaced {load.replaced}); {categories}; "
        f"sha256 {load.sha256}"
    )


@reads_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--agency", required=True, help="Name of the agency the reads came from.")
def reads_import(file: Path, agency: str) -> None:
    """Import another agency's reads (CSV with the API's fields), checked the same way.

    Columns: plate, captured_at, latitude, longitude and optionally client_read_id; any other
    column refuses the file (425.4.1(a)). Any bad row refuses the whole file.
    """
    limits = Limits.from_config(current_app.config)
    reader = csv.DictReader(
        io.StringIO(file.read_text(encoding="utf-8-sig")), restkey="(unnamed extra column)"
    )
    rows = [dict(row) for row in reader]
    chunk = limits.max_batch
    try:
        with command_unit_of_work(AccountError) as session:
            source = get_agency_by_name(session, agency)
            whole = Limits(len(rows) or 1, limits.clock_skew_seconds, limits.retention_days)
            reads = validate_reads(rows, now=utcnow(), limits=whole, text_values=True)
            totals: dict[str, int] = {}
            for start in range(0, len(reads), chunk):
                result = ingest_reads(
                    session, "cli:reads-import", reads[start : start + chunk], agency=source
                )
                for key, value in result.counts.items():
                    totals[key] = totals.get(key, 0) + value
    except IngestRefused as exc:
        details = "; ".join(
            f"line {e['index'] + 2}: {', '.join(e['errors'])}" for e in exc.errors[:20]
        )
        raise click.ClickException(f"{exc.message}. {details}".strip()) from exc
    click.echo(
        f"imported from {agency}: stored {totals.get('stored', 0)}, "
        f"duplicate {totals.get('duplicate', 0)}, destroyed_acp {totals.get('destroyed_acp', 0)}, "
        f"hits {totals.get('hits', 0)}"
    )


AGENCIES_ACTOR = "cli:agencies"


@agencies_cli.command("create")
@click.option("--name", required=True)
@click.option("--ori", default=None, help="The agency's ORI number.")
def agencies_create(name: str, ori: str | None) -> None:
    """Register an outside agency (its users, requests and shared reads refer to it)."""
    with command_unit_of_work(AccountError) as session:
        agency = create_agency(session, AGENCIES_ACTOR, name=name, ori=ori)
        agency_id = agency.id
    click.echo(f"created agency {agency_id} {name.strip()}")


@agencies_cli.command("issue-token")
@click.option("--name", required=True, help="The agency's name.")
def agencies_issue_token(name: str) -> None:
    """Issue the agency's API token for POST /api/v1/agency-reads, alone on the last line.

    An agency holds one token: issuing replaces the one in force (a rotation) or a revoked one.
    """
    with command_unit_of_work(AccountError) as session:
        agency = get_agency_by_name(session, name)
        replaced = agency.api_token_active
        token = issue_agency_token(session, AGENCIES_ACTOR, agency)
    if replaced:
        click.echo(f"replaced the API token of {name.strip()}: the old token no longer works")
    click.echo(f"API token for {name.strip()} (shown once; give it to the agency now):")
    click.echo(token)


@agencies_cli.command("revoke-token")
@click.option("--name", required=True, help="The agency's name.")
@click.option("--reason", default="", help="Why, for the audit trail.")
def agencies_revoke_token(name: str, reason: str) -> None:
    """Revoke the agency's API token: it is refused (403) until a new one is issued."""
    with command_unit_of_work(AccountError) as session:
        revoke_agency_token(session, AGENCIES_ACTOR, get_agency_by_name(session, name), reason)
    click.echo(f"revoked the API token of {name.strip()}")


@agencies_cli.command("list")
def agencies_list() -> None:
    """Every agency with its ORI and API token state (hint only, never a token)."""
    with unit_of_work() as session:
        agencies = session.scalars(select(Agency).order_by(Agency.name)).all()
        for a in agencies:
            if a.api_token_hash is None:
                state = "no API token"
            elif a.api_token_active:
                state = f"API token {a.api_token_hint}"
            else:
                state = f"API token {a.api_token_hint} revoked"
            click.echo(f"{a.name}\t{a.ori or ''}\t{state}")
    if not agencies:
        click.echo("no agencies")
