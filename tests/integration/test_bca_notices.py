"""BCA notices (425.4.1(d), § 13.824 subd. 8): opened by themselves, due dates, overdue, steps.

The three events (installation, first use, a new fixed location) open their notice in the
event's own transaction, from a page, the CLI, the JSON ingest and the image upload alike, and
the daily job opens what any other path left (rows written directly); due dates are the
department's calendar dates across month, year and daylight-saving changes; overdue notices
are flagged once and shown on the home page of the Deputy Chief and the administrators; the
steps refuse bad input at its field with nothing saved, and keep the letter as a PDF.
"""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.alpr.devices import create_deployment, create_device
from app.audit.actions import AuditAction
from app.auth.models import Role, User, UserRole
from app.bca.models import BcaEvent, BcaNotice
from app.bca.services import (
    dashboard,
    flag_overdue_notices,
    is_overdue,
    notice_due_on,
    open_owed_notices,
    overdue_notices,
    record_notice_acknowledged,
    record_notice_sent,
)
from app.bca.workflow import BcaNoticeMachine
from app.core.timeutil import local_today
from app.db import utcnow
from app.retention.models import StoredDocument
from app.workflow.machine import WorkflowError
from tests.factories import (
    ActiveUsePeriodFactory,
    BcaNoticeFactory,
    DeploymentFactory,
    DeviceFactory,
    ReadFactory,
    UserFactory,
    api_read,
)
from tests.helpers import (
    count_rows,
    device_with_token,
    entries,
    entry_details,
    field_error,
    form_csrf,
    pdf_text,
    plate_picture,
    post_json,
    stored_documents,
    upload_fields,
    upload_image,
    when_run,
)
from workers.bca import flag_overdue_bca_notices

READS_URL = "/api/v1/reads"


def notices(session, device_id: int | None = None) -> list[BcaNotice]:
    session.rollback()  # see what requests committed
    query = select(BcaNotice).order_by(BcaNotice.id).execution_options(populate_existing=True)
    if device_id is not None:
        query = query.where(BcaNotice.device_id == device_id)
    return list(session.scalars(query))


def kinds(found: list[BcaNotice]) -> list[str]:
    return sorted(n.event for n in found)


def person(*roles: Role) -> User:
    """An unsaved user: the machine needs only the roles."""
    return User(email="x@example.test", name="X", role_rows=[UserRole(role=r.value) for r in roles])


def sending() -> dict[str, object]:
    """What a valid sending records, sent today (taken when the test runs, not at import)."""
    return {
        "sent_on": local_today(),
        "sent_method": "email",
        "sent_to": "BCA ALPR program",
        "sent_reference": "Subject: ALPR notice",
    }


# --- due dates: the department's calendar ------------------------------------------------


@pytest.mark.parametrize(
    ("event_on", "due_on"),
    [
        (date(2026, 1, 25), date(2026, 2, 4)),  # across a month end
        (date(2026, 4, 30), date(2026, 5, 10)),  # a 30-day month
        (date(2026, 12, 25), date(2027, 1, 4)),  # across a year end
        (date(2027, 2, 25), date(2027, 3, 7)),  # February, common year
        (date(2028, 2, 25), date(2028, 3, 6)),  # February, leap year
        (date(2026, 3, 5), date(2026, 3, 15)),  # over the spring-forward Sunday (Mar 8)
        (date(2026, 10, 28), date(2026, 11, 7)),  # over the fall-back Sunday (Nov 1)
    ],
)
def test_a_notice_is_due_ten_calendar_days_after_its_event(event_on, due_on):
    assert notice_due_on(event_on) == due_on


@pytest.mark.parametrize(
    ("first_read_utc", "event_on", "due_on"),
    [
        # 23:30 CST on New Year's Eve is already the new year in UTC: the local date counts.
        (datetime(2027, 1, 1, 5, 30, tzinfo=UTC), date(2026, 12, 31), date(2027, 1, 10)),
        # 23:30 CDT on Jan 31... of a summer month: Aug 31 local, Sep 1 UTC.
        (datetime(2026, 9, 1, 4, 30, tzinfo=UTC), date(2026, 8, 31), date(2026, 9, 10)),
        # Spring forward (2026-03-08 02:00 CST = 08:00 UTC): 23:59 CST the evening before.
        (datetime(2026, 3, 8, 5, 59, tzinfo=UTC), date(2026, 3, 7), date(2026, 3, 17)),
        # 01:30 CST that night, before the clocks move: already March 8.
        (datetime(2026, 3, 8, 7, 30, tzinfo=UTC), date(2026, 3, 8), date(2026, 3, 18)),
        # Fall back (2026-11-01 02:00 CDT = 07:00 UTC): 23:30 CDT the evening before.
        (datetime(2026, 11, 1, 4, 30, tzinfo=UTC), date(2026, 10, 31), date(2026, 11, 10)),
        # 23:30 CST on the fall-back day is 05:30 UTC the next day, still November 1 here.
        (datetime(2026, 11, 2, 5, 30, tzinfo=UTC), date(2026, 11, 1), date(2026, 11, 11)),
    ],
)
def test_a_first_use_is_dated_by_the_departments_calendar(
    session, first_read_utc, event_on, due_on
):
    device = DeviceFactory(installed_on=date(2026, 1, 1), first_used_at=first_read_utc)
    open_owed_notices(session, "test")
    (notice,) = [n for n in notices_of(session, device) if n.event == BcaEvent.FIRST_USE]
    assert (notice.event_on, notice.due_on) == (event_on, due_on)


def notices_of(session, device) -> list[BcaNotice]:
    session.flush()
    return list(session.scalars(select(BcaNotice).where(BcaNotice.device_id == device.id)))


# --- the three events open their notices by themselves ------------------------------------


def test_registering_a_device_opens_its_installation_notice(session):
    today = local_today()
    installed = today - timedelta(days=4)
    device, _ = create_device(
        session, "test", serial="BCA-1", kind="mobile", installed_on=installed
    )
    session.commit()
    (notice,) = notices(session, device.id)
    assert notice.event == BcaEvent.INSTALLATION.value
    assert (notice.event_on, notice.due_on) == (installed, installed + timedelta(days=10))
    assert notice.status == "open"
    (opened,) = entry_details(session, AuditAction.BCA_NOTICE_OPENED)
    assert opened["event"] == "installation" and opened["due_on"] == notice.due_on.isoformat()


def test_a_device_registered_without_an_installation_date_is_taken_as_installed_that_day(
    app, session
):
    today = local_today()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["devices", "create", "--serial", "BCA-CLI", "--kind", "mobile"])
    assert result.exit_code == 0, result.output
    (notice,) = notices(session)
    assert (notice.event, notice.event_on) == ("installation", today)


def test_a_deployment_opens_a_fixed_location_notice_for_each_location(session):
    today = local_today()
    device, _ = create_device(session, "test", serial="BCA-F", kind="fixed", installed_on=today)
    first = create_deployment(
        session,
        "test",
        device,
        location_name="Hwy 61 at Pelzer St",
        latitude=44.036,
        longitude=-91.619,
        started_on=today - timedelta(days=2),
    )
    session.commit()
    located = [n for n in notices(session, device.id) if n.event == "fixed_location"]
    assert [(n.deployment_id, n.event_on) for n in located] == [
        (first.id, today - timedelta(days=2))
    ]
    assert kinds(notices(session, device.id)) == ["fixed_location", "installation"]


def test_the_deployment_page_opens_the_notice_with_the_deployment(client, session, login_as):
    today = local_today()
    login_as(Role.ADMIN)
    device, _ = create_device(session, "test", serial="BCA-WEB", kind="fixed")
    session.commit()
    csrf = form_csrf(client, f"/alpr/devices/{device.id}")
    response = client.post(
        f"/alpr/devices/{device.id}/deployments",
        data={
            "csrf_token": csrf,
            "location_name": "Broadway at Main",
            "latitude": "44.05",
            "longitude": "-91.64",
            "started_on": today.isoformat(),
        },
    )
    assert response.status_code == 302
    assert kinds(notices(session, device.id)) == ["fixed_location", "installation"]


def test_the_first_read_ingested_opens_the_first_use_notice_once(client, session):
    device, token = device_with_token(session, serial="BCA-USE")
    first = post_json(client, token, {"reads": [api_read("AAA111", minutes_ago=30)]}, url=READS_URL)
    assert first.status_code == 200, first.get_json()
    again = post_json(client, token, {"reads": [api_read("BBB222", minutes_ago=1)]}, url=READS_URL)
    assert again.status_code == 200
    found = notices(session, device.id)
    assert kinds(found) == ["first_use", "installation"]
    (use,) = [n for n in found if n.event == "first_use"]
    assert use.event_on == local_today(utcnow() - timedelta(minutes=30))
    assert len(entries(session, AuditAction.BCA_NOTICE_OPENED)) == 2


def test_a_late_read_captured_earlier_brings_an_open_notice_forward(client, session):
    device, token = device_with_token(session, serial="BCA-LATE")
    post_json(client, token, {"reads": [api_read("AAA111", minutes_ago=5)]}, url=READS_URL)
    earlier = api_read("CCC333", minutes_ago=5)
    earlier["captured_at"] = (utcnow() - timedelta(days=3)).isoformat()
    assert post_json(client, token, {"reads": [earlier]}, url=READS_URL).status_code == 200
    (use,) = [n for n in notices(session, device.id) if n.event == "first_use"]
    assert use.event_on == local_today(utcnow() - timedelta(days=3))
    assert use.due_on == use.event_on + timedelta(days=10)
    (corrected,) = entry_details(session, AuditAction.BCA_NOTICE_CORRECTED)
    assert corrected["due_on"][1] == use.due_on.isoformat()


def test_an_image_only_read_opens_the_first_use_notice(client, session):
    device, token = device_with_token(session, serial="BCA-IMG")
    response = upload_image(
        client, token, upload_fields(plate="IMG123"), {"plate": (plate_picture(), "p.png")}
    )
    assert response.status_code in (200, 201, 202), response.get_json()
    assert kinds(notices(session, device.id)) == ["first_use", "installation"]


def test_the_daily_job_opens_what_rows_written_another_way_owe(app, session):
    """Devices, deployments and reads inserted directly (bulk loads, COPY) still get notices."""
    today = local_today()
    mobile = DeviceFactory(installed_on=today - timedelta(days=20))
    ReadFactory(device=mobile, captured_at=utcnow() - timedelta(days=15))
    ReadFactory(device=mobile, captured_at=utcnow() - timedelta(days=12))
    placed = DeploymentFactory(started_on=today - timedelta(days=1))
    ActiveUsePeriodFactory(
        device_id=placed.device.id, started_at=utcnow() - timedelta(hours=2), ended_at=utcnow()
    )
    assert notices(session) == []

    result = flag_overdue_bca_notices()

    assert result["opened"] == 6
    by_event = {(n.device_id, n.event): n for n in notices(session)}
    assert by_event[(mobile.id, "first_use")].event_on == local_today(utcnow() - timedelta(days=15))
    assert by_event[(placed.device.id, "fixed_location")].deployment_id == placed.id
    assert by_event[(placed.device.id, "first_use")].event_on == local_today(
        utcnow() - timedelta(hours=2)
    )
    # overdue ones (the mobile's installation and first use) are flagged in the same run
    assert sorted(result["flagged_overdue"]) == sorted(
        [by_event[(mobile.id, "installation")].id, by_event[(mobile.id, "first_use")].id]
    )
    rerun = flag_overdue_bca_notices()
    assert (rerun["opened"], rerun["flagged_overdue"]) == (0, [])
    assert len(notices(session)) == 6


# --- overdue --------------------------------------------------------------------------------


def test_a_notice_is_overdue_the_day_after_its_due_date_until_sent(session):
    today = local_today()
    due_yesterday = BcaNoticeFactory(event_on=today - timedelta(days=11))
    due_today = BcaNoticeFactory(event_on=today - timedelta(days=10))
    sent_late = BcaNoticeFactory(
        event_on=today - timedelta(days=30),
        status="sent",
        sent_on=today - timedelta(days=2),
        sent_method="mail",
        sent_to="BCA",
    )
    assert is_overdue(due_yesterday, today) and not is_overdue(due_today, today)
    assert not is_overdue(sent_late, today)
    assert [n.id for n in overdue_notices(session, today)] == [due_yesterday.id]
    assert [n.id for n in overdue_notices(session, today + timedelta(days=1))] == [
        due_yesterday.id,
        due_today.id,
    ]
    board = dashboard(session, today)
    assert (board.overdue, board.due_soon, board.open) == (1, 1, 2)
    assert [r.deadline for r in board.rows] == ["overdue by 1 day", "due today", "sent late"]


def test_overdue_notices_are_flagged_once_each(session):
    today = local_today()
    late = BcaNoticeFactory(event_on=today - timedelta(days=12))
    BcaNoticeFactory(event_on=today - timedelta(days=2))
    assert [n.id for n in flag_overdue_notices(session, "test", today)] == [late.id]
    assert flag_overdue_notices(session, "test", today) == []
    session.commit()
    (flag,) = entry_details(session, AuditAction.BCA_NOTICE_OVERDUE)
    assert flag["days_overdue"] == 2


@pytest.mark.parametrize(
    ("role", "shown"),
    [
        (Role.DEPUTY_CHIEF, True),
        (Role.ADMIN, True),
        (Role.DESIGNEE, True),
        (Role.OPERATOR, False),
        (Role.AUDITOR, False),
    ],
)
def test_the_home_page_of_those_who_send_notices_lists_the_overdue_ones(
    client, session, login_as, role, shown
):
    today = local_today()
    late = BcaNoticeFactory(event_on=today - timedelta(days=15))
    login_as(role)
    page = client.get("/").get_data(as_text=True)
    assert ('data-testid="bca-due"' in page) is shown
    assert (f"/bca/{late.id}" in page) is shown


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP to take one message (no STARTTLS offered)."""

    def handle(self) -> None:
        self.wfile.write(b"220 test\r\n")
        data = False
        for raw in self.rfile:
            line = raw.decode()
            if data:
                if line == ".\r\n":
                    data = False
                    self.wfile.write(b"250 queued\r\n")
                else:
                    self.server.messages[-1] += line  # type: ignore[attr-defined]
                continue
            verb = line[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.wfile.write(b"250 test\r\n")
            elif verb == "RCPT":
                self.server.recipients.append(line.split(":", 1)[1].strip())  # type: ignore[attr-defined]
                self.wfile.write(b"250 ok\r\n")
            elif verb == "DATA":
                self.server.messages.append("")  # type: ignore[attr-defined]
                data = True
                self.wfile.write(b"354 go\r\n")
            elif verb == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp_server() -> Iterator[socketserver.TCPServer]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpHandler)
    server.messages, server.recipients = [], []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_the_daily_job_mails_newly_overdue_notices_when_smtp_is_configured(
    make_app, session, smtp_server
):
    today = local_today()
    UserFactory(email="chief@example.test", roles=[Role.DEPUTY_CHIEF])
    UserFactory(email="admin@example.test", roles=[Role.ADMIN])
    UserFactory(email="gone@example.test", roles=[Role.ADMIN], is_active_account=False)
    UserFactory(email="op@example.test", roles=[Role.OPERATOR])
    late = BcaNoticeFactory(event_on=today - timedelta(days=11))
    port = smtp_server.server_address[1]
    mailing = make_app(SMTP_URL=f"smtp://127.0.0.1:{port}", MAIL_FROM="alpr@example.test")
    with mailing.app_context():
        assert flag_overdue_bca_notices()["flagged_overdue"] == [late.id]
        assert flag_overdue_bca_notices()["flagged_overdue"] == []  # mailed once
    assert smtp_server.recipients == ["<admin@example.test>", "<chief@example.test>"]
    (message,) = smtp_server.messages
    assert "1 BCA notice(s) overdue" in message and f"#{late.id} installation" in message


def test_without_smtp_the_overdue_notice_is_logged(app, session, caplog):
    today = local_today()
    BcaNoticeFactory(event_on=today - timedelta(days=11))
    UserFactory(roles=[Role.DEPUTY_CHIEF])
    with caplog.at_level("WARNING"):
        flag_overdue_bca_notices()
    assert "BCA notices overdue" in caplog.text


# --- the machine and the steps ----------------------------------------------------------------

CHIEF = person(Role.DEPUTY_CHIEF)


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.DEPUTY_CHIEF, True),
        (Role.DESIGNEE, True),
        (Role.ADMIN, True),
        (Role.OPERATOR, False),
        (Role.AUDITOR, False),
        (Role.RECORDS, False),
    ],
)
def test_who_sends_and_acknowledges(session, role, allowed):
    today = local_today()
    notice = BcaNoticeFactory()
    machine = BcaNoticeMachine.around(notice)
    if not allowed:
        with pytest.raises(WorkflowError, match="Only the Deputy Chief"):
            machine.fire("send_notice", actor=person(role), **sending())
        return
    machine.fire("send_notice", actor=person(role), **sending())
    notice.sent_on = today
    machine.fire("acknowledge", actor=person(role), acknowledged_on=today)
    assert notice.status == "acknowledged"


def test_steps_out_of_order_are_refused(session):
    today = local_today()
    with pytest.raises(WorkflowError, match="open cannot take"):
        BcaNoticeMachine.around(BcaNoticeFactory()).fire(
            "acknowledge", actor=CHIEF, acknowledged_on=today
        )


def test_sending_keeps_the_letter_with_the_facts_the_bca_needs(app, session):
    today = local_today()
    deployment = DeploymentFactory(
        location_name="Hwy 43 at Sarnia St",
        latitude=44.0412,
        longitude=-91.6589,
        started_on=today - timedelta(days=2),
    )
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF], name="Dana Chief")
    open_owed_notices(session, "test", device_id=deployment.device.id)
    (notice,) = [n for n in notices_of(session, deployment.device) if n.deployment_id]
    record_notice_sent(session, chief, notice, department="Winona Police Department", **sending())
    session.commit()
    assert notice.status == "sent" and notice.sent_by_id == chief.id
    (path,) = stored_documents(app)
    assert session.get(StoredDocument, notice.letter_sha256).content_type == "application/pdf"
    text = pdf_text(path.read_bytes())
    for fact in (
        "Winona Police Department",
        "New fixed location",
        deployment.device.serial,
        "Hwy 43 at Sarnia St",
        "44.041200, -91.658900",
        notice.event_on.isoformat(),
        "BCA ALPR program",
        "Subject: ALPR notice",
        "Dana Chief",
        "13.824",
    ):
        assert fact in text, fact
    (sent,) = entry_details(session, AuditAction.BCA_NOTICE_SENT)
    assert sent["letter_sha256"] == notice.letter_sha256 and sent["on_time"] is True
    record_notice_acknowledged(
        session, chief, notice, acknowledged_on=today, acknowledgement_note=" BCA ref 7 "
    )
    session.commit()
    assert (notice.status, notice.acknowledgement_note) == ("acknowledged", "BCA ref 7")


# --- the pages ------------------------------------------------------------------------------


def send_form(client, notice: BcaNotice, **fields) -> dict:
    return {
        "csrf_token": form_csrf(client, f"/bca/{notice.id}"),
        **{k: v.isoformat() if isinstance(v, date) else v for k, v in sending().items()},
        **fields,
    }


@pytest.mark.parametrize(
    ("fields", "field_id", "message"),
    [
        ({"sent_on": lambda: (local_today() + timedelta(days=1)).isoformat()}, "sent_on", "future"),
        (
            {"sent_on": lambda: (local_today() - timedelta(days=9)).isoformat()},
            "sent_on",
            "before the event",
        ),
        ({"sent_on": "9999-99-99"}, "sent_on", "Not a valid date"),
        ({"sent_on": ""}, "sent_on", "Enter the date"),
        ({"sent_method": "pigeon"}, "sent_method", "Not a valid choice"),
        ({"sent_method": ""}, "sent_method", "Choose how"),
        ({"sent_to": "   "}, "sent_to", "Name who"),
        ({"sent_to": "BCA\x00"}, "sent_to", "control characters"),
        ({"sent_to": "B" * 201}, "sent_to", "1 to 200"),
        ({"sent_reference": ""}, "sent_reference", "reference"),
        ({"sent_reference": "R" * 121}, "sent_reference", "1 to 120"),
    ],
)
def test_a_bad_sending_is_refused_at_its_field_and_nothing_is_saved(
    app, client, session, login_as, fields, field_id, message
):
    today = local_today()
    login_as(Role.ADMIN)
    notice = BcaNoticeFactory(event_on=today - timedelta(days=3))
    typed = {"sent_reference": "kept as typed"} if field_id != "sent_reference" else {}
    response = client.post(
        f"/bca/{notice.id}/send", data=send_form(client, notice, **{**typed, **when_run(fields)})
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in (field_error(page, field_id) or ""), page[:3000]
    if typed:
        assert 'value="kept as typed"' in page
    assert notices(session)[0].status == "open"
    assert stored_documents(app) == [] and entries(session, AuditAction.BCA_NOTICE_SENT) == []


def test_the_pages_take_a_notice_from_open_to_acknowledged(app, client, session, login_as):
    today = local_today()
    login_as(Role.DESIGNEE)
    notice = BcaNoticeFactory(event_on=today - timedelta(days=12))
    board = client.get("/bca/").get_data(as_text=True)
    assert "overdue by 2 days" in board and f"/bca/{notice.id}" in board
    draft = client.get(f"/bca/{notice.id}/letter.pdf")
    assert draft.status_code == 200 and draft.data.startswith(b"%PDF-")
    assert stored_documents(app) == []  # a draft is not kept

    sent = client.post(f"/bca/{notice.id}/send", data=send_form(client, notice))
    assert sent.status_code == 302
    page = client.get(f"/bca/{notice.id}").get_data(as_text=True)
    assert 'data-testid="bca-sent"' in page and "late" in page
    kept = client.get(f"/bca/{notice.id}/letter.pdf")
    assert kept.status_code == 200 and kept.data == stored_documents(app)[0].read_bytes()

    csrf = form_csrf(client, f"/bca/{notice.id}")
    too_early = client.post(
        f"/bca/{notice.id}/acknowledge",
        data={"csrf_token": csrf, "acknowledged_on": (today - timedelta(days=1)).isoformat()},
    )
    assert too_early.status_code == 422
    assert "before the date sent" in field_error(
        too_early.get_data(as_text=True), "acknowledged_on"
    )
    done = client.post(
        f"/bca/{notice.id}/acknowledge",
        data={"csrf_token": csrf, "acknowledged_on": today.isoformat()},
    )
    assert done.status_code == 302
    final = client.get(f"/bca/{notice.id}").get_data(as_text=True)
    assert "data-step" not in final
    assert notices(session)[0].status == "acknowledged"
    assert [e.action for e in entries(session, AuditAction.BCA_NOTICE_ACKNOWLEDGED)] == [
        AuditAction.BCA_NOTICE_ACKNOWLEDGED.value
    ]


def test_a_stale_csrf_token_is_a_400(client, session, login_as):
    login_as(Role.ADMIN)
    notice = BcaNoticeFactory()
    response = client.post(
        f"/bca/{notice.id}/send", data={**send_form(client, notice), "csrf_token": "x"}
    )
    assert response.status_code == 400
    assert count_rows(session, BcaNotice) == 1 and notices(session)[0].status == "open"


@pytest.mark.parametrize(
    ("roles", "trained", "view", "step"),
    [
        ((Role.AUDITOR,), True, 200, 403),
        ((Role.ADMIN,), True, 200, 302),
        ((Role.ADMIN,), False, 403, 403),
        ((Role.OPERATOR,), True, 403, 403),
        ((Role.RECORDS,), True, 403, 403),
    ],
)
def test_who_reaches_the_notice_pages(client, session, login_as, roles, trained, view, step):
    login_as(*roles, trained=trained)
    notice = BcaNoticeFactory()
    assert client.get("/bca/").status_code == view
    assert client.get(f"/bca/{notice.id}").status_code == view
    assert client.get(f"/bca/{notice.id}/letter.pdf").status_code == view
    csrf = form_csrf(client, "/") if view != 200 else form_csrf(client, f"/bca/{notice.id}")
    posted = client.post(
        f"/bca/{notice.id}/send",
        data={**{k: str(v) for k, v in sending().items()}, "csrf_token": csrf},
    )
    assert posted.status_code == step


def test_an_unknown_notice_is_404(client, session, login_as):
    login_as(Role.ADMIN)
    assert client.get("/bca/12345").status_code == 404
    assert client.get(f"/bca/{2**63}").status_code == 404


# --- the command ------------------------------------------------------------------------------


def test_bca_list_prints_due_and_overdue_notices(app, session):
    today = local_today()
    late = BcaNoticeFactory(event_on=today - timedelta(days=11))
    soon = BcaNoticeFactory(event_on=today - timedelta(days=8))
    BcaNoticeFactory(
        event_on=today - timedelta(days=3),
        status="sent",
        sent_on=today,
        sent_method="fax",
        sent_to="BCA",
    )
    output = app.test_cli_runner().invoke(args=["bca", "list"]).output
    lines = output.strip().splitlines()
    assert lines[0].split("\t")[0] == str(late.id) and lines[0].endswith("\tOVERDUE")
    assert lines[1].split("\t")[0] == str(soon.id) and lines[1].endswith("\t2 days left")
    assert lines[-1] == "1 overdue, 1 due within 3 days, 2 open"
    everything = app.test_cli_runner().invoke(args=["bca", "list", "--all"]).output
    assert len(everything.strip().splitlines()) == 4
