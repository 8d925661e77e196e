"""Pages name devices, people and cases rather than showing ids, each time carries the zone of
that very moment, and the hit list and a read link to each other (issue 15, items 2 and 3)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask import render_template_string

from app.audit.actions import AuditAction
from app.audit.services import record
from app.auth.models import Role
from app.core.timeutil import format_local
from app.db import utcnow
from app.reads.models import Search
from tests.factories import (
    DeviceFactory,
    ExculpatoryHoldFactory,
    HitFactory,
    HotlistSourceFactory,
    ReadFactory,
    UserFactory,
)
from tests.helpers import STATED_PURPOSE, form_csrf

#: An id where a name exists: "Device #3", "devices: 3", "users 7".
RAW_ID = re.compile(r"Device #\d|#\d+</dd>|devices: \d|\busers \d|\bdevices \d")

JULY = datetime(2026, 7, 15, 17, 0, tzinfo=UTC)  # 12:00 CDT
JANUARY = datetime(2026, 1, 15, 18, 0, tzinfo=UTC)  # 12:00 CST


def test_the_localtime_filter_gives_each_moment_its_own_zone(app):
    with app.test_request_context():
        shown = render_template_string("{{ a|localtime }} / {{ b|localtime }}", a=JULY, b=JANUARY)
    assert shown == "2026-07-15 12:00 CDT / 2026-01-15 12:00 CST"


def test_hits_of_summer_and_winter_show_cdt_and_cst(client, session, login_as):
    HitFactory(read=ReadFactory(captured_at=JULY, plate="SUMMER1"))
    HitFactory(read=ReadFactory(captured_at=JANUARY, plate="WINTER1"))
    login_as(Role.OPERATOR)
    page = client.get("/alpr/hits").get_data(as_text=True)
    assert "2026-07-15 12:00 CDT" in page and "2026-01-15 12:00 CST" in page


def test_search_results_name_the_device_and_no_page_prints_a_raw_id(client, session, login_as):
    device = DeviceFactory(serial="WPD-CAM-NAMED")
    read = ReadFactory(device=device, plate="NAME123")
    user = login_as(Role.OPERATOR)
    end = utcnow() + timedelta(minutes=1)
    fields = {
        **STATED_PURPOSE,
        "csrf_token": form_csrf(client, "/alpr/search"),
        "start": format_local(end - timedelta(hours=12), "%Y-%m-%dT%H:%M"),
        "end": format_local(end, "%Y-%m-%dT%H:%M"),
        "device_id": str(device.id),
    }
    assert client.post("/alpr/search", data=fields).status_code == 302
    session.rollback()
    search = session.query(Search).filter_by(user_id=user.id).one()
    page = client.get(f"/alpr/searches/{search.id}").get_data(as_text=True)
    assert "<dt>Device</dt><dd>WPD-CAM-NAMED</dd>" in page
    assert "each time in local time with its own zone" in page
    assert not RAW_ID.search(page)
    assert (
        f'href="/alpr/plates/{read.plate}/history"' in page
    )  # the plate's history, with its rules


def test_retention_pages_name_held_devices(client, session, login_as):
    device = DeviceFactory(serial="WPD-CAM-HELD")
    hold = ExculpatoryHoldFactory(held_devices=[device])
    login_as(Role.DEPUTY_CHIEF)
    dashboard = client.get("/retention/").get_data(as_text=True)
    detail = client.get(f"/retention/exculpatory/{hold.exculpatory_request_id}").get_data(
        as_text=True
    )
    for page in (dashboard, detail):
        assert "WPD-CAM-HELD" in page and not RAW_ID.search(page)


def test_the_audit_trail_names_people_devices_and_cases(client, session, login_as):
    subject = UserFactory(name="Pat Subject")
    device = DeviceFactory(serial="WPD-CAM-AUDITED")
    record(session, None, AuditAction.USER_CREATED, subject, {})
    record(session, None, AuditAction.DEVICE_CREATED, device, {})
    session.commit()
    login_as(Role.AUDITOR)
    page = client.get("/audit/").get_data(as_text=True)
    assert "user Pat Subject</a>" in page and "device WPD-CAM-AUDITED</a>" in page
    assert not RAW_ID.search(page)


def test_a_read_links_to_its_hits_and_a_hit_to_its_read(client, session, login_as):
    source = HotlistSourceFactory(name="MN stolen file")
    hit = HitFactory(source=source, read=ReadFactory(plate="LINK001"))
    login_as(Role.OPERATOR)
    panel = client.get(f"/alpr/hits/{hit.id}").get_data(as_text=True)
    read_link = f'href="/alpr/reads/{hit.read_id}?via=hit:{hit.id}"'
    assert read_link in panel
    read_page = client.get(f"/alpr/reads/{hit.read_id}?via=hit:{hit.id}").get_data(as_text=True)
    assert f'href="/alpr/hits/{hit.id}"' in read_page and "MN stolen file" in read_page
    assert 'href="/alpr/plates/LINK001/history"' in read_page


def test_the_hit_list_pages_and_takes_any_page_number(client, session, login_as):
    device, source = DeviceFactory(), HotlistSourceFactory()
    now = utcnow()
    for n in range(55):
        HitFactory(
            source=source, read=ReadFactory(device=device, captured_at=now - timedelta(minutes=n))
        )
    login_as(Role.OPERATOR)
    first = client.get("/alpr/hits").get_data(as_text=True)
    assert "55 open hits · showing 1–50, page 1 of 2" in first
    assert first.count('class="hit-new"') == 50
    for query in ("page=2", "page=99999999999999999999999", "page=2&size=7", "page=-4&size=100"):
        response = client.get(f"/alpr/hits?{query}")
        assert response.status_code == 200, query
    last = client.get("/alpr/hits?page=99999999999999999999999").get_data(as_text=True)
    assert "showing 51–55, page 2 of 2" in last and last.count('class="hit-new"') == 5
    everything = client.get("/alpr/hits?size=100").get_data(as_text=True)
    assert "55 open hits" in everything and everything.count('class="hit-new"') == 55
