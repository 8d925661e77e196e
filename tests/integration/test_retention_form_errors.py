"""Retention forms that are refused keep what was typed and say why next to the field (422).

Also the plausibility of the dates that decide retention: a received or opened date in the
future, or a resolved or ended date before receipt or in the future, is refused by the service
(so a view, a job or the CLI all get it) and nothing, not even an audit entry, is saved.
"""

from __future__ import annotations

import html
import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.audit.actions import AuditAction
from app.audit.models import AuditEntry
from app.auth.models import Role
from app.core.refusal import Refusal
from app.core.timeutil import local_today
from app.db import utcnow
from app.investigations.models import Investigation
from app.investigations.services import InvestigationError, open_investigation
from app.retention.acp.lifecycle import AcpError, end_acp_request, receive_acp_request
from app.retention.exculpatory import (
    ExculpatoryError,
    activate_exculpatory_hold,
    receive_exculpatory_request,
    release_exculpatory_hold,
)
from app.retention.holds import HoldError, clean_scope
from app.retention.models import AcpRequest, ExculpatoryRequest, Hold
from tests import factories
from tests.helpers import CONFIRMED, PAPER_ORIGINAL, PDF, form_csrf, when_run

FAR_FUTURE = date(9999, 12, 31)
LONG_AGO = date(1900, 1, 1)
#: The last day the date pickers take (app.core.timeutil.TYPED_YEARS): still in the future.
LATEST = date(2100, 12, 31)


def received() -> date:
    """The day the requests here were received: 20 days ago, counted when the test runs.

    Not a module constant: a run that crosses the department's midnight would compare the day
    the module was imported with the service's today.
    """
    return local_today() - timedelta(days=20)


def before_receipt() -> date:
    """The day before :func:`received`: too early to resolve or end a request."""
    return received() - timedelta(days=1)


def field_errors(body: str, field_id: str) -> list[str]:
    """The messages the form macro shows under one field (``<p id="<field>-err">``)."""
    found = re.findall(rf'<p class="error" id="{re.escape(field_id)}-err"[^>]*>(.*?)</p>', body)
    return [html.unescape(m) for m in found]


def audit_count(session, *actions: AuditAction) -> int:
    session.commit()
    return session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action.in_([a.value for a in actions]))
    )


def _exculpatory(session, status: str = "active") -> ExculpatoryRequest:
    """A request received 20 days ago (through the service, so its hold exists)."""
    records = factories.UserFactory(roles=[Role.RECORDS])
    request = receive_exculpatory_request(
        session,
        records,
        requester_name="J. Subject",
        case_file_number="85-CR-1",
        received_on=received(),
        window_start=utcnow() - timedelta(days=30),
        window_end=utcnow() - timedelta(days=25),
        plates=["ABC123"],
        paper_original=PAPER_ORIGINAL,
    )
    if status == "active":
        activate_exculpatory_hold(session, records, request)
    session.commit()
    return request


def _acp(**fields) -> AcpRequest:
    return factories.AcpSuppressionFactory(received_on=received(), **fields)


# --- A: a refused step re-renders the request's page with the typed values ---------------


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"disposition": "Charges dismissed 3/4"}, "resolved_on", "date it was resolved"),
        (
            {"disposition": "Charges dismissed 3/4", "resolved_on": "03/04/2026"},
            "resolved_on",
            "Not a valid date",
        ),
        (
            {"disposition": "Charges dismissed 3/4", "resolved_on": LONG_AGO.isoformat()},
            "resolved_on",
            "Enter a year from",
        ),
        (
            {
                "disposition": "Charges dismissed 3/4",
                "resolved_on": lambda: before_receipt().isoformat(),
            },
            "resolved_on",
            "before the request was received",
        ),
        (
            {"disposition": "Charges dismissed 3/4", "resolved_on": LATEST.isoformat()},
            "resolved_on",
            "in the future",
        ),
        (
            {"disposition": "", "resolved_on": lambda: local_today().isoformat()},
            "disposition",
            "disposition",
        ),
        (
            {"disposition": "x" * 2001, "resolved_on": lambda: local_today().isoformat()},
            "disposition",
            "2000",
        ),
    ],
)
def test_a_refused_release_keeps_the_input_and_names_the_field(
    client, session, login_as, data, field, message
):
    data = when_run(data)
    request = _exculpatory(session)
    login_as(Role.DEPUTY_CHIEF)
    detail = f"/retention/exculpatory/{request.id}"
    response = client.post(
        f"{detail}/release", data={"csrf_token": form_csrf(client, detail), **data, **CONFIRMED}
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert any(message in error for error in field_errors(body, field)), body
    for typed in data.values():
        if len(typed) < 100:
            assert html.escape(typed) in body, f"{typed!r} was not kept"
    session.expire_all()
    assert session.get(ExculpatoryRequest, request.id).status == "active"
    assert audit_count(session, AuditAction.EXCULPATORY_RELEASED) == 0


@pytest.mark.parametrize(
    ("reason", "message"),
    [("  ", "Declining needs a stated reason"), ("No. " * 501, "2000")],
)
def test_a_refused_decline_keeps_the_input_and_names_the_field(
    client, session, login_as, reason, message
):
    request = _exculpatory(session, status="received")
    login_as(Role.DEPUTY_CHIEF)
    detail = f"/retention/exculpatory/{request.id}"
    response = client.post(
        f"{detail}/decline",
        data={"csrf_token": form_csrf(client, detail), "reason": reason, **CONFIRMED},
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert any(message in error for error in field_errors(body, "reason")), body
    assert reason.strip() in body
    session.expire_all()
    assert session.get(ExculpatoryRequest, request.id).status == "received"
    assert audit_count(session, AuditAction.EXCULPATORY_DECLINED) == 0


@pytest.mark.parametrize(
    ("ended_on", "message"),
    [
        ("12/31/2026", "Not a valid date"),
        ("", "Give the date the participant left"),
        (LONG_AGO.isoformat(), "Enter a year from"),
        (lambda: before_receipt().isoformat(), "before the request was received"),
        (LATEST.isoformat(), "in the future"),
        (FAR_FUTURE.isoformat(), "Enter a year from"),
    ],
)
def test_a_refused_acp_end_keeps_the_input_and_names_the_field(
    client, session, login_as, ended_on, message
):
    ended_on = when_run(ended_on)
    request = _acp()
    login_as(Role.RECORDS)
    detail = f"/retention/acp/{request.id}"
    response = client.post(
        f"{detail}/end", data={"csrf_token": form_csrf(client, detail), "ended_on": ended_on}
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert any(message in error for error in field_errors(body, "ended_on")), body
    assert f'value="{ended_on}"' in body
    session.expire_all()
    ended = session.get(AcpRequest, request.id)
    assert (ended.status, ended.ended_on) == ("suppression_active", None)
    assert audit_count(session, AuditAction.ACP_ENDED) == 0


def test_a_step_the_state_forbids_re_renders_the_page_with_the_reason(client, session, login_as):
    request = _exculpatory(session)
    login_as(Role.DESIGNEE)
    detail = f"/retention/exculpatory/{request.id}"
    response = client.post(f"{detail}/activate", data={"csrf_token": form_csrf(client, detail)})
    body = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "active cannot take the 'activate' step" in body
    assert "Matter resolved: release" in body, "the request's page is shown again"
    assert audit_count(session, AuditAction.EXCULPATORY_ACTIVATED) == 1, "only the real one"


def test_a_valid_release_and_end_still_go_through(client, session, login_as):
    today = local_today()
    request = _exculpatory(session)
    participant = _acp()
    login_as(Role.DEPUTY_CHIEF)
    detail = f"/retention/exculpatory/{request.id}"
    response = client.post(
        f"{detail}/release",
        data={
            "csrf_token": form_csrf(client, detail),
            "disposition": "Dismissed",
            "resolved_on": received().isoformat(),
            **CONFIRMED,
        },
    )
    assert response.status_code == 302
    acp_detail = f"/retention/acp/{participant.id}"
    response = client.post(
        f"{acp_detail}/end",
        data={"csrf_token": form_csrf(client, acp_detail), "ended_on": today.isoformat()},
    )
    assert response.status_code == 302
    session.expire_all()
    assert session.get(ExculpatoryRequest, request.id).resolved_on == received()
    assert session.get(AcpRequest, participant.id).ended_on == today
    assert audit_count(session, AuditAction.EXCULPATORY_RELEASED, AuditAction.ACP_ENDED) == 2


# --- B: impossible dates are refused by the services -------------------------------------


@pytest.mark.parametrize("resolved_on", [LONG_AGO, before_receipt, FAR_FUTURE])
def test_release_refuses_a_date_before_receipt_or_in_the_future(session, resolved_on):
    request = _exculpatory(session)
    chief = factories.UserFactory(roles=[Role.DEPUTY_CHIEF])
    with pytest.raises(ExculpatoryError, match="resolution date") as refused:
        release_exculpatory_hold(
            session, chief, request, disposition="Dismissed", resolved_on=when_run(resolved_on)
        )
    assert refused.value.field == "resolved_on"
    assert isinstance(refused.value, Refusal), "pages catch every refusal as one"
    session.rollback()
    assert session.get(ExculpatoryRequest, request.id).status == "active"
    assert audit_count(session, AuditAction.EXCULPATORY_RELEASED) == 0


@pytest.mark.parametrize("ended_on", [LONG_AGO, before_receipt, FAR_FUTURE])
def test_ending_refuses_a_date_before_receipt_or_in_the_future(session, ended_on):
    request = _acp()
    records = factories.UserFactory(roles=[Role.RECORDS])
    with pytest.raises(AcpError, match="date left") as refused:
        end_acp_request(session, records, request, ended_on=when_run(ended_on))
    assert refused.value.field == "ended_on"
    session.rollback()
    assert session.get(AcpRequest, request.id).status == "suppression_active"
    assert audit_count(session, AuditAction.ACP_ENDED) == 0


def test_received_and_closing_dates_may_be_the_same_day(session):
    request = _exculpatory(session)
    records = factories.UserFactory(roles=[Role.RECORDS])
    designee = factories.UserFactory(roles=[Role.DESIGNEE])
    release_exculpatory_hold(
        session, designee, request, disposition="Dismissed", resolved_on=received()
    )
    end_acp_request(session, records, _acp(), ended_on=received())
    session.commit()
    assert audit_count(session, AuditAction.EXCULPATORY_RELEASED, AuditAction.ACP_ENDED) == 2


def test_received_dates_in_the_future_are_refused(session):
    records = factories.UserFactory(roles=[Role.RECORDS])
    tomorrow = local_today() + timedelta(days=1)  # now, not at import: the day may turn
    with pytest.raises(ExculpatoryError, match="in the future") as refused:
        receive_exculpatory_request(
            session,
            records,
            requester_name="J. Subject",
            case_file_number="85-CR-1",
            received_on=tomorrow,
            window_start=utcnow() - timedelta(days=3),
            window_end=utcnow(),
            plates=["ABC123"],
            paper_original=PAPER_ORIGINAL,
        )
    assert refused.value.field == "received_on"
    with pytest.raises(AcpError, match="in the future") as refused:
        receive_acp_request(
            session,
            records,
            participant_number="ACP-1",
            plates=["HIDE1"],
            received_on=FAR_FUTURE,
            paper_original=PAPER_ORIGINAL,
        )
    assert refused.value.field == "received_on"
    session.rollback()
    assert session.scalars(select(ExculpatoryRequest)).all() == []
    assert session.scalars(select(AcpRequest)).all() == []
    assert session.scalars(select(Hold)).all() == []
    assert audit_count(session, AuditAction.EXCULPATORY_RECEIVED, AuditAction.ACP_RECEIVED) == 0


def test_an_investigation_cannot_open_in_the_future(session):
    today = local_today()
    with pytest.raises(InvestigationError, match="opening date") as refused:
        open_investigation(session, "cli", case_number="24-9", title="t", opened_on=FAR_FUTURE)
    assert refused.value.field == "opened_on"
    session.rollback()
    assert session.scalars(select(Investigation)).all() == []
    assert audit_count(session, AuditAction.INVESTIGATION_OPENED) == 0
    open_investigation(session, "cli", case_number="24-9", title="t", opened_on=today)
    session.commit()
    assert audit_count(session, AuditAction.INVESTIGATION_OPENED) == 1


def _request_form(client, path: str, **overrides):
    today = local_today()
    data = {
        "csrf_token": form_csrf(client, path),
        "received_on": LATEST.isoformat(),
        "plates": "ABC123",
        "document": (io.BytesIO(PDF), "req.pdf"),
    }
    if "exculpatory" in path:
        data |= {
            "requester_name": "J. Subject",
            "case_file_number": "85-CR-1",
            "window_start": f"{received().isoformat()} 08:00",
            "window_end": f"{today.isoformat()} 08:00",
        }
    else:
        data["participant_number"] = "ACP-77"
    data.update(overrides)
    return client.post(path, data=data, content_type="multipart/form-data")


@pytest.mark.parametrize("path", ["/retention/exculpatory/new", "/retention/acp/new"])
def test_a_future_received_date_is_shown_at_its_field(client, session, login_as, path):
    login_as(Role.RECORDS)
    response = _request_form(client, path)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert any("in the future" in e for e in field_errors(body, "received_on")), body
    assert LATEST.isoformat() in body and "ABC123" in body
    assert audit_count(session, AuditAction.EXCULPATORY_RECEIVED, AuditAction.ACP_RECEIVED) == 0


# --- C: hold release refusals are 422 at the reason field --------------------------------


def test_refused_hold_releases_are_422_at_the_reason(client, session, login_as):
    today = local_today()
    login_as(Role.ADMIN)
    case = factories.InvestigationFactory()
    response = client.post(
        "/retention/holds/new",
        data={
            "csrf_token": form_csrf(client, "/retention/holds/new"),
            "investigation_id": case.id,
            "window_start": f"{received().isoformat()} 00:00",
            "window_end": f"{today.isoformat()} 00:00",
            "plates": "ABC123",
        },
    )
    assert response.status_code == 302
    hold_id = session.scalars(select(Hold.id)).one()
    url = f"/retention/holds/{hold_id}/release"

    blank = client.post(
        url, data={"csrf_token": form_csrf(client, url), "reason": "  ", **CONFIRMED}
    )
    assert blank.status_code == 422
    assert field_errors(blank.get_data(as_text=True), "reason")
    assert audit_count(session, AuditAction.HOLD_RELEASED) == 0

    done = client.post(
        url, data={"csrf_token": form_csrf(client, url), "reason": "done", **CONFIRMED}
    )
    assert done.status_code == 302
    again = client.post(
        url, data={"csrf_token": form_csrf(client, url), "reason": "twice", **CONFIRMED}
    )
    body = again.get_data(as_text=True)
    assert again.status_code == 422
    assert "A hold that is released cannot take the &#39;release&#39; step." in body
    assert "Release hold</button>" not in body, "a released hold takes no step"
    assert audit_count(session, AuditAction.HOLD_RELEASED) == 1


# --- D: scope errors at their field, worded for their form -------------------------------


def _hold_form(client, case, **overrides):
    today = local_today()
    data = {
        "csrf_token": form_csrf(client, "/retention/holds/new"),
        "investigation_id": case.id,
        "window_start": f"{received().isoformat()} 00:00",
        "window_end": f"{today.isoformat()} 00:00",
        "plates": "ABC123",
    }
    data.update(overrides)
    return client.post("/retention/holds/new", data=data)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"plates": ""}, "plates", "A hold's scope is empty"),
        ({"plates": "#!?"}, "plates", "letters and digits"),
        ({"window_start": ""}, "window_start", "A hold needs a bounded time window"),
        ({"window_end": ""}, "window_end", "A hold needs a bounded time window"),
        (
            {"window_end": lambda: f"{received().isoformat()} 00:00"},
            "window_end",
            "must come after",
        ),
        ({"window_start": "2020-01-01 00:00"}, "window_end", "a hold may span at most"),
        ({"window_end": "9999-12-31T23:00"}, "window_end", "Enter a year from"),
        ({"window_end": "next tuesday"}, "window_end", "such as 2026-03-01 08:00"),
    ],
)
def test_hold_scope_errors_are_shown_at_their_field(
    client, session, login_as, overrides, field, message
):
    login_as(Role.ADMIN)
    response = _hold_form(client, factories.InvestigationFactory(), **when_run(overrides))
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert any(message in error for error in field_errors(body, field)), body
    assert audit_count(session, AuditAction.HOLD_PLACED) == 0


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"plates": ""}, "plates", "An exculpatory request's scope is empty"),
        ({"window_end": ""}, "window_end", "An exculpatory request needs a bounded"),
        ({"window_start": "2020-01-01 00:00"}, "window_end", "an exculpatory request may span"),
        ({"window_end": "9999-12-31T23:00"}, "window_end", "Enter a year from"),
        ({"window_end": "next tuesday"}, "window_end", "such as 2026-03-01 08:00"),
    ],
)
def test_exculpatory_scope_errors_are_shown_at_their_field(
    client, session, login_as, overrides, field, message
):
    today = local_today()
    login_as(Role.RECORDS)
    response = _request_form(
        client, "/retention/exculpatory/new", received_on=today.isoformat(), **overrides
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    errors = field_errors(body, field)
    assert any(message in error for error in errors), body
    assert not any("hold" in error for error in errors), "worded for the request's form"
    assert audit_count(session, AuditAction.EXCULPATORY_RECEIVED) == 0


def test_unknown_devices_name_the_devices_field(session):
    with pytest.raises(HoldError, match="Unknown device") as refused:
        clean_scope(
            session,
            utcnow() - timedelta(days=2),
            utcnow(),
            device_ids=[999999],
        )
    assert refused.value.field == "device_ids"


def test_a_closed_investigation_is_named_at_its_field(session):
    from app.retention.holds import place_hold

    case = factories.InvestigationFactory(status="closed", closed_on=local_today())
    with pytest.raises(HoldError, match="only an active") as refused:
        place_hold(session, "cli", case, utcnow() - timedelta(days=2), utcnow(), ["A1"])
    assert refused.value.field == "investigation_id"
