"""Agency data requests (425.7): the workflow's every transition and guard, the written request's
five items and scope, the letter judged by its content, and what a release may carry.

Services are called directly here; the pages and the portal are tested in
test_agency_portal.py, the release package in test_release_packages.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.audit.actions import AuditAction
from app.auth.models import Role, User, UserRole
from app.core.refusal import Refusal
from app.db import utcnow
from app.reads.models import PlateStatus
from app.requests.letters import LetterRejected, inspect_letter
from app.requests.models import AgencyKind, AgencyRequest, RequestStatus
from app.requests.scope import RequestScope, count_releasable
from app.requests.services import (
    answer_question,
    approve_request,
    ask_for_information,
    close_request,
    deny_request,
    record_agency_profile,
    refer_to_records,
    request_history,
    start_review,
    submit_request,
    withdraw_request,
)
from app.requests.workflow import AgencyRequestMachine
from app.retention.models import StoredDocument
from app.workflow.machine import WorkflowError
from tests.factories import (
    AgencyFactory,
    AgencyProfileFactory,
    AgencyRequestFactory,
    DeviceFactory,
    ReadFactory,
    UserFactory,
)
from tests.helpers import (
    PDF,
    aged_read,
    blank_picture,
    count_rows,
    enter_acp_request,
    entry_details,
    run_purge,
    signed_letter,
    stored_documents,
    when_run,
)

FINDING = "A witness saw this plate leave the burglary; its reads show where it went next."
INVESTIGATION = "Rochester PD case 25-000123 (burglary)"


def person(*roles: Role, agency_id: int | None = None) -> User:
    """An unsaved user: the machine needs only the roles (and an agency user's agency)."""
    return User(
        email="x@example.test",
        name="X",
        agency_id=agency_id,
        role_rows=[UserRole(role=r.value) for r in roles],
    )


CHIEF = person(Role.DEPUTY_CHIEF)
DESIGNEE = person(Role.DESIGNEE)
RECORDS = person(Role.RECORDS)
ADMIN = person(Role.ADMIN)
OPERATOR = person(Role.OPERATOR)


def reload(session, request: AgencyRequest) -> AgencyRequest:
    session.rollback()
    return session.get(AgencyRequest, request.id, populate_existing=True)


# --- the machine: every transition, allowed and refused -----------------------------------

STEP_INPUTS = {
    "ask": {"question": "Which vehicle?"},
    "answer": {"answer": "A grey sedan."},
    "approve": {"finding": FINDING, "active_investigation": INVESTIGATION},
    "deny": {"reason": "Not pertinent."},
    "refer": {"reason": "Not a law-enforcement body."},
    "fulfil": {"package_sha256": "a" * 64},
}
OWN = "the agency's own user"
OTHER = "another agency's user"

TRANSITIONS = [
    ("submitted", "start_review", CHIEF, "under_review"),
    ("submitted", "start_review", DESIGNEE, "under_review"),
    ("submitted", "start_review", RECORDS, None),
    ("submitted", "start_review", OWN, None),
    ("under_review", "ask", CHIEF, "needs_information"),
    ("under_review", "ask", ADMIN, None),
    ("needs_information", "answer", OWN, "under_review"),
    ("needs_information", "answer", OTHER, None),
    ("needs_information", "answer", CHIEF, None),
    ("under_review", "approve", CHIEF, "approved"),
    ("under_review", "approve", DESIGNEE, "approved"),
    ("under_review", "approve", ADMIN, None),
    ("under_review", "approve", RECORDS, None),
    ("under_review", "approve", OWN, None),
    ("submitted", "approve", CHIEF, None),
    ("needs_information", "approve", CHIEF, None),
    ("under_review", "deny", CHIEF, "denied"),
    ("under_review", "deny", OPERATOR, None),
    ("submitted", "refer", RECORDS, "referred_to_records"),
    ("under_review", "refer", CHIEF, "referred_to_records"),
    ("under_review", "refer", ADMIN, None),
    ("submitted", "withdraw", OWN, "withdrawn"),
    ("under_review", "withdraw", OWN, "withdrawn"),
    ("needs_information", "withdraw", OWN, "withdrawn"),
    ("submitted", "withdraw", OTHER, None),
    ("approved", "withdraw", OWN, None),
    ("denied", "withdraw", OWN, None),
    ("approved", "fulfil", ADMIN, "fulfilled"),
    ("approved", "fulfil", RECORDS, None),
    ("fulfilled", "close", CHIEF, "closed"),
    ("fulfilled", "close", OWN, None),
    ("approved", "close", CHIEF, None),
    ("denied", "approve", CHIEF, None),
    ("closed", "approve", CHIEF, None),
]


def _approved_fields(state: str) -> dict:
    if state in ("approved", "fulfilled", "closed"):
        return {"finding": FINDING, "active_investigation": INVESTIGATION}
    return {}


@pytest.mark.parametrize(("state", "event", "who", "target"), TRANSITIONS)
def test_each_transition_is_allowed_only_to_whom_and_from_where_it_may(
    session, state, event, who, target
):
    request = AgencyRequestFactory(status=state, **_approved_fields(state))
    other = AgencyFactory()
    actor = {
        OWN: person(Role.AGENCY, agency_id=request.agency_id),
        OTHER: person(Role.AGENCY, agency_id=other.id),
    }.get(who, who)
    machine = AgencyRequestMachine.around(request)
    if target is None:
        with pytest.raises(WorkflowError):
            machine.fire(event, actor=actor, **STEP_INPUTS.get(event, {}))
        assert request.status == state
    else:
        machine.fire(event, actor=actor, **STEP_INPUTS.get(event, {}))
        assert request.status == target


@pytest.mark.parametrize(
    ("event", "inputs", "field"),
    [
        ("ask", {"question": "  "}, "question"),
        ("approve", {"finding": "", "active_investigation": INVESTIGATION}, "finding"),
        ("approve", {"finding": "Pertinent.", "active_investigation": INVESTIGATION}, "finding"),
        ("approve", {"finding": "x" * 60, "active_investigation": INVESTIGATION}, "finding"),
        ("approve", {"finding": FINDING, "active_investigation": " "}, "active_investigation"),
        ("deny", {"reason": ""}, "reason"),
        ("refer", {"reason": None}, "reason"),
    ],
)
def test_a_step_without_what_it_needs_is_refused_at_its_field(session, event, inputs, field):
    request = AgencyRequestFactory(status="under_review")
    with pytest.raises(WorkflowError) as refused:
        AgencyRequestMachine.around(request).fire(event, actor=CHIEF, **inputs)
    assert refused.value.field == field
    assert request.status == "under_review"


def test_a_body_that_is_not_law_enforcement_cannot_be_approved_only_referred(session):
    request = AgencyRequestFactory(status="under_review", with_profile__kind="other")
    machine = AgencyRequestMachine.around(request)
    with pytest.raises(WorkflowError, match="not recorded as a law-enforcement"):
        machine.fire("approve", actor=CHIEF, finding=FINDING, active_investigation=INVESTIGATION)
    machine.fire("refer", actor=CHIEF, reason="A housing authority: Records Release policy.")
    assert request.status == RequestStatus.REFERRED_TO_RECORDS.value


def test_an_agency_without_a_profile_cannot_be_approved(session):
    request = AgencyRequestFactory(status="under_review", with_profile=False)
    with pytest.raises(WorkflowError, match="not recorded as a law-enforcement"):
        AgencyRequestMachine.around(request).fire(
            "approve", actor=CHIEF, finding=FINDING, active_investigation=INVESTIGATION
        )


def test_next_steps_follow_the_viewer(session):
    request = AgencyRequestFactory(status="under_review")
    machine = AgencyRequestMachine.around(request)
    assert machine.next_steps(CHIEF) == ["ask", "approve", "deny", "refer"]
    assert machine.next_steps(RECORDS) == ["refer"]
    assert machine.next_steps(person(Role.AGENCY, agency_id=request.agency_id)) == ["withdraw"]
    assert machine.next_steps(person(Role.AGENCY, agency_id=request.agency_id + 1)) == []


# --- the services: steps taken, audited, kept on file -------------------------------------


def test_the_whole_path_is_audited_and_read_back_as_a_timeline(session):
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF], trained=True)
    request = AgencyRequestFactory()
    agency_user = request.submitted_by
    start_review(session, chief, request)
    ask_for_information(session, chief, request, question="Which night?")
    answer_question(session, agency_user, request, answer="The night of 3 March.")
    approve_request(
        session, chief, request, finding=f"  {FINDING}  ", active_investigation=INVESTIGATION
    )
    session.commit()
    request = reload(session, request)
    assert request.status == "approved" and request.finding == FINDING
    assert request.decided_by_id == chief.id and request.question is None
    history = request_history(session, request)
    assert [event.label for event in history] == [
        "Review started",
        "Information asked of the agency",
        "The agency answered",
        "Approved",
    ]
    assert history[2].details["question"] == "Which night?"
    approval = entry_details(session, AuditAction.AGENCY_REQUEST_APPROVED)[0]
    assert approval["finding"] == FINDING and approval["active_investigation"] == INVESTIGATION
    assert (approval["from"], approval["to"]) == ("under_review", "approved")


def test_approving_without_a_finding_changes_nothing_and_writes_nothing(session):
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF], trained=True)
    request = AgencyRequestFactory(status="under_review")
    with pytest.raises(WorkflowError) as refused:
        approve_request(session, chief, request, finding=None, active_investigation=INVESTIGATION)
    assert refused.value.field == "finding"
    session.rollback()
    assert reload(session, request).status == "under_review"
    assert entry_details(session, AuditAction.AGENCY_REQUEST_APPROVED) == []


def test_a_finding_with_a_nul_character_is_refused_at_its_field(session):
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF], trained=True)
    request = AgencyRequestFactory(status="under_review")
    with pytest.raises(Refusal) as refused:
        approve_request(
            session, chief, request, finding=FINDING + "\x00", active_investigation=INVESTIGATION
        )
    assert refused.value.field == "finding"


def test_deny_refer_withdraw_and_close_record_their_reason_and_time(session):
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF], trained=True)
    denied = AgencyRequestFactory(status="under_review")
    deny_request(session, chief, denied, reason="No link to an active investigation.")
    referred = AgencyRequestFactory()
    refer_to_records(session, chief, referred, reason="A civil matter.")
    withdrawn = AgencyRequestFactory()
    withdraw_request(session, withdrawn.submitted_by, withdrawn, reason="Suspect arrested.")
    fulfilled = AgencyRequestFactory(
        status="fulfilled", finding=FINDING, active_investigation=INVESTIGATION
    )
    close_request(session, chief, fulfilled)
    session.commit()
    assert reload(session, denied).decision_reason == "No link to an active investigation."
    assert reload(session, referred).status == "referred_to_records"
    assert reload(session, withdrawn).decision_reason == "Suspect arrested."
    assert reload(session, fulfilled).closed_at is not None


def test_decided_requests_are_kept_on_file_through_the_purge(app, session):
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF], trained=True)
    approved = AgencyRequestFactory(status="under_review")
    approve_request(session, chief, approved, finding=FINDING, active_investigation=INVESTIGATION)
    denied = AgencyRequestFactory(status="under_review")
    deny_request(session, chief, denied, reason="Not pertinent.")
    aged_read(59)
    session.commit()
    run_purge(app, now=utcnow() + timedelta(days=90))
    assert count_rows(session, AgencyRequest) == 2
    assert count_rows(session, StoredDocument) == 2


# --- the written request: five items, scope, letter ---------------------------------------


@pytest.fixture
def agency_user(session) -> User:
    profile = AgencyProfileFactory()
    return UserFactory(roles=[Role.AGENCY], agency=profile.agency)


def _submit(session, actor, **overrides):
    fields = {
        "requester_name": "Det. Rae Quester",
        "purpose": "Locate the getaway vehicle",
        "factual_basis": "A witness saw the plate at the burglary.",
        "case_number": " rpd-25-000123 ",
        "authorised_by": "head",
        "letter": inspect_letter(signed_letter(), "letter.pdf"),
        "window_start": utcnow() - timedelta(days=3),
        "window_end": utcnow() - timedelta(hours=1),
        "plates": ["ABC 123", "XY*"],
        "device_ids": [],
        "box": None,
        "now": utcnow(),
        "retention_days": 60,
        **overrides,
    }
    return submit_request(session, actor, **fields)


def test_a_request_carries_the_five_items_its_scope_and_its_letter(app, session, agency_user):
    request = _submit(session, agency_user, submission_key="k1")
    session.commit()
    request = reload(session, request)
    assert request.agency_id == agency_user.agency_id and request.status == "submitted"
    assert request.case_number == "RPD-25-000123"
    assert request.authorised_by_name == "Chief Ann Head"
    assert [p.plate for p in request.plates] == ["ABC123", "XY%"]
    assert len(stored_documents(app)) == 1
    (entry,) = entry_details(session, AuditAction.AGENCY_REQUEST_SUBMITTED)
    assert entry["scope"]["plates"] == ["ABC123", "XY%"]
    assert entry["letter_sha256"] == request.letter_sha256


def test_the_same_form_sent_twice_is_one_request(session, agency_user):
    first = _submit(session, agency_user, submission_key="same-key")
    session.commit()
    assert _submit(session, agency_user, submission_key="same-key").id == first.id
    session.commit()
    assert count_rows(session, AgencyRequest) == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"requester_name": "  "}, "requester_name", "is required"),
        ({"purpose": ""}, "purpose", "is required"),
        ({"factual_basis": None}, "factual_basis", "is required"),
        ({"case_number": "\t"}, "case_number", "is required"),
        ({"case_number": "C" * 65}, "case_number", "at most 64"),
        ({"purpose": "x" * 2001}, "purpose", "at most 2,000"),
        ({"purpose": "to find\x00"}, "purpose", "NUL"),
        ({"authorised_by": "designee-of-someone"}, "authorised_by", "head or their designee"),
        ({"plates": [], "device_ids": [], "box": None}, "plates", "a window alone"),
        ({"plates": ["A*"]}, "plates", "at least 2"),
        ({"plates": ["AB!12"]}, "plates", "Plate 1"),
        ({"plates": [f"P{n:05d}" for n in range(51)]}, "plates", "at most 50"),
        ({"window_start": None}, "window_start", "starts"),
        (
            {"window_start": lambda: utcnow() - timedelta(days=61)},
            "window_start",
            "60 days at most",
        ),
        ({"window_end": lambda: utcnow() + timedelta(days=1)}, "window_end", "future"),
        ({"window_end": lambda: utcnow() - timedelta(days=4)}, "window_end", "before it ends"),
        ({"device_ids": [2**31 - 1]}, "device_ids", "No such device"),
        ({"box": (44.0, None, -92.0, -91.0)}, "min_lat", "all four"),
        ({"box": (45.0, 44.0, -92.0, -91.0)}, "min_lat", "south < north"),
    ],
)
def test_a_bad_item_is_refused_at_its_field_and_nothing_is_saved(
    app, session, agency_user, overrides, field, message
):
    with pytest.raises(Refusal) as refused:
        _submit(session, agency_user, **when_run(overrides))
    assert refused.value.field == field
    assert message in str(refused.value)
    session.rollback()
    assert count_rows(session, AgencyRequest) == 0
    assert stored_documents(app) == []


def test_a_request_needs_a_recorded_head_and_an_agency_user(session):
    lone = UserFactory(roles=[Role.AGENCY], agency=AgencyFactory())
    with pytest.raises(Refusal, match="has not yet recorded who heads"):
        _submit(session, lone)
    staff = UserFactory(roles=[Role.DEPUTY_CHIEF])
    with pytest.raises(Refusal, match="Only a user of a registered agency"):
        _submit(session, staff)


def test_a_scope_by_device_or_area_alone_is_bounded_enough(session, agency_user):
    device = DeviceFactory()
    by_device = _submit(session, agency_user, plates=[], device_ids=[device.id])
    by_area = _submit(session, agency_user, plates=[], box=(44.0, 44.1, -91.7, -91.6))
    assert [d.device_id for d in by_device.devices] == [device.id]
    assert by_area.box == (44.0, 44.1, -91.7, -91.6)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"Dear Sir, please send the data.", "must be a PDF, PNG or JPEG"),
        (PDF, "not a readable PDF"),
        (b"%PDF-1.7\n" + b"\x00" * 50, "not a readable PDF"),
        (signed_letter("PNG")[:400], "not a readable picture"),
        (blank_picture(size=(120, 60)), "too small"),
    ],
)
def test_an_unreadable_or_fake_letter_is_refused(content, message):
    with pytest.raises(LetterRejected, match=message) as refused:
        inspect_letter(content, "letter.pdf")
    assert refused.value.field == "letter"


@pytest.mark.parametrize("fmt", ["PDF", "PNG", "JPEG"])
def test_a_scanned_letter_in_each_format_is_accepted(fmt):
    assert inspect_letter(signed_letter(fmt), "scan").content_type.split("/")[1] in {
        "pdf",
        "png",
        "jpeg",
    }


# --- the agency's profile -----------------------------------------------------------------


def test_the_agency_profile_is_recorded_and_audited(session):
    admin = UserFactory(roles=[Role.ADMIN])
    agency = AgencyFactory()
    record_agency_profile(
        session, admin, agency, kind="prosecutorial", head_name="County Attorney Vee"
    )
    record_agency_profile(
        session,
        admin,
        agency,
        kind="prosecutorial",
        head_name="County Attorney Vee",
        designee_name="Asst. Kay",
    )
    session.commit()
    entries = entry_details(session, AuditAction.AGENCY_PROFILE_RECORDED)
    assert entries[0]["before"] is None
    assert entries[1]["before"]["designee_name"] is None
    assert entries[1]["after"]["designee_name"] == "Asst. Kay"
    with pytest.raises(Refusal) as refused:
        record_agency_profile(session, admin, agency, kind="civic", head_name="X")
    assert refused.value.field == "kind"
    with pytest.raises(Refusal) as refused:
        record_agency_profile(session, admin, agency, kind="other", head_name=" ")
    assert refused.value.field == "head_name"
    assert AgencyKind.OTHER.may_receive_data is False


# --- what a release may carry -------------------------------------------------------------


def _scope(**fields) -> RequestScope:
    return RequestScope(
        start=utcnow() - timedelta(days=2), end=utcnow(), **{"plates": ("ABC123",), **fields}
    )


def test_the_count_leaves_out_acp_undecided_and_out_of_scope_reads(app, session):
    device = DeviceFactory()
    agency = AgencyFactory()
    for _ in range(3):
        ReadFactory(plate="ABC123", device=device)
    ReadFactory(plate="ABC123", device=None, source_agency_id=agency.id)  # shared (425.5)
    ReadFactory(plate="ABC123", device=device, acp_deferred_at=utcnow())
    ReadFactory(plate="ABC123", device=device, plate_status=PlateStatus.NEEDS_REVIEW.value)
    ReadFactory(plate="ABC123", device=device, captured_at=utcnow() - timedelta(days=3))
    ReadFactory(plate="ZZZ999", device=device)
    assert count_releasable(session, _scope()) == 4
    assert count_releasable(session, _scope(plates=("AB%",))) == 4
    assert count_releasable(session, _scope(plates=(), device_ids=(device.id,))) == 4


def test_a_plate_of_an_acp_request_is_withheld_from_its_entry(app, session):
    ReadFactory(plate="HIDE42")
    ReadFactory(plate="ABC123")
    assert count_releasable(session, _scope(plates=("HIDE42", "ABC123"))) == 2
    enter_acp_request(session, "HIDE42")
    assert count_releasable(session, _scope(plates=("HIDE42", "ABC123"))) == 1
