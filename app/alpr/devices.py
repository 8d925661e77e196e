"""Devices and fixed deployments (policy 425.3, 425.4.1(d), 425.5.1(d)).

A device's API token is returned once by :func:`create_device` / :func:`rotate_token` and stored
only as a digest. A fixed device has a location only through a deployment: the log of use and
the public list of fixed locations read deployments, and each new fixed location, an
installation and a first use are BCA-notice events, so ``Device.installed_on``,
``Device.first_used_at`` and deployments are kept exact and every change is audited.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from blinker import Namespace
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.actions import AuditAction
from app.audit.services import record
from app.core.dates import future_problem
from app.core.refusal import Refusal
from app.core.tokens import new_token
from app.db import utcnow
from app.reads.models import (
    CameraFormat,
    DateOrder,
    Deployment,
    Device,
    DeviceKind,
    DeviceStatus,
)

MAX_SERIAL_LENGTH = 64

#: Sent inside the transaction that records a BCA-notice event of a device (its registration,
#: a deployment, its first use or an earlier first use found late), with `session`, after the
#: event's audit entry. The bca package opens the notice on it (425.4.1(d)): it sits above this
#: package and cannot be called from here, yet the event and its notice must commit together.
device_event_recorded = Namespace().signal("device-event-recorded")


class DeviceError(Refusal):
    """A clear, user-facing reason a device or deployment action was refused.

    `field` names the form field the reason belongs to (None: the form as a whole), so a page
    can show it next to that field.
    """


def _check_not_future(day: date | None, field: str, what: str) -> None:
    """An installation or a deployment's start is a fact recorded after it happened.

    Each opens a BCA notice due 10 days after it (425.4.1(d)) and a deployment is listed
    publicly as a current location, so a date after today would announce what has not happened.
    """
    if day is not None and (problem := future_problem(day, what)):
        raise DeviceError(problem, field=field)


def device_by_serial(session: Session, serial: str) -> Device | None:
    """Serials are what staff and the CLI name devices by."""
    return session.scalars(select(Device).where(Device.serial == serial.strip())).first()


def get_device_by_serial(session: Session, serial: str) -> Device:
    """Like :func:`device_by_serial`, raising a clear error for an unknown serial."""
    device = device_by_serial(session, serial)
    if device is None:
        raise DeviceError(f"No device with serial {serial.strip()!r}.")
    return device


def _issue_token(device: Device) -> str:
    token, digest, hint = new_token()
    device.token_hash = digest
    device.token_hint = hint
    device.token_issued_at = utcnow()
    return token


def create_device(
    session: Session,
    actor: Any,
    *,
    serial: str,
    kind: str,
    description: str = "",
    installed_on: date | None = None,
    camera_format: str | None = None,
    date_order: str | None = None,
) -> tuple[Device, str]:
    """Register a camera and issue its API token, returned here once and never stored in clear.

    The installation date opens a BCA notice later (425.4.1(d)), so it is recorded with the
    device and in the audit entry. `camera_format` is the vendor payload it posts to
    ``/api/v1/cameras/<format>`` (app.alpr.adapters) and `date_order` how it writes dates.
    Raises :class:`DeviceError` for a duplicate serial or an unknown kind, format or order.
    """
    serial = serial.strip()
    if not serial or len(serial) > MAX_SERIAL_LENGTH:
        raise DeviceError(f"A serial is 1 to {MAX_SERIAL_LENGTH} characters.", field="serial")
    try:
        kind_value = DeviceKind(kind).value
    except ValueError as exc:
        raise DeviceError(
            f"Unknown device kind {kind!r}: use mobile or fixed.", field="kind"
        ) from exc
    camera_format, date_order = _camera_settings(camera_format, date_order)
    _check_not_future(installed_on, "installed_on", "The installation date")
    if device_by_serial(session, serial) is not None:
        raise DeviceError(f"A device with serial {serial!r} already exists.", field="serial")
    device = Device(
        serial=serial,
        kind=kind_value,
        description=description.strip(),
        installed_on=installed_on,
        status=DeviceStatus.ACTIVE.value,
        camera_format=camera_format,
        date_order=date_order,
    )
    token = _issue_token(device)
    session.add(device)
    session.flush()
    record(
        session,
        actor,
        AuditAction.DEVICE_CREATED,
        device,
        {
            "serial": serial,
            "kind": kind_value,
            "description": device.description,
            "installed_on": installed_on.isoformat() if installed_on else None,
            "token_hint": device.token_hint,
            "camera_format": camera_format,
            "date_order": date_order,
        },
    )
    device_event_recorded.send(device, session=session)
    return device, token


def _camera_settings(camera_format: str | None, date_order: str | None) -> tuple[Any, Any]:
    """The stored format and date order (None when not given); refuses unknown ones."""
    try:
        fmt = CameraFormat(camera_format).value if camera_format else None
    except ValueError as exc:
        names = ", ".join(f.value for f in CameraFormat)
        raise DeviceError(
            f"Unknown camera format {camera_format!r}: use {names}.", field="camera_format"
        ) from exc
    try:
        order = DateOrder(date_order.upper()).value if date_order else None
    except ValueError as exc:
        raise DeviceError(
            f"Unknown date order {date_order!r}: use MDY, DMY or YMD.", field="date_order"
        ) from exc
    return fmt, order


def rotate_token(session: Session, actor: Any, device: Device) -> str:
    """Replace the device's token (e.g. a camera was serviced); the old one stops working now."""
    if device.status != DeviceStatus.ACTIVE.value:
        raise DeviceError(f"Device {device.serial} is revoked; register a new device instead.")
    old_hint = device.token_hint
    token = _issue_token(device)
    session.flush()
    record(
        session,
        actor,
        AuditAction.DEVICE_TOKEN_ROTATED,
        device,
        {"serial": device.serial, "old_token_hint": old_hint, "token_hint": device.token_hint},
    )
    return token


def revoke_device(session: Session, actor: Any, device: Device, reason: str = "") -> Device:
    """Stop a device for good: its token is refused from now on (403, so it can tell why)."""
    if device.status == DeviceStatus.REVOKED.value:
        raise DeviceError(f"Device {device.serial} is already revoked.")
    device.status = DeviceStatus.REVOKED.value
    session.flush()
    record(
        session,
        actor,
        AuditAction.DEVICE_REVOKED,
        device,
        {"serial": device.serial, "reason": reason.strip()},
    )
    return device


def open_deployment(device: Device) -> Deployment | None:
    """The deployment that has not ended, if any (a fixed device has at most one)."""
    return next((d for d in device.deployments if d.ended_on is None), None)


def deployment_in_force(session: Session, device_id: int, on: date) -> Deployment | None:
    """Where a fixed device stood on `on` (a local calendar date), for the log of use."""
    return session.scalars(
        select(Deployment)
        .where(
            Deployment.device_id == device_id,
            Deployment.started_on <= on,
            (Deployment.ended_on.is_(None)) | (Deployment.ended_on >= on),
        )
        .order_by(Deployment.started_on.desc())
        .limit(1)
    ).first()


def _check_coordinates(latitude: float, longitude: float) -> None:
    if not -90 <= latitude <= 90:
        raise DeviceError("Latitude must be between -90 and 90.", field="latitude")
    if not -180 <= longitude <= 180:
        raise DeviceError("Longitude must be between -180 and 180.", field="longitude")


def create_deployment(
    session: Session,
    actor: Any,
    device: Device,
    *,
    location_name: str,
    latitude: float,
    longitude: float,
    started_on: date,
    security_information: bool = False,
    security_reason: str = "",
) -> Deployment:
    """Place a fixed device at a location from `started_on` (a new fixed location: 425.4.1(d)).

    Refused for mobile or revoked devices, while another deployment is still open (end it
    first, so the public list of locations has no overlaps), when the new one would start
    before the previous one ended, or after today: a deployment records where a camera stood
    (ingest places reads by it), not a plan.
    """
    if device.kind != DeviceKind.FIXED.value:
        raise DeviceError(
            "Only fixed devices have deployments; a mobile device reports its position."
        )
    if device.status != DeviceStatus.ACTIVE.value:
        raise DeviceError(f"Device {device.serial} is revoked.")
    location_name = location_name.strip()
    if not location_name:
        raise DeviceError("A deployment needs a location name.", field="location_name")
    _check_coordinates(latitude, longitude)
    _check_not_future(started_on, "started_on", "The deployment start date")
    security_reason = _security_reason(security_information, security_reason)
    current = open_deployment(device)
    if current is not None:
        raise DeviceError(
            f"Device {device.serial} is still deployed at {current.location_name}; "
            "end that deployment first."
        )
    latest_end = max((d.ended_on for d in device.deployments if d.ended_on), default=None)
    if latest_end is not None and started_on < latest_end:
        raise DeviceError(
            f"The new deployment must start on or after {latest_end.isoformat()}.",
            field="started_on",
        )
    deployment = Deployment(
        device=device,
        location_name=location_name,
        latitude=latitude,
        longitude=longitude,
        started_on=started_on,
    )
    _decide_security(deployment, actor, security_information, security_reason)
    session.add(deployment)
    session.flush()
    record(
        session,
        actor,
        AuditAction.DEPLOYMENT_CREATED,
        deployment,
        {
            "serial": device.serial,
            "location_name": location_name,
            "latitude": latitude,
            "longitude": longitude,
            "started_on": started_on.isoformat(),
            "security_information": security_information,
            "security_reason": security_reason or None,
        },
    )
    device_event_recorded.send(device, session=session)
    return deployment


def end_deployment(
    session: Session, actor: Any, deployment: Deployment, *, ended_on: date
) -> Deployment:
    """Record the last day a fixed device stood at a location (the public list shows it)."""
    if deployment.ended_on is not None:
        raise DeviceError("This deployment has already ended.")
    if ended_on < deployment.started_on:
        raise DeviceError(
            f"A deployment cannot end before it started ({deployment.started_on.isoformat()}).",
            field="ended_on",
        )
    deployment.ended_on = ended_on
    session.flush()
    record(
        session,
        actor,
        AuditAction.DEPLOYMENT_ENDED,
        deployment,
        {
            "serial": deployment.device.serial,
            "location_name": deployment.location_name,
            "ended_on": ended_on.isoformat(),
        },
    )
    return deployment


#: The shortest reason accepted for a decision on the security-information mark.
SECURITY_REASON_MIN = 10


def _security_reason(security_information: bool, reason: str) -> str:
    """The reason for a decision on the mark, required when a location is withheld."""
    reason = (reason or "").strip()
    if security_information and len(reason) < SECURITY_REASON_MIN:
        raise DeviceError(
            "Say why this location is security information (Minn. Stat. § 13.37 subd. 2): "
            f"at least {SECURITY_REASON_MIN} characters.",
            field="security_reason",
        )
    return reason


def _decide_security(
    deployment: Deployment, actor: Any, security_information: bool, reason: str
) -> None:
    deployment.security_information = security_information
    deployment.security_reason = reason or None
    deployment.security_decided_by_id = getattr(actor, "id", None)
    deployment.security_decided_at = utcnow()


def mark_security_information(
    session: Session,
    actor: Any,
    deployment: Deployment,
    *,
    security_information: bool,
    reason: str,
) -> Deployment:
    """Keep a location off the public list, or put it back (Minn. Stat. § 13.37 subd. 2).

    The decision records who took it, when and why; withholding needs a stated reason. Raises
    :class:`DeviceError` when the mark already says so or the reason is missing.
    """
    if deployment.security_information == security_information:
        raise DeviceError(
            "This location is already "
            + ("withheld as security information." if security_information else "listed."),
            field="security_reason",
        )
    reason = _security_reason(security_information, reason)
    _decide_security(deployment, actor, security_information, reason)
    session.flush()
    record(
        session,
        actor,
        AuditAction.DEPLOYMENT_UPDATED,
        deployment,
        {
            "serial": deployment.device.serial,
            "location_name": deployment.location_name,
            "security_information": security_information,
            "security_reason": reason or None,
        },
    )
    return deployment


def silent_devices(session: Session, now: datetime, silent_hours: int) -> list[Device]:
    """Active devices that have sent nothing for longer than `silent_hours`, quietest first.

    A device never heard from counts from its registration: a camera installed and never
    sending is as much a fault to look at as one that stopped.
    """
    heard = func.coalesce(Device.last_seen_at, Device.created_at)
    return list(
        session.scalars(
            select(Device)
            .where(
                Device.status == DeviceStatus.ACTIVE.value,
                heard < now - timedelta(hours=silent_hours),
            )
            .order_by(heard, Device.id)
        )
    )


def tokens_to_rotate(session: Session, now: datetime, max_age_days: int) -> list[Device]:
    """Active devices whose API token was issued more than `max_age_days` ago, oldest first."""
    return list(
        session.scalars(
            select(Device)
            .where(
                Device.status == DeviceStatus.ACTIVE.value,
                Device.token_issued_at < now - timedelta(days=max_age_days),
            )
            .order_by(Device.token_issued_at, Device.id)
        )
    )
