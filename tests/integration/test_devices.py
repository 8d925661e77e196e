"""Devices and deployments: the CLI token contract, staff pages, every change audited."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.alpr.devices import (
    DeviceError,
    create_deployment,
    create_device,
    end_deployment,
)
from app.audit.actions import AuditAction
from app.audit.models import AuditEntry
from app.auth.access import ADMIN_ROLES, EQUIPMENT_ROLES
from app.core.timeutil import local_today
from app.core.tokens import token_digest
from app.db import utcnow
from app.reads.models import Deployment, Device
from tests.helpers import CONFIRMED, actions, field_error, form_csrf


def post_read(client, token):
    return client.post(
        "/api/v1/reads",
        json={
            "reads": [
                {
                    "plate": "ABC123",
                    "captured_at": (utcnow() - timedelta(minutes=1)).isoformat(),
                    "latitude": 44.05,
                    "longitude": -91.64,
                }
            ]
        },
        headers={"Authorization": f"Bearer {token}"},
    )


def test_cli_create_prints_the_token_alone_on_the_last_line(app, client, session):
    result = app.test_cli_runner().invoke(
        args=[
            "devices",
            "create",
            "--serial",
            "SQ-12",
            "--kind",
            "mobile",
            "--description",
            "Squad 12",
            "--installed-on",
            "2026-01-05",
        ]
    )
    assert result.exit_code == 0, result.output
    token = result.output.rstrip("\n").splitlines()[-1]
    assert re.fullmatch(r"alpr_[A-Za-z0-9_-]{40,}", token)
    device = session.scalars(select(Device).where(Device.serial == "SQ-12")).one()
    assert device.token_hash == token_digest(token) and device.installed_on == date(2026, 1, 5)
    assert post_read(client, token).status_code == 200
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == AuditAction.DEVICE_CREATED.value)
    ).one()
    assert token not in entry.detail.details_json
    assert json.loads(entry.detail.details_json)["installed_on"] == "2026-01-05"


def test_cli_rotate_revoke_list_and_refusals(app, client, session):
    runner = app.test_cli_runner()
    created = runner.invoke(args=["devices", "create", "--serial", "POLE-1", "--kind", "fixed"])
    old = created.output.splitlines()[-1]
    rotated = runner.invoke(args=["devices", "rotate-token", "--serial", "POLE-1"])
    assert rotated.exit_code == 0, rotated.output
    new = rotated.output.rstrip("\n").splitlines()[-1]
    assert new != old and new.startswith("alpr_")
    assert post_read(client, old).status_code == 401
    listing = runner.invoke(args=["devices", "list"])
    assert "POLE-1\tfixed\tactive" in listing.output and new not in listing.output
    duplicate = runner.invoke(args=["devices", "create", "--serial", "POLE-1", "--kind", "fixed"])
    assert duplicate.exit_code != 0 and "already exists" in duplicate.output
    assert runner.invoke(args=["devices", "revoke", "--serial", "POLE-1"]).exit_code == 0
    assert post_read(client, new).status_code == 403
    again = runner.invoke(args=["devices", "rotate-token", "--serial", "POLE-1"])
    assert again.exit_code != 0 and "revoked" in again.output
    unknown = runner.invoke(args=["devices", "revoke", "--serial", "NOPE"])
    assert unknown.exit_code != 0 and "No device with serial" in unknown.output
    assert actions(session).count(AuditAction.DEVICE_TOKEN_ROTATED.value) == 1
    assert AuditAction.DEVICE_REVOKED.value in actions(session)


def test_deployments_are_for_fixed_devices_one_at_a_time_and_audited(session):
    mobile, _ = create_device(session, "test", serial="M-1", kind="mobile")
    with pytest.raises(DeviceError, match="Only fixed devices"):
        create_deployment(
            session,
            "test",
            mobile,
            location_name="X",
            latitude=44,
            longitude=-91,
            started_on=local_today(),
        )
    fixed, _ = create_device(session, "test", serial="F-1", kind="fixed")
    start = local_today() - timedelta(days=10)
    first = create_deployment(
        session,
        "test",
        fixed,
        location_name="Main St",
        latitude=44.05,
        longitude=-91.64,
        started_on=start,
        security_information=True,
        security_reason="Protects the county jail's sally port",
    )
    with pytest.raises(DeviceError, match="still deployed at Main St"):
        create_deployment(
            session,
            "test",
            fixed,
            location_name="Elm St",
            latitude=44,
            longitude=-91,
            started_on=local_today(),
        )
    with pytest.raises(DeviceError, match="cannot end before"):
        end_deployment(session, "test", first, ended_on=start - timedelta(days=1))
    end_deployment(session, "test", first, ended_on=start + timedelta(days=3))
    with pytest.raises(DeviceError, match="must start on or after"):
        create_deployment(
            session,
            "test",
            fixed,
            location_name="Elm St",
            latitude=44,
            longitude=-91,
            started_on=start + timedelta(days=1),
        )
    with pytest.raises(DeviceError, match="Latitude"):
        create_deployment(
            session,
            "test",
            fixed,
            location_name="Elm St",
            latitude=95,
            longitude=-91,
            started_on=local_today(),
        )
    session.commit()
    assert [a for a in actions(session) if a.startswith(("deployment.", "device.updated"))] == [
        AuditAction.DEPLOYMENT_CREATED.value,
        AuditAction.DEPLOYMENT_ENDED.value,
    ]


def test_the_new_device_page_shows_the_token_once(client, session, login_as):
    login_as(*ADMIN_ROLES)
    csrf = form_csrf(client, "/alpr/devices/new")
    response = client.post(
        "/alpr/devices/new",
        data={"csrf_token": csrf, "serial": "WEB-1", "kind": "fixed", "description": "Pole"},
    )
    device = session.scalars(select(Device).where(Device.serial == "WEB-1")).one()
    assert response.status_code == 303, "post/redirect/get: a reload cannot register it twice"
    assert response.headers["Location"] == f"/alpr/devices/{device.id}"
    shown = client.get(response.headers["Location"])
    assert shown.headers["Cache-Control"] == "no-store"
    page = shown.get_data(as_text=True)
    token = re.search(r'data-testid="device-token">([^<]+)<', page).group(1)
    assert device.token_hash == token_digest(token)
    assert 'data-copy="device-token"' in page
    detail = client.get(f"/alpr/devices/{device.id}").get_data(as_text=True)
    assert token not in detail and "No deployment" in detail, "the token is shown once"
    duplicate = client.post(
        "/alpr/devices/new", data={"csrf_token": csrf, "serial": "WEB-1", "kind": "mobile"}
    )
    assert duplicate.status_code == 422 and "already exists" in duplicate.get_data(as_text=True)


def test_pages_rotate_revoke_and_manage_deployments(client, session, login_as):
    login_as(*ADMIN_ROLES)
    device, _ = create_device(session, "test", serial="WEB-F", kind="fixed")
    session.commit()
    detail_url = f"/alpr/devices/{device.id}"
    csrf = form_csrf(client, detail_url)
    rotated = client.post(f"{detail_url}/rotate-token", data={"csrf_token": csrf, **CONFIRMED})
    assert rotated.status_code == 303 and rotated.headers["Location"] == detail_url
    assert 'data-testid="device-token"' in client.get(detail_url).get_data(as_text=True)
    assert 'data-testid="device-token"' not in client.get(detail_url).get_data(as_text=True)
    added = client.post(
        f"{detail_url}/deployments",
        data={
            "csrf_token": csrf,
            "location_name": "Hwy 61 at Pelzer St",
            "latitude": "44.036",
            "longitude": "-91.619",
            "started_on": local_today().isoformat(),
            "security_information": "y",
            "security_reason": "Protects the water plant gate",
        },
        follow_redirects=True,
    )
    assert "Deployment at Hwy 61 at Pelzer St recorded" in added.get_data(as_text=True)
    deployment = session.scalars(select(Deployment)).one()
    assert deployment.security_information is True
    client.post(f"/alpr/deployments/{deployment.id}/security/off", data={"csrf_token": csrf})
    session.rollback()  # end the test's snapshot so it sees the page's commit
    assert deployment.security_information is False
    bad_end = client.post(
        f"/alpr/deployments/{deployment.id}/end",
        data={
            "csrf_token": csrf,
            "ended_on": (local_today() - timedelta(days=5)).isoformat(),
            **CONFIRMED,
        },
    )
    assert bad_end.status_code == 422 and "cannot end before" in bad_end.get_data(as_text=True)
    no_reason = client.post(
        f"{detail_url}/revoke", data={"csrf_token": csrf, "reason": "", **CONFIRMED}
    )
    assert no_reason.status_code == 422
    revoked = client.post(
        f"{detail_url}/revoke",
        data={"csrf_token": csrf, "reason": "damaged", **CONFIRMED},
        follow_redirects=True,
    )
    assert "revoked" in revoked.get_data(as_text=True)
    listing = client.get("/alpr/devices").get_data(as_text=True)
    assert "WEB-F" in listing and "Hwy 61 at Pelzer St" in listing
    assert AuditAction.DEPLOYMENT_UPDATED.value in actions(session)


@pytest.mark.parametrize("role", sorted(EQUIPMENT_ROLES))
def test_trained_equipment_administrators_reach_the_device_pages(client, session, login_as, role):
    """425.3: the Deputy Chief or their designee manages ALPR equipment, with the administrator."""
    login_as(role)
    assert client.get("/alpr/devices").status_code == 200
    assert client.get("/alpr/devices/new").status_code == 200


def test_a_trained_designee_adds_a_device(client, session, login_as):
    login_as("designee")
    csrf = form_csrf(client, "/alpr/devices/new")
    response = client.post(
        "/alpr/devices/new", data={"csrf_token": csrf, "serial": "DES-1", "kind": "mobile"}
    )
    assert response.status_code == 303
    assert session.scalars(select(Device).where(Device.serial == "DES-1")).one()


@pytest.mark.parametrize(
    ("role", "trained"),
    [
        ("operator", True),
        ("auditor", True),
        ("records", True),
        ("admin", False),
        ("deputy_chief", False),
        ("designee", False),
    ],
)
def test_device_pages_are_for_trained_administrators(client, session, login_as, role, trained):
    login_as(role, trained=trained)
    assert client.get("/alpr/devices").status_code == 403
    assert client.get("/alpr/devices/new").status_code == 403


# --- dates that have not happened ----------------------------------------------------------


@pytest.mark.parametrize("installed_on", [date(9999, 12, 31), None])
def test_a_device_installed_after_today_is_refused_by_its_field(
    client, session, login_as, installed_on
):
    login_as(*ADMIN_ROLES)
    day = installed_on or local_today() + timedelta(days=1)
    response = client.post(
        "/alpr/devices/new",
        data={
            "csrf_token": form_csrf(client, "/alpr/devices/new"),
            "serial": "FUT-1",
            "kind": "fixed",
            "installed_on": day.isoformat(),
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "The installation date" in field_error(html, "installed_on")
    assert field_error(html, "serial") is None
    assert session.scalars(select(Device)).all() == []
    assert AuditAction.DEVICE_CREATED.value not in actions(session)


def test_the_services_refuse_a_future_installation_for_cli_and_jobs(session):
    tomorrow = local_today() + timedelta(days=1)
    with pytest.raises(DeviceError, match=r"The installation date .* is in the future") as refused:
        create_device(session, "test", serial="FUT-2", kind="mobile", installed_on=tomorrow)
    assert refused.value.field == "installed_on"
    device, _ = create_device(
        session, "test", serial="NOW-1", kind="mobile", installed_on=local_today()
    )
    assert device.installed_on == local_today()


def test_a_deployment_starting_after_today_is_refused_by_its_field(client, session, login_as):
    """A deployment records where a camera stood, so it is not entered ahead of time."""
    login_as(*ADMIN_ROLES)
    device, _ = create_device(session, "test", serial="DEP-F", kind="fixed")
    session.commit()
    detail_url = f"/alpr/devices/{device.id}"
    for day in (local_today() + timedelta(days=1), date(9999, 12, 31)):
        response = client.post(
            f"{detail_url}/deployments",
            data={
                "csrf_token": form_csrf(client, detail_url),
                "location_name": "Hwy 61",
                "latitude": "44.036",
                "longitude": "-91.619",
                "started_on": day.isoformat(),
            },
        )
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        message = field_error(html, "started_on")
        assert message and "The deployment start date" in message and "is in the future" in message
        assert field_error(html, "location_name") is None
    assert session.scalars(select(Deployment)).all() == []
    assert AuditAction.DEPLOYMENT_CREATED.value not in actions(session)


def test_device_kind_choices_keep_their_labels(client, session, login_as):
    login_as(*ADMIN_ROLES)
    page = client.get("/alpr/devices/new").get_data(as_text=True)
    assert '<option value="mobile">Mobile (in a car)</option>' in page
    assert '<option value="fixed">Fixed</option>' in page
