"""The retention machines' transition tables, walked: every event from every state.

Allowed steps land where the table says; every other step is a WorkflowError naming the state;
each guard, failing alone, is refused with its REFUSALS message at its FIELDS field (none for
the ``actor_*`` permission guards). No database: the machines run around unsaved rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from app.auth.models import Role, User, UserRole
from app.retention.models import AcpRequest, ExculpatoryRequest, Hold
from app.retention.workflow import AcpMachine, ExculpatoryMachine, HoldMachine
from app.workflow.machine import GuardedMachine, WorkflowError


def person(*roles: Role) -> User:
    return User(role_rows=[UserRole(role=role.value) for role in roles])


#: A person every retention step allows.
CHIEF = person(Role.DEPUTY_CHIEF)
#: A person no retention step allows.
OPERATOR = person(Role.OPERATOR)


@dataclass(frozen=True)
class Table:
    """One machine's declared transitions, and inputs that satisfy (or fail) its guards."""

    machine: type[GuardedMachine]
    row: Callable[[str], Any]
    allowed: dict[tuple[str, str], str]
    inputs: dict[str, Any]
    #: guard -> (input overrides, row overrides) that make that guard alone fail
    failing: dict[str, tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=dict)


NOT_PERMITTED = {"actor": OPERATOR}

TABLES = {
    "exculpatory": Table(
        machine=ExculpatoryMachine,
        row=lambda status: ExculpatoryRequest(status=status),
        allowed={
            ("received", "activate"): "active",
            ("active", "release"): "released",
            ("received", "decline"): "declined",
        },
        inputs={
            "actor": CHIEF,
            "disposition": "Dismissed",
            "resolved_on": date(2026, 11, 1),
            "reason": "The requester is not the subject of a criminal investigation.",
        },
        failing={
            "actor_may_activate": (NOT_PERMITTED, {}),
            "actor_may_release": (NOT_PERMITTED, {}),
            "actor_may_decline": (NOT_PERMITTED, {}),
            "disposition_given": ({"disposition": "  "}, {}),
            "resolved_on_given": ({"resolved_on": None}, {}),
            "decline_reason_given": ({"reason": ""}, {}),
        },
    ),
    "acp": Table(
        machine=AcpMachine,
        row=lambda status: AcpRequest(status=status),
        allowed={
            ("received", "verify"): "verified",
            ("verified", "record_existing_destroyed"): "existing_destroyed",
            ("existing_destroyed", "activate_suppression"): "suppression_active",
            ("suppression_active", "end"): "ended",
            ("received", "decline"): "declined",
            ("verified", "decline"): "declined",
        },
        inputs={
            "actor": CHIEF,
            "ended_on": date(2026, 11, 1),
            "reason": "The participant withdrew the request.",
        },
        failing={
            "actor_handles_requests": (NOT_PERMITTED, {}),
            "end_date_given": ({"ended_on": None}, {}),
            "actor_may_decline": (NOT_PERMITTED, {}),
            "decline_reason_given": ({"reason": " "}, {}),
        },
    ),
    "hold": Table(
        machine=HoldMachine,
        row=lambda status: Hold(status=status, kind="investigation"),
        allowed={("placed", "release"): "released"},
        inputs={"actor": CHIEF, "reason": "No longer needed."},
        failing={
            "actor_may_release": (NOT_PERMITTED, {}),
            "reason_given": ({"reason": " "}, {}),
            "held_for_an_investigation": ({}, {"kind": "exculpatory"}),
        },
    ),
}


def _events(machine: type[GuardedMachine]) -> list[str]:
    return sorted(
        {str(event) for state in machine.states for t in state.transitions for event in t.events}
    )


def _walk() -> list[tuple[str, str, str]]:
    return [
        (name, state.value, event)
        for name, table in TABLES.items()
        for state in table.machine.states
        for event in _events(table.machine)
    ]


@pytest.mark.parametrize(("name", "state", "event"), _walk())
def test_every_event_from_every_state(name, state, event):
    table = TABLES[name]
    row = table.row(state)
    machine = table.machine.around(row)
    target = table.allowed.get((state, event))
    if target is not None:
        machine.fire(event, **table.inputs)
        assert row.status == target
    else:
        with pytest.raises(WorkflowError) as refused:
            machine.fire(event, **table.inputs)
        label = machine.current_state.name.lower()
        assert f"that is {label} cannot take the" in str(refused.value)
        assert refused.value.field is None
        assert row.status == state


def _guards() -> list[tuple[str, str, str, str]]:
    found = []
    for name, table in TABLES.items():
        for state in table.machine.states:
            for transition in state.transitions:
                for event in transition.events:
                    for guard in transition.cond:
                        found.append((name, state.value, str(event), str(guard)))
    return found


@pytest.mark.parametrize(("name", "state", "event", "guard"), _guards())
def test_each_guard_failing_alone_is_refused_at_its_field(name, state, event, guard):
    table = TABLES[name]
    inputs, row_changes = table.failing[guard]
    row = table.row(state)
    for attribute, value in row_changes.items():
        setattr(row, attribute, value)
    machine = table.machine.around(row)
    with pytest.raises(WorkflowError) as refused:
        machine.fire(event, **{**table.inputs, **inputs})
    assert str(refused.value) == table.machine.REFUSALS[guard]
    expected = None if guard.startswith("actor_") else table.machine.FIELDS.get(guard)
    assert refused.value.field == expected
    assert row.status == state


@pytest.mark.parametrize("name", TABLES)
def test_every_guard_has_a_message_and_every_input_guard_a_field(name):
    table = TABLES[name]
    guards = {guard for machine_name, _, _, guard in _guards() if machine_name == name}
    machine = table.machine
    assert guards == set(table.failing), "the walk makes every guard fail once"
    assert guards <= set(machine.REFUSALS)
    assert set(machine.FIELDS) <= guards
    assert set(machine.STEP_LABELS) == set(_events(machine))
    assert set(_events(machine)) >= machine.IRREVERSIBLE


def test_the_irreversible_steps_are_the_ones_that_end_or_destroy():
    assert {"release", "decline"} == ExculpatoryMachine.IRREVERSIBLE
    assert {"record_existing_destroyed", "decline"} == AcpMachine.IRREVERSIBLE
    assert {"release"} == HoldMachine.IRREVERSIBLE


@pytest.mark.parametrize("actor", ["system:purge", None, OPERATOR])
def test_a_case_whose_data_is_released_releases_its_hold_whoever_released_it(actor):
    hold = Hold(status="placed", kind="investigation")
    HoldMachine.around(hold).fire(
        "release", actor=actor, reason="Investigation 24-1 closed", case_released=True
    )
    assert hold.status == "released"


def test_a_released_case_does_not_release_an_exculpatory_hold():
    hold = Hold(status="placed", kind="exculpatory")
    with pytest.raises(WorkflowError, match="released by releasing its request"):
        HoldMachine.around(hold).fire(
            "release", actor="system:purge", reason="x", case_released=True
        )
    assert hold.status == "placed"


@pytest.mark.parametrize(
    ("role", "steps"),
    [
        (Role.DEPUTY_CHIEF, ["activate", "decline"]),
        (Role.RECORDS, ["activate"]),
        (Role.ADMIN, []),
        (Role.OPERATOR, []),
    ],
)
def test_next_steps_are_the_ones_the_viewer_may_take(role, steps):
    machine = ExculpatoryMachine.around(ExculpatoryRequest(status="received"))
    assert machine.next_steps(person(role)) == steps


@pytest.mark.parametrize(
    ("role", "steps"),
    [
        (Role.DEPUTY_CHIEF, ["release"]),
        (Role.DESIGNEE, ["release"]),
        (Role.RECORDS, []),
        (Role.ADMIN, []),
        (Role.OPERATOR, []),
    ],
)
def test_only_the_deputy_chief_or_designee_are_offered_the_release(role, steps):
    machine = ExculpatoryMachine.around(ExculpatoryRequest(status="active"))
    assert machine.next_steps(person(role)) == steps


@pytest.mark.parametrize(
    ("state", "role", "steps"),
    [
        ("received", Role.DEPUTY_CHIEF, ["verify", "decline"]),
        ("received", Role.RECORDS, ["verify"]),
        ("verified", Role.DESIGNEE, ["record_existing_destroyed", "decline"]),
        ("verified", Role.ADMIN, ["record_existing_destroyed"]),
        ("existing_destroyed", Role.DEPUTY_CHIEF, ["activate_suppression"]),
    ],
)
def test_only_the_deputy_chief_or_designee_are_offered_an_acp_decline(state, role, steps):
    machine = AcpMachine.around(AcpRequest(status=state))
    assert machine.next_steps(person(role)) == steps
