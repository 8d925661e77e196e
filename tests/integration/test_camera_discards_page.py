"""The device page tells the administrator what a camera sends that is thrown away."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.alpr.adapters.signatures import signing_secret
from app.auth.access import ADMIN_ROLES
from app.reads.models import Device
from tests.helpers import (
    camera_device,
    camera_sample,
    field_error,
    form_csrf,
    post_camera,
    recent_epoch_ms,
)


def test_discards_are_counted_per_device_and_shown_with_their_meaning(client, session, login_as):
    device, token = camera_device(session, "openalpr")
    other, other_token = camera_device(session, "openalpr", serial="CAM-ADAPTER-2")
    for hours in (1, 2, 3):
        payload = camera_sample("openalpr-alpr_group-1.json")
        payload["epoch_start"] = recent_epoch_ms(hours)
        payload["epoch_end"] = payload["epoch_start"] + 1000
        assert post_camera(client, "openalpr", payload, token=token).status_code == 200
    post_camera(client, "openalpr", camera_sample("openalpr-heartbeat-1.json"), token=other_token)
    login_as(*ADMIN_ROLES)

    page = client.get(f"/alpr/devices/{device.id}").get_data(as_text=True)

    assert "What this camera sends that is thrown away" in page
    assert re.search(
        r"vehicle colour <span[^>]*><code>vehicle.color</code></span></td>\s*<td>3 times", page
    )
    assert "direction of travel" in page and "licence key" not in page  # the other camera's
    assert "white" not in page and "ford" not in page  # counts, never values
    other_page = client.get(f"/alpr/devices/{other.id}").get_data(as_text=True)
    assert "camera stream URLs (may hold passwords)" in other_page
    assert "rtsp://" not in other_page


def test_counts_show_thousands_separators(client, session, login_as):
    from app.alpr.adapters.receive import count_discards
    from app.db import utcnow

    device, _ = camera_device(session, "genetec")
    count_discards(session, session.merge(device), {"Attributes.Vehicle Color": 1204}, utcnow())
    session.commit()
    login_as(*ADMIN_ROLES)
    page = client.get(f"/alpr/devices/{device.id}").get_data(as_text=True)
    assert "1,204 times" in page and "vehicle colour" in page


def test_registering_a_verkada_camera_on_the_page_shows_its_shared_secret(
    client, session, login_as, app
):
    login_as(*ADMIN_ROLES)
    csrf = form_csrf(client, "/alpr/devices/new")
    response = client.post(
        "/alpr/devices/new",
        data={"csrf_token": csrf, "serial": "VK-WEB", "kind": "fixed", "camera_format": "verkada"},
    )
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    token = re.search(r'data-testid="device-token">([^<]+)<', page).group(1)
    secret = re.search(r'data-testid="shared-secret">([^<]+)<', page).group(1)
    assert secret == signing_secret(app.config["SECRET_KEY"], token)
    device = session.scalars(select(Device).where(Device.serial == "VK-WEB")).one()
    assert device.camera_format == "verkada"
    assert secret not in client.get(f"/alpr/devices/{device.id}").get_data(as_text=True)
    refused = client.post(
        "/alpr/devices/new",
        data={"csrf_token": csrf, "serial": "BAD", "kind": "mobile", "camera_format": "hikvision"},
    )
    assert refused.status_code == 422
    assert field_error(refused.get_data(as_text=True), "camera_format")
