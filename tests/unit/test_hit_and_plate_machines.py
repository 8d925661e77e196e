"""HitMachine and PlateMachine, table by table: every event from every state.

Each machine is built around a stand-in object holding only the state column and the fields
its guards read, and driven by actors that are in-memory users (UserFactory.build: no
database). Allowed steps land in the expected state; forbidden ones name the state; a failed
input guard is refused at its form field (the machine's FIELDS entry), a failed permission
guard at no field; and next_steps lists exactly what the actor's role may do from each state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from app.alpr.workflow import REFERENCE_MAX, HitMachine, PlateMachine
from app.auth.models import Role
from app.reads.models import HitStatus, PlateStatus
from app.workflow.machine import WorkflowError
from tests.factories import UserFactory

OPERATOR = UserFactory.build(roles=[Role.OPERATOR])
#: A role that works neither hits nor plate review (it may not use ALPR data).
RECORDS = UserFactory.build(roles=[Role.RECORDS])

#: When the stand-in hit's read was captured (mid-minute), and the clock of every step.
READ_AT = datetime(2026, 12, 1, 12, 0, 30, tzinfo=UTC)
NOW = READ_AT + timedelta(hours=2)


@dataclass
class StandInHit:
    status: str
    enforcement_action: str | None = None
    read_captured_at: datetime = READ_AT


@dataclass
class StandInRead:
    plate_status: str
    plate: str | None = "ABC123"


# --- HitMachine ---------------------------------------------------------------------------

HIT_STATES = [s.value for s in HitStatus]
HIT_EVENTS = ["confirm", "mark_not_valid", "mark_impracticable", "record_enforcement", "close"]

VERIFICATION = {
    "verified_via": "NLETS",
    "verification_reference": "NLETS 2026-118844",
    "verified_at": READ_AT + timedelta(minutes=5),
    "now": NOW,
}

#: Inputs every guard of every hit step accepts.
HIT_INPUTS = {
    "confirm": VERIFICATION,
    "mark_not_valid": {**VERIFICATION, "reason": "NLETS: vehicle recovered on 11/30"},
    "mark_impracticable": {"impracticable_reason": "No MNJIS signal in the river bottoms"},
    "record_enforcement": {"action": "Traffic stop"},
    "close": {"note": "Owner contacted"},
}

#: (state, event) → the state the step lands in; a pair not listed is forbidden.
HIT_ALLOWED = {
    ("new", "confirm"): "confirmed",
    ("new", "mark_not_valid"): "not_valid",
    ("new", "mark_impracticable"): "impracticable",
    ("impracticable", "confirm"): "confirmed",
    ("impracticable", "mark_not_valid"): "not_valid",
    ("impracticable", "record_enforcement"): "impracticable",
    ("impracticable", "close"): "closed",
    ("confirmed", "record_enforcement"): "confirmed",
    ("confirmed", "close"): "closed",
    ("not_valid", "close"): "closed",
}

VERIFICATION_GUARDS = [
    "verification_named",
    "reference_given",
    "query_time_given",
    "query_time_not_future",
    "query_time_not_before_read",
]
#: event → its input guards.
HIT_INPUT_GUARDS = {
    "confirm": VERIFICATION_GUARDS,
    "mark_not_valid": [*VERIFICATION_GUARDS, "reason_given"],
    "mark_impracticable": ["impracticable_reason_given"],
    "record_enforcement": ["action_described"],
    "close": ["closing_note_given"],
}

#: guard → (its input, values that fail it alone).
FAILING_INPUTS = {
    "verification_named": ("verified_via", [None, "  ", "a hunch", "nlets", "NCIC"]),
    "reference_given": (
        "verification_reference",
        [None, "", "   ", "R" * (REFERENCE_MAX + 1), "REF\x001", "two\nlines"],
    ),
    "query_time_given": ("verified_at", [None]),
    "query_time_not_future": ("verified_at", [NOW + timedelta(seconds=1), NOW + timedelta(days=9)]),
    "query_time_not_before_read": (
        "verified_at",
        [READ_AT.replace(second=0) - timedelta(microseconds=1), READ_AT - timedelta(days=3)],
    ),
    "reason_given": ("reason", [None, "", "  "]),
    "closing_note_given": ("note", [None, "", "  "]),
    "action_described": ("action", [None, "", "  "]),
    "impracticable_reason_given": ("impracticable_reason", [None, "", "  "]),
}

#: What each state's name reads as in a refusal.
HIT_STATE_WORDS = {
    "new": "new",
    "confirmed": "verified valid",
    "not_valid": "verified not valid",
    "impracticable": "verification not practicable",
    "closed": "closed",
}


def hit_machine(state: str, **fields) -> tuple[HitMachine, StandInHit]:
    hit = StandInHit(status=state, **fields)
    return HitMachine.around(hit), hit


def test_the_hit_tables_cover_the_machine():
    assert {s.value for s in HitMachine.states} == set(HIT_STATES) == set(HIT_STATE_WORDS)
    assert set(HitMachine.STEP_LABELS) == set(HIT_EVENTS) == set(HIT_INPUT_GUARDS)
    guards = {guard for listed in HIT_INPUT_GUARDS.values() for guard in listed}
    assert guards == set(FAILING_INPUTS) == set(HitMachine.FIELDS)


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
        if event == "record_enforcement" and state in ("new", "not_valid"):
            assert message.endswith(HitMachine.ENFORCEMENT_REFUSALS[state])
        assert refused.value.field is None
        assert hit.status == state
    else:
        machine.fire(event, actor=OPERATOR, **HIT_INPUTS[event])
        assert hit.status == target
        assert machine.current_state.value == target


def test_enforcement_on_an_unverified_hit_says_what_to_do_first():
    machine, hit = hit_machine("new")
    with pytest.raises(WorkflowError, match=r"verify it.*not practicable.*425\.4\(f\)"):
        machine.fire("record_enforcement", actor=OPERATOR, action="Arrest")
    assert hit.status == "new"


def test_enforcement_on_a_hit_verified_not_valid_is_refused():
    machine, hit = hit_machine("not_valid")
    with pytest.raises(WorkflowError, match=r"not valid: enforcement on it is refused"):
        machine.fire("record_enforcement", actor=OPERATOR, action="Arrest")
    assert (hit.status, hit.enforcement_action) == ("not_valid", None)
    assert "record_enforcement" not in machine.next_steps(OPERATOR)


@pytest.mark.parametrize(
    ("state", "event", "guard", "value"),
    [
        (state, event, guard, value)
        for (state, event) in HIT_ALLOWED
        for guard in HIT_INPUT_GUARDS[event]
        for value in FAILING_INPUTS[guard][1]
    ],
)
def test_each_failed_hit_input_guard_is_refused_at_its_field(state, event, guard, value):
    machine, hit = hit_machine(state)
    argument = FAILING_INPUTS[guard][0]
    with pytest.raises(WorkflowError) as refused:
        machine.fire(event, actor=OPERATOR, **{**HIT_INPUTS[event], argument: value})
    assert refused.value.field == HitMachine.FIELDS[guard] == argument
    assert str(refused.value) == HitMachine.REFUSALS[guard]
    assert hit.status == state


@pytest.mark.parametrize(
    "verified_at",
    [
        READ_AT.replace(second=0),  # typed to the minute: the read's own minute is after it
        READ_AT,
        NOW,
    ],
    ids=["read's minute", "read's instant", "now"],
)
def test_query_time_edges_that_are_accepted(verified_at):
    machine, hit = hit_machine("new")
    machine.fire("confirm", actor=OPERATOR, **{**VERIFICATION, "verified_at": verified_at})
    assert hit.status == "confirmed"


def test_a_reference_of_the_longest_length_is_accepted():
    machine, hit = hit_machine("new")
    reference = "R" * REFERENCE_MAX
    machine.fire("confirm", actor=OPERATOR, **{**VERIFICATION, "verification_reference": reference})
    assert hit.status == "confirmed"


def test_without_a_clock_the_machine_reads_the_current_time():
    machine, hit = hit_machine("new", read_captured_at=datetime.now(UTC) - timedelta(hours=1))
    inputs = {**VERIFICATION, "verified_at": datetime.now(UTC) + timedelta(hours=1), "now": None}
    with pytest.raises(WorkflowError, match="future"):
        machine.fire("confirm", actor=OPERATOR, **inputs)
    machine.fire("confirm", actor=OPERATOR, **{**inputs, "verified_at": datetime.now(UTC)})
    assert hit.status == "confirmed"


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


@pytest.mark.parametrize("state", ["confirmed", "impracticable"])
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
    machine.fire("confirm", actor=UserFactory.build(roles=[role]), **VERIFICATION)
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
