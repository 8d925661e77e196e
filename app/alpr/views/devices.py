"""Administrators' pages: devices, their tokens and deployments, and hotlist loads.

Who: EQUIPMENT_ROLES (the Deputy Chief, their designee and the ALPR administrator, 425.3) with
current training, since administering cameras and hotlists is operating ALPR equipment (425.4(d)).
A new or rotated token is shown once (never stored in the database, never flashed): the POST
puts it in the signed session cookie and redirects (303) to the device page, which takes it out
of the session as it shows it, with ``Cache-Control: no-store``; a reload shows it no more.
"""

from __future__ import annotations

import json

from flask import current_app, flash, make_response, redirect, render_template, url_for
from flask import session as flask_session
from sqlalchemy import select

from app.alpr.adapters.labels import discard_label
from app.alpr.adapters.signatures import signing_secret
from app.alpr.devices import (
    DeviceError,
    create_deployment,
    create_device,
    end_deployment,
    mark_security_information,
    open_deployment,
    revoke_device,
    rotate_token,
)
from app.alpr.forms.devices import (
    DeploymentForm,
    DeviceForm,
    EndDeploymentForm,
    HotlistUploadForm,
    RevokeForm,
    RotateTokenForm,
    SecurityDecisionForm,
)
from app.alpr.hotlists import HotlistError, HotlistSourceRefused, hotlist_sources, load_hotlist
from app.alpr.views import bp
from app.audit.exports import exported_list_csv
from app.auth.access import EQUIPMENT_ROLES, require
from app.core.forms import confirmation_named
from app.core.pages import acting_user, load_or_404
from app.core.refusal import show_refusal
from app.core.timeutil import local_today
from app.db import db_session
from app.reads.models import (
    ActiveUsePeriod,
    CameraDiscard,
    CameraFormat,
    Deployment,
    Device,
    DeviceStatus,
)

#: How many recent periods of active use the device page lists.
RECENT_PERIODS = 20
#: The session key holding a new token between the POST that issued it and the page showing it.
NEW_TOKEN_KEY = "new_device_token"  # noqa: S105 (a session key, not a secret)


def _active(device: Device) -> bool:
    """Whether the camera still takes steps (a revoked one is only history)."""
    return device.status == DeviceStatus.ACTIVE.value


def _show_token_once(device: Device, token: str):
    """Post/redirect/get: the token waits in the session for the device page, which pops it.

    A reload of that page shows it no more, and the browser has no POST to resend.
    """
    flask_session[NEW_TOKEN_KEY] = {"device_id": device.id, "token": token}
    return redirect(url_for("alpr.device_detail", device_id=device.id), 303)


def _token_once(device: Device) -> str | None:
    """The token just issued to `device`, taken out of the session: shown on one page only."""
    held = flask_session.get(NEW_TOKEN_KEY)
    if not held or held.get("device_id") != device.id:
        return None
    flask_session.pop(NEW_TOKEN_KEY)
    return held["token"]


def _detail(device: Device, *, token: str | None = None, status: int = 200, **forms):
    """The device page; a refused form is passed back in (bound, with its errors).

    Rotating, revoking and ending a deployment cannot be undone: each form carries its own
    "I understand" checkbox, with its own element id since all three share the page.
    """
    periods = db_session().scalars(
        select(ActiveUsePeriod)
        .where(ActiveUsePeriod.device_id == device.id)
        .order_by(ActiveUsePeriod.started_at.desc())
        .limit(RECENT_PERIODS)
    )
    discards = db_session().scalars(
        select(CameraDiscard)
        .where(CameraDiscard.device_id == device.id)
        .order_by(CameraDiscard.count.desc(), CameraDiscard.field)
    )
    context = {
        "device": device,
        "discards": [(discard_label(d.field), d) for d in discards],
        "active": _active(device),
        "token": token,
        # Verkada signs with a shared secret derived from the token: shown once beside it.
        "shared_secret": signing_secret(current_app.config["SECRET_KEY"], token)
        if token and device.camera_format == CameraFormat.VERKADA.value
        else None,
        "current": open_deployment(device),
        "periods": [(p, json.loads(p.sources_compared or "[]")) for p in periods],
        "deployment_form": forms.get("deployment_form") or DeploymentForm(started_on=local_today()),
        "end_form": confirmation_named(
            forms.get("end_form") or EndDeploymentForm(formdata=None, ended_on=local_today()),
            "end-confirm",
        ),
        "revoke_form": confirmation_named(
            forms.get("revoke_form") or RevokeForm(formdata=None), "revoke-confirm"
        ),
        "rotate_form": confirmation_named(
            forms.get("rotate_form") or RotateTokenForm(formdata=None), "rotate-confirm"
        ),
        "security_forms": _security_forms(device, forms.get("security_form")),
    }
    response = make_response(render_template("alpr/device_detail.html", **context), status)
    if token:
        response.headers["Cache-Control"] = "no-store"
    return response


def _security_forms(
    device: Device, refused: tuple[int, SecurityDecisionForm] | None
) -> dict[int, SecurityDecisionForm]:
    """One decision form per deployment, each input with its own id; a refused one bound."""
    forms = {}
    for deployment in device.deployments:
        if refused is not None and refused[0] == deployment.id:
            form = refused[1]
        else:
            form = SecurityDecisionForm(formdata=None)
        form.reason.id = f"security-reason-{deployment.id}"
        form.reason.label.field_id = form.reason.id
        forms[deployment.id] = form
    return forms


@bp.route("/devices")
@require(EQUIPMENT_ROLES, training=True)
def devices():
    """Every camera with kind, status, location and last use."""
    rows = db_session().scalars(select(Device).order_by(Device.serial)).all()
    return render_template(
        "alpr/devices.html", devices=[(d, open_deployment(d), _active(d)) for d in rows]
    )


@bp.route("/devices/new", methods=["GET", "POST"])
@require(EQUIPMENT_ROLES, training=True)
def device_new():
    """Register a camera; the answer shows its API token once."""
    form = DeviceForm()
    if form.validate_on_submit():
        session = db_session()
        try:
            device, token = create_device(
                session,
                acting_user(),
                serial=form.serial.data,
                kind=form.kind.data,
                description=form.description.data or "",
                installed_on=form.installed_on.data,
                camera_format=form.camera_format.data or None,
                date_order=form.date_order.data or None,
            )
        except DeviceError as exc:
            session.rollback()
            show_refusal(form, exc, "serial")
        else:
            session.commit()
            flash(f"Device {device.serial} registered.", "success")
            return _show_token_once(device, token)
    return render_template("alpr/device_new.html", form=form), 422 if form.errors else 200


@bp.route("/devices/<int:device_id>")
@require(EQUIPMENT_ROLES, training=True)
def device_detail(device_id: int):
    """One camera: token hint, deployments, recent periods of active use (a new token once)."""
    device = load_or_404(Device, device_id)
    return _detail(device, token=_token_once(device))


@bp.route("/devices/<int:device_id>/rotate-token", methods=["POST"])
@require(EQUIPMENT_ROLES, training=True)
def device_rotate(device_id: int):
    """Issue a new token (confirmed); the answer shows it once and the old one stops working."""
    device = load_or_404(Device, device_id)
    form = RotateTokenForm()
    if not form.validate_on_submit():
        return _detail(device, status=422, rotate_form=form)
    session = db_session()
    try:
        token = rotate_token(session, acting_user(), device)
    except DeviceError as exc:
        session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("alpr.device_detail", device_id=device.id))
    session.commit()
    return _show_token_once(device, token)


@bp.route("/devices/<int:device_id>/revoke", methods=["POST"])
@require(EQUIPMENT_ROLES, training=True)
def device_revoke(device_id: int):
    """Revoke a camera for good, with a reason."""
    device = load_or_404(Device, device_id)
    form = RevokeForm()
    if not form.validate_on_submit():
        return _detail(device, status=422, revoke_form=form)
    session = db_session()
    try:
        revoke_device(session, acting_user(), device, form.reason.data)
    except DeviceError as exc:
        session.rollback()
        form.reason.errors.append(str(exc))
        return _detail(device, status=422, revoke_form=form)
    session.commit()
    flash(f"Device {device.serial} revoked; its token is refused from now on.", "success")
    return redirect(url_for("alpr.device_detail", device_id=device.id))


@bp.route("/devices/<int:device_id>/deployments", methods=["POST"])
@require(EQUIPMENT_ROLES, training=True)
def deployment_new(device_id: int):
    """Record where a fixed camera stands from a date (a new fixed location)."""
    device = load_or_404(Device, device_id)
    form = DeploymentForm()
    if not form.validate_on_submit():
        return _detail(device, status=422, deployment_form=form)
    session = db_session()
    try:
        create_deployment(
            session,
            acting_user(),
            device,
            location_name=form.location_name.data,
            latitude=form.latitude.data,
            longitude=form.longitude.data,
            started_on=form.started_on.data,
            security_information=form.security_information.data,
            security_reason=form.security_reason.data or "",
        )
    except DeviceError as exc:
        session.rollback()
        show_refusal(form, exc, "location_name")
        return _detail(device, status=422, deployment_form=form)
    session.commit()
    flash(f"Deployment at {form.location_name.data} recorded.", "success")
    return redirect(url_for("alpr.device_detail", device_id=device.id))


@bp.route("/deployments/<int:deployment_id>/end", methods=["POST"])
@require(EQUIPMENT_ROLES, training=True)
def deployment_end(deployment_id: int):
    """Record the last day at a location."""
    deployment = load_or_404(Deployment, deployment_id)
    form = EndDeploymentForm()
    if not form.validate_on_submit():
        return _detail(deployment.device, status=422, end_form=form)
    session = db_session()
    try:
        end_deployment(session, acting_user(), deployment, ended_on=form.ended_on.data)
    except DeviceError as exc:
        session.rollback()
        form.ended_on.errors.append(str(exc))
        return _detail(deployment.device, status=422, end_form=form)
    session.commit()
    flash(f"Deployment at {deployment.location_name} ended.", "success")
    return redirect(url_for("alpr.device_detail", device_id=deployment.device_id))


@bp.route("/deployments/<int:deployment_id>/security/<any(on, off):change>", methods=["POST"])
@require(EQUIPMENT_ROLES, training=True)
def deployment_security(deployment_id: int, change: str):
    """Withhold a location as security information (with the reason), or list it again."""
    deployment = load_or_404(Deployment, deployment_id)
    form = SecurityDecisionForm()
    refused = {"security_form": (deployment.id, form)}
    if not form.validate_on_submit():
        return _detail(deployment.device, status=422, **refused)
    session = db_session()
    try:
        mark_security_information(
            session,
            acting_user(),
            deployment,
            security_information=change == "on",
            reason=form.reason.data or "",
        )
    except DeviceError as exc:
        session.rollback()
        form.reason.errors.append(str(exc))
        return _detail(deployment.device, status=422, **refused)
    session.commit()
    flash(
        f"{deployment.location_name} is "
        + ("withheld from the public list." if change == "on" else "on the public list."),
        "success",
    )
    return redirect(url_for("alpr.device_detail", device_id=deployment.device_id))


@bp.route("/hotlists", methods=["GET", "POST"])
@require(EQUIPMENT_ROLES, training=True)
def hotlists():
    """Hotlist sources with their last load, and the upload that replaces a source's list."""
    form = HotlistUploadForm()
    status = 200
    if form.validate_on_submit():
        session = db_session()
        try:
            load = load_hotlist(
                session,
                acting_user(),
                form.file.data.read(),
                source_name=form.source.data,
                case_number=form.case_number.data,
            )
        except HotlistError as exc:
            session.rollback()
            field = form.case_number if isinstance(exc, HotlistSourceRefused) else form.file
            field.errors.append(str(exc))
            status = 422
        else:
            session.commit()
            flash(
                f"Loaded {load.entries} entries into {load.source.name} "
                f"(replacing {load.replaced}).",
                "success",
            )
            return redirect(url_for("alpr.hotlists"))
    elif form.errors:
        status = 422
    return render_template(
        "alpr/hotlists.html", form=form, sources=hotlist_sources(db_session())
    ), status


@bp.route("/devices.csv")
@require(EQUIPMENT_ROLES, training=True)
def devices_export():
    """Every camera as CSV, with where it stands now; audited."""
    session = db_session()
    rows = session.scalars(select(Device).order_by(Device.serial)).all()

    def cells(device: Device) -> list[object]:
        where = open_deployment(device)
        return [
            device.serial,
            device.kind,
            device.status,
            device.description,
            device.installed_on,
            where.location_name if where else None,
            where.latitude if where else None,
            where.longitude if where else None,
            device.last_seen_at,
        ]

    return exported_list_csv(
        session,
        acting_user(),
        "devices",
        "devices.csv",
        (
            "serial",
            "kind",
            "status",
            "description",
            "installed_on",
            "location",
            "latitude",
            "longitude",
            "last_seen_at",
        ),
        rows,
        cells,
    )
