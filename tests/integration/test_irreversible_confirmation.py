"""Every action that cannot be undone asks "I understand" first, and the server enforces it.

Table-driven: each irreversible workflow step (the machines' IRREVERSIBLE sets: releasing a
hold, releasing or declining an exculpatory request, destroying an ACP participant's existing
data or declining their request) and each irreversible equipment or account action (ending a
deployment, rotating a device token, revoking a device, deactivating a user) is posted once
without the tick, which is refused with 422 at the box, what was typed kept, nothing changed
and no audit entry; then with the tick, which goes through with one entry.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from app.alpr.devices import create_device
from app.audit.actions import AuditAction
from app.auth.models import Role, User
from app.core.timeutil import local_today
from app.db import utcnow
from app.reads.models import Deployment, Device
from app.retention.exculpatory import activate_exculpatory_hold, receive_exculpatory_request
from app.retention.models import AcpRequest, ExculpatoryRequest, Hold
from app.retention.workflow import AcpMachine, ExculpatoryMachine, HoldMachine
from tests import factories
from tests.helpers import CONFIRMED, PAPER_ORIGINAL, entries, field_error, form_csrf


@dataclass(frozen=True)
class Action:
    """One irreversible action: where it is, what it posts, what it changes, what it audits."""

    page: str
    url: str
    data: dict[str, str]
    box: str  # the confirmation checkbox's element id on the page
    state: Callable[[Any], Any]  # the changed value, read fresh from a session
    audited: AuditAction


def _exculpatory(session, *, active: bool) -> ExculpatoryRequest:
    records = factories.UserFactory(roles=[Role.RECORDS])
    request = receive_exculpatory_request(
        session,
        records,
        requester_name="J. Subject",
        case_file_number="85-CR-1",
        received_on=local_today() - timedelta(days=20),
        window_start=utcnow() - timedelta(days=30),
        window_end=utcnow() - timedelta(days=25),
        plates=["ABC123"],
        paper_original=PAPER_ORIGINAL,
    )
    if active:
        activate_exculpatory_hold(session, records, request)
    session.commit()
    return request


def _fresh(model: type, ident: int, attribute: str) -> Callable[[Any], Any]:
    def read(session):
        session.rollback()  # a new snapshot: see what the request committed
        return getattr(session.get(model, ident), attribute)

    return read


def release_hold(session) -> Action:
    hold = factories.HoldFactory(held_plates=["ABC123"])
    session.commit()
    url = f"/retention/holds/{hold.id}/release"
    return Action(
        url,
        url,
        {"reason": "Suspect charged; data exported"},
        "confirm_irreversible",
        _fresh(Hold, hold.id, "status"),
        AuditAction.HOLD_RELEASED,
    )


def release_exculpatory(session) -> Action:
    request = _exculpatory(session, active=True)
    page = f"/retention/exculpatory/{request.id}"
    return Action(
        page,
        f"{page}/release",
        {"disposition": "Charges dismissed", "resolved_on": local_today().isoformat()},
        "confirm_irreversible",
        _fresh(ExculpatoryRequest, request.id, "status"),
        AuditAction.EXCULPATORY_RELEASED,
    )


def decline_exculpatory(session) -> Action:
    request = _exculpatory(session, active=False)
    page = f"/retention/exculpatory/{request.id}"
    return Action(
        page,
        f"{page}/decline",
        {"reason": "Not the subject of a criminal investigation"},
        "confirm_irreversible",
        _fresh(ExculpatoryRequest, request.id, "status"),
        AuditAction.EXCULPATORY_DECLINED,
    )


def destroy_acp_existing(session) -> Action:
    request = factories.AcpRequestFactory(status="verified")
    session.commit()
    page = f"/retention/acp/{request.id}"
    return Action(
        page,
        f"{page}/destroy-existing",
        {},
        "confirm_irreversible",
        _fresh(AcpRequest, request.id, "status"),
        AuditAction.ACP_EXISTING_DESTROYED,
    )


def decline_acp(session) -> Action:
    request = factories.AcpRequestFactory(status="verified")
    session.commit()
    page = f"/retention/acp/{request.id}"
    return Action(
        page,
        f"{page}/decline",
        {"reason": "The participant withdrew the request"},
        "acp-decline-confirm",
        _fresh(AcpRequest, request.id, "status"),
        AuditAction.ACP_DECLINED,
    )


def end_deployment(session) -> Action:
    deployment = factories.DeploymentFactory()
    session.commit()
    return Action(
        f"/alpr/devices/{deployment.device_id}",
        f"/alpr/deployments/{deployment.id}/end",
        {"ended_on": local_today().isoformat()},
        "end-confirm",
        _fresh(Deployment, deployment.id, "ended_on"),
        AuditAction.DEPLOYMENT_ENDED,
    )


def rotate_token(session) -> Action:
    device, _ = create_device(session, "test", serial="ROT-1", kind="mobile")
    session.commit()
    page = f"/alpr/devices/{device.id}"
    return Action(
        page,
        f"{page}/rotate-token",
        {},
        "rotate-confirm",
        _fresh(Device, device.id, "token_hash"),
        AuditAction.DEVICE_TOKEN_ROTATED,
    )


def revoke_device(session) -> Action:
    device = factories.DeviceFactory()
    session.commit()
    page = f"/alpr/devices/{device.id}"
    return Action(
        page,
        f"{page}/revoke",
        {"reason": "Camera stolen from car 12"},
        "revoke-confirm",
        _fresh(Device, device.id, "status"),
        AuditAction.DEVICE_REVOKED,
    )


def deactivate_user(session) -> Action:
    user = factories.UserFactory(roles=[Role.OPERATOR])
    session.commit()
    page = f"/admin/users/{user.id}"
    return Action(
        page,
        f"{page}/deactivate",
        {},
        "confirm_irreversible",
        _fresh(User, user.id, "is_active_account"),
        AuditAction.USER_DEACTIVATED,
    )


ACTIONS = [
    release_hold,
    release_exculpatory,
    decline_exculpatory,
    destroy_acp_existing,
    decline_acp,
    end_deployment,
    rotate_token,
    revoke_device,
    deactivate_user,
]


def test_every_machine_step_marked_irreversible_is_in_the_table():
    machine_steps = {
        (machine.__name__, event)
        for machine in (HoldMachine, ExculpatoryMachine, AcpMachine)
        for event in machine.IRREVERSIBLE
    }
    assert machine_steps == {
        ("HoldMachine", "release"),
        ("ExculpatoryMachine", "release"),
        ("ExculpatoryMachine", "decline"),
        ("AcpMachine", "record_existing_destroyed"),
        ("AcpMachine", "decline"),
    }


@pytest.mark.parametrize("setup", ACTIONS, ids=lambda f: f.__name__)
def test_an_irreversible_action_needs_the_tick(client, session, login_as, setup):
    action = setup(session)
    login_as(Role.DEPUTY_CHIEF)
    before = action.state(session)
    page = client.get(action.page).get_data(as_text=True)
    assert f'id="{action.box}"' in page and 'type="checkbox"' in page, "the box is offered"

    token = form_csrf(client, action.page)
    refused = client.post(action.url, data={"csrf_token": token, **action.data})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert (field_error(body, action.box) or "").startswith("Tick the box to confirm"), body
    for typed in action.data.values():
        assert html.escape(typed) in body, f"{typed!r} was not kept"
    assert action.state(session) == before, "nothing changed"
    assert entries(session, action.audited) == [], "nothing audited"

    done = client.post(action.url, data={"csrf_token": token, **action.data, **CONFIRMED})
    assert done.status_code in (200, 302, 303), done.get_data(as_text=True)[:2000]
    assert action.state(session) != before
    assert len(entries(session, action.audited)) == 1
