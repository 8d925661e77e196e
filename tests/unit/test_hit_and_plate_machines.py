"""HitMachine and PlateMachine, table by table: every event from every state.

Each machine is built around a stand-in object holding only the state column and the fields
its guards read, and driven by actors that are in-memory users (UserFactory.build: no
database). Allowed steps land in the expected state; forbidden ones name the state; a failed
input guard is refused at its form field (the machine's FIELDS entry), a failed permission
guard at no field; and next_steps lists exactly what the actor's role may do from each state.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from app.alpr.workflow import HitMachine, PlateMachine
from app.auth.models import Role
from app.reads.models import HitStatus, PlateStatus
from app.workflow.machine import WorkflowError
from tests.factories import UserFactory

OPERATOR = UserFactory.build(roles=[Role.OPERATOR])
#: A role that works neither hits nor plate review (it may not use ALPR data).
RECORDS = UserFactory.build(roles=[Role.RECORDS])


@dataclass
class StandInHit:
    status: str
    enforcement_action: str | None = None


@dataclass
class StandInRead:
    plate_status: str
    plate: str | None = "ABC123"


# --- HitMachine ---------------------------------------------------------------------------

HIT_STATES = [s.value for s in HitStatus]
HIT_EVENTS = ["confirm", "mark_not_confirmed", "record_enforcement", "close"]

#: Inputs every guard of every hit step accepts.
HIT_INPUTS = {
    "confirm": {"verified_via": "MNJIS"},
    "mark_not_confirmed": {"reason": "NLETS: vehicle recovered"},
    "record_enforcement": {"action": "Traffic stop", "impracticable_reason": "No MNJIS signal"},
    "close": {"note": "Owner contacted"},
}

#: (state, event) → the state the step lands in; a pair not listed is forbidden.
HIT_ALLOWED = {
    ("new", "confirm"): "confirmed",
    ("new", "mark_not_confirmed"): "not_confirmed",
    ("new", "record_enforcement"): "new",
    ("confirmed", "record_enforcement"): "confirmed",
    ("confirmed", "close"): "closed",
    ("not_confirmed", "record_enforcement"): "not_confirmed",
    ("not_confirmed", "close"): "closed",
}

#: (state, event) → the input guards of that step, each with the input that satisfies it.
HIT_INPUT_GUARDS = {
    ("new", "confirm"): {"verification_named": "verified_via"},
    ("new", "mark_not_confirmed"): {"reason_given": "reason"},
    ("new", "record_enforcement"): {
        "action_described": "action",
        "impracticable_reason_given": "impracticable_reason",
    },
    ("confirmed", "record_enforcement"): {"action_described": "action"},
    ("confirmed", "close"): {"closing_note_given": "note"},
    ("not_confirmed", "record_enforcement"): {
        "action_described": "action",
        "impracticable_reason_given": "impracticable_reason",
    },
    ("not_confirmed", "close"): {"closing_note_given": "note"},
}

#: What each state's name reads as in a refusal.
HIT_STATE_WORDS = {
    "new": "new",
    "confirmed": "confirmed",
    "not_confirmed": "not confirmed",
    "closed": "closed",
}


def hit_machine(state: str, **fields) -> tuple[HitMachine, StandInHit]:
    hit = StandInHit(status=state, **fields)
    return HitMachine.around(hit), hit


def test_the_hit_tables_cover_the_machine():
    assert {s.value for s in HitMachine.states} == set(HIT_STATES)
    assert set(HitMachine.STEP_LABELS) == set(HIT_EVENTS)
    assert set(HIT_INPUT_GUARDS) == set(HIT_ALLOWED)


@pytest.mark.parametrize("state", HIT_STATES)
@pytest.mark.parametrize("event", HIT_EVENTS)
def test_every_hit_event_from_every_state(state, event):
    machine, hit = hit_machine(state)
    target = HIT_ALLOWED.get((state, event))
    if target is None:
        with pytest.raises(WorkflowError) as refused:
            machine.fire(event, actor=OPERATOR, **HIT_INPUTS[event])
        message = str(refused.value)
        assert f"A hit that is {HIT_STATE_WORDS[state]} cannot take the" in message
        assert f"'{HitMachine.step_label(event).lower()}' step" in message
        assert refused.value.field is None
        assert hit.status == state
    else:
        machine.fire(event, actor=OPERATOR, **HIT_INPUTS[event])
        assert hit.status == target
        assert machine.current_state.value == target


@pytest.mark.parametrize(
    ("state", "event", "guard", "argument"),
    [
        (state, event, guard, argument)
        for (state, event), guards in HIT_INPUT_GUARDS.items()
        for guard, argument in guards.items()
    ],
)
@pytest.mark.parametrize("missing", [None, "   "])
def test_each_failed_hit_input_guard_is_refused_at_its_field(
    state, event, guard, argument, missing
):
    machine, hit = hit_machine(state)
    inputs = {**HIT_INPUTS[event], argument: missing}
    with pytest.raises(WorkflowError) as refused:
        machine.fire(event, actor=OPERATOR, **inputs)
    assert refused.value.field == HitMachine.FIELDS[guard] == argument
    assert str(refused.value) == HitMachine.REFUSALS[guard]
    assert hit.status == state


@pytest.mark.parametrize(("state", "event"), sorted(HIT_ALLOWED))
@pytest.mark.parametrize("actor", [RECORDS, None, "system:ocr"], ids=["records", "none", "job"])
def test_a_failed_hit_permission_guard_is_refused_at_no_field(state, event, actor):
    machine, hit = hit_machine(state)
    with pytest.raises(WorkflowError) as refused:
        machine.fire(event, actor=actor, **HIT_INPUTS[event])
    assert refused.value.field is None
    assert str(refused.value) == HitMachine.REFUSALS["actor_works_hits"]
    assert hit.status == state


@pytest.mark.parametrize(("state", "event"), sorted(HIT_ALLOWED))
def test_a_refused_role_is_refused_at_no_field_even_with_inputs_missing(state, event):
    machine, _ = hit_machine(state)
    with pytest.raises(WorkflowError) as refused:
        machine.fire(event, actor=RECORDS)
    assert refused.value.field is None
    assert HitMachine.REFUSALS["actor_works_hits"] in str(refused.value)


@pytest.mark.parametrize("state", ["new", "confirmed", "not_confirmed"])
def test_a_second_enforcement_record_is_refused(state):
    machine, hit = hit_machine(state, enforcement_action="Arrest")
    with pytest.raises(WorkflowError) as refused:
        machine.fire("record_enforcement", actor=OPERATOR, **HIT_INPUTS["record_enforcement"])
    assert str(refused.value) == HitMachine.REFUSALS["no_enforcement_yet"]
    assert refused.value.field is None  # not a field's fault: the hit already has one
    assert (hit.status, hit.enforcement_action) == (state, "Arrest")


@pytest.mark.parametrize("state", HIT_STATES)
@pytest.mark.parametrize(
    ("actor", "may_work_hits"), [(OPERATOR, True), (RECORDS, False), (None, False)]
)
def test_hit_next_steps_are_exactly_what_the_role_may_take(state, actor, may_work_hits):
    machine, _ = hit_machine(state)
    steps = machine.next_steps(actor)
    expected = [e for e in HIT_EVENTS if (state, e) in HIT_ALLOWED] if may_work_hits else []
    assert len(steps) == len(set(steps))
    assert set(steps) == set(expected)


@pytest.mark.parametrize(
    "role", [Role.OPERATOR, Role.ADMIN, Role.DEPUTY_CHIEF, Role.DESIGNEE], ids=str
)
def test_every_alpr_data_role_works_hits(role):
    machine, hit = hit_machine("new")
    machine.fire("confirm", actor=UserFactory.build(roles=[role]), verified_via="NLETS")
    assert hit.status == "confirmed"


@pytest.mark.parametrize("role", [Role.RECORDS, Role.AUDITOR, Role.AGENCY], ids=str)
def test_no_other_role_works_hits(role):
    machine, _ = hit_machine("new")
    assert machine.next_steps(UserFactory.build(roles=[role])) == []


# --- PlateMachine -------------------------------------------------------------------------

PLATE_STATES = [s.value for s in PlateStatus if s != PlateStatus.REPORTED]
PLATE_EVENTS = ["ocr_accept", "ocr_doubt", "ocr_fail", "confirm", "correct"]

#: Inputs every guard of every plate step accepts (the stand-in read's plate is ABC123).
PLATE_INPUTS = {
    "ocr_accept": {"plate": "ABC123"},
    "ocr_doubt": {"plate": "ABC123"},
    "ocr_fail": {},
    "confirm": {"plate": "ABC123"},
    "correct": {"plate": "ABC128"},
}

PLATE_ALLOWED = {
    ("pending_ocr", "ocr_accept"): "ocr_accepted",
    ("pending_ocr", "ocr_doubt"): "needs_review",
    ("pending_ocr", "ocr_fail"): "unreadable",
    ("needs_review", "confirm"): "confirmed",
    ("needs_review", "correct"): "corrected",
}

#: (state, event, guard) → the plate input that fails that guard alone.
PLATE_INPUT_FAILURES = [
    ("pending_ocr", "ocr_accept", "plate_given", None),
    ("pending_ocr", "ocr_accept", "plate_given", ""),
    ("pending_ocr", "ocr_doubt", "plate_given", None),
    ("needs_review", "confirm", "plate_given", None),
    ("needs_review", "confirm", "plate_given", ""),
    ("needs_review", "correct", "plate_given", None),
    ("needs_review", "correct", "plate_changed", "ABC123"),
]

#: The steps a person takes (the OCR steps are the job's, and no viewer is offered them).
PLATE_PERSON_STEPS = {"needs_review": ["confirm", "correct"]}

PLATE_STATE_WORDS = {
    "pending_ocr": "pending ocr",
    "ocr_accepted": "ocr accepted",
    "needs_review": "needs review",
    "unreadable": "unreadable",
    "confirmed": "confirmed",
    "corrected": "corrected",
}


def plate_machine(state: str, plate: str | None = "ABC123") -> tuple[PlateMachine, StandInRead]:
    read = StandInRead(plate_status=state, plate=plate)
    return PlateMachine.around(read), read


def test_the_plate_tables_cover_the_machine():
    assert {s.value for s in PlateMachine.states} == set(PLATE_STATES)
    assert {str(e) for e in PlateMachine.events} == set(PLATE_EVENTS)
    assert set(PLATE_STATE_WORDS) == set(PLATE_STATES)


@pytest.mark.parametrize("state", PLATE_STATES)
@pytest.mark.parametrize("event", PLATE_EVENTS)
def test_every_plate_event_from_every_state(state, event):
    machine, read = plate_machine(state)
    target = PLATE_ALLOWED.get((state, event))
    if target is None:
        with pytest.raises(WorkflowError) as refused:
            machine.fire(event, actor=OPERATOR, **PLATE_INPUTS[event])
        message = str(refused.value)
        assert f"A read that is {PLATE_STATE_WORDS[state]} cannot take the" in message
        assert f"'{PlateMachine.step_label(event).lower()}' step" in message
        assert refused.value.field is None
        assert read.plate_status == state
    else:
        machine.fire(event, actor=OPERATOR, **PLATE_INPUTS[event])
        assert read.plate_status == target
        assert machine.current_state.value == target


@pytest.mark.parametrize(("state", "event"), [k for k in PLATE_ALLOWED if k[1].startswith("ocr_")])
def test_the_ocr_steps_need_no_person(state, event):
    machine, read = plate_machine(state)
    machine.fire(event, actor="system:ocr", **PLATE_INPUTS[event])
    assert read.plate_status == PLATE_ALLOWED[(state, event)]


@pytest.mark.parametrize(("state", "event", "guard", "plate"), PLATE_INPUT_FAILURES)
def test_each_failed_plate_input_guard_is_refused_at_its_field(state, event, guard, plate):
    machine, read = plate_machine(state)
    with pytest.raises(WorkflowError) as refused:
        machine.fire(event, actor=OPERATOR, plate=plate)
    assert refused.value.field == PlateMachine.FIELDS[guard] == "plate"
    assert str(refused.value) == PlateMachine.REFUSALS[guard]
    assert read.plate_status == state


@pytest.mark.parametrize("event", ["confirm", "correct"])
@pytest.mark.parametrize("actor", [RECORDS, None, "system:ocr"], ids=["records", "none", "job"])
def test_a_failed_plate_permission_guard_is_refused_at_no_field(event, actor):
    machine, read = plate_machine("needs_review")
    with pytest.raises(WorkflowError) as refused:
        machine.fire(event, actor=actor, **PLATE_INPUTS[event])
    assert refused.value.field is None
    assert str(refused.value) == PlateMachine.REFUSALS["actor_reviews_plates"]
    assert read.plate_status == "needs_review"


@pytest.mark.parametrize("state", PLATE_STATES)
@pytest.mark.parametrize(
    ("actor", "may_review"), [(OPERATOR, True), (RECORDS, False), (None, False)]
)
def test_plate_next_steps_are_exactly_what_the_role_may_take(state, actor, may_review):
    machine, _ = plate_machine(state)
    expected = PLATE_PERSON_STEPS.get(state, []) if may_review else []
    assert machine.next_steps(actor) == expected


def test_a_camera_reported_plate_takes_no_step():
    with pytest.raises(WorkflowError) as refused:
        PlateMachine.around(StandInRead(plate_status=PlateStatus.REPORTED.value))
    assert "camera reported" in str(refused.value)
    assert refused.value.field is None
