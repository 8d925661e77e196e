"""Exculpatory and ACP requests: workflows, bad input, destruction, deferral, ingest screen."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.alpr.hits import live_hits, load_hit
from app.alpr.image_reads import review_queue
from app.alpr.read_access import ReadNotFound, view_read
from app.alpr.search import SearchCriteria, results_query
from app.audit.actions import AuditAction
from app.audit.models import AuditDetail, AuditEntry
from app.auth.models import Role, User
from app.core.refusal import Refusal
from app.core.timeutil import local_today
from app.core.tokens import new_token
from app.db import utcnow
from app.investigations.services import close_investigation
from app.reads.models import Read
from app.retention.acp.lifecycle import (
    AcpError,
    activate_acp_suppression,
    decline_acp_request,
    destroy_existing_acp_data,
    end_acp_request,
    receive_acp_request,
    verify_acp_request,
)
from app.retention.acp.screening import AcpVerdict, screen_at_collection
from app.retention.documents import inspect_document
from app.retention.exculpatory import (
    ExculpatoryError,
    activate_exculpatory_hold,
    decline_exculpatory_request,
    receive_exculpatory_request,
    release_exculpatory_hold,
)
from app.retention.holds import place_hold
from app.retention.models import (
    AcpRequest,
    AcpStatus,
    AcpSuppressedRead,
    ExculpatoryRequest,
    ExculpatoryStatus,
    Hold,
    StoredDocument,
)
from app.retention.policy import ReadFacts
from app.retention.workflow import AcpMachine, ExculpatoryMachine
from app.workflow import step as workflow_step
from app.workflow.machine import WorkflowError
from tests.factories import (
    DeviceFactory,
    HitFactory,
    InvestigationFactory,
    ReadFactory,
    UserFactory,
)
from tests.helpers import (
    PAPER_ORIGINAL,
    PDF,
    add_image,
    aged_read,
    entry_details,
    review_read,
    run_purge,
    stored_documents,
    surviving_ids,
)


@pytest.fixture
def records(session):
    return UserFactory(roles=[Role.RECORDS])


def _acp(session, actor, plates=("ABC 123",), status: AcpStatus | None = None) -> AcpRequest:
    request = receive_acp_request(
        session,
        actor,
        participant_number="ACP-0042",
        plates=plates,
        received_on=local_today(),
        paper_original=PAPER_ORIGINAL,
    )
    if status is not None:
        request.status = status.value
    session.commit()
    return request


def _no_clear_plate_anywhere(session, *plates: str) -> None:
    texts = [d.details_json or "" for d in session.scalars(select(AuditDetail))]
    for plate in plates:
        assert not any(plate in text for text in texts)


# --- workflows refuse illegal transitions (table-driven) ----------------------------------

ACP_EVENTS = ("verify", "record_existing_destroyed", "activate_suppression", "end")
ACP_ALLOWED = {
    ("received", "verify"),
    ("verified", "record_existing_destroyed"),
    ("existing_destroyed", "activate_suppression"),
    ("suppression_active", "end"),
}


@pytest.mark.parametrize("state", [s.value for s in AcpStatus])
@pytest.mark.parametrize("event", ACP_EVENTS)
def test_acp_workflow_allows_only_its_transitions(session, records, state, event):
    request = AcpRequest(status=state)
    machine = AcpMachine.around(request)
    if (state, event) in ACP_ALLOWED:
        machine.fire(event, actor=records, ended_on=local_today())
        assert request.status != state
    else:
        with pytest.raises(WorkflowError, match="cannot take"):
            machine.fire(event, actor=records, ended_on=local_today())
        assert request.status == state


#: Every transition an exculpatory request may take, and where it lands.
EXC_ALLOWED = {
    ("received", "activate"): "active",
    ("active", "release"): "released",
    ("received", "decline"): "declined",
}
EXC_EVENTS = ("activate", "release", "decline")


def _exc_inputs(actor) -> dict:
    """Everything any exculpatory step needs, so only the state decides."""
    return {
        "actor": actor,
        "disposition": "acquitted",
        "resolved_on": local_today(),
        "reason": "The requester is not the subject of a criminal investigation.",
    }


@pytest.mark.parametrize("state", [s.value for s in ExculpatoryStatus])
@pytest.mark.parametrize("event", EXC_EVENTS)
def test_exculpatory_workflow_allows_only_its_transitions(session, state, event):
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF])  # a role every exculpatory step allows
    request = ExculpatoryRequest(status=state)
    machine = ExculpatoryMachine.around(request)
    if (state, event) in EXC_ALLOWED:
        machine.fire(event, **_exc_inputs(chief))
        assert request.status == EXC_ALLOWED[(state, event)]
    else:
        with pytest.raises(WorkflowError, match="cannot take"):
            machine.fire(event, **_exc_inputs(chief))
        assert request.status == state


@pytest.mark.parametrize(
    ("state", "final"),
    [("received", False), ("active", False), ("released", True), ("declined", True)],
)
def test_released_and_declined_are_final(session, state, final):
    machine = ExculpatoryMachine.around(ExculpatoryRequest(status=state))
    assert machine.current_state.final is final
    assert (not machine.current_state.transitions) is final


@pytest.mark.parametrize(
    ("event", "state", "role", "allowed"),
    [
        ("activate", "received", Role.RECORDS, True),
        ("activate", "received", Role.DEPUTY_CHIEF, True),
        ("activate", "received", Role.DESIGNEE, True),
        ("activate", "received", Role.ADMIN, False),
        ("activate", "received", Role.OPERATOR, False),
        ("activate", "received", Role.AUDITOR, False),
        ("activate", "received", "system:purge", False),
        ("release", "active", Role.RECORDS, False),
        ("release", "active", Role.DEPUTY_CHIEF, True),
        ("release", "active", Role.DESIGNEE, True),
        ("release", "active", Role.ADMIN, False),
        ("release", "active", Role.OPERATOR, False),
        ("release", "active", Role.AUDITOR, False),
        ("release", "active", "system:purge", False),
        ("decline", "received", Role.DEPUTY_CHIEF, True),
        ("decline", "received", Role.DESIGNEE, True),
        ("decline", "received", Role.RECORDS, False),
        ("decline", "received", Role.ADMIN, False),
        ("decline", "received", Role.OPERATOR, False),
        ("decline", "received", Role.AUDITOR, False),
        ("decline", "received", "system:purge", False),
    ],
)
def test_who_may_take_each_exculpatory_step(session, event, state, role, allowed):
    request = ExculpatoryRequest(status=state)
    actor = role if isinstance(role, str) and ":" in role else UserFactory(roles=[role])
    machine = ExculpatoryMachine.around(request)
    if allowed:
        machine.fire(event, **_exc_inputs(actor))
        assert request.status == EXC_ALLOWED[(state, event)]
    else:
        message = {
            "activate": "Deputy Chief, the designee or records",
            "release": "Only the Deputy Chief or the designee may release",
            "decline": "Only the Deputy Chief or the designee may decline",
        }[event]
        with pytest.raises(WorkflowError, match=message):
            machine.fire(event, **_exc_inputs(actor))
        assert request.status == state


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_declining_needs_a_stated_reason(session, reason):
    request = ExculpatoryRequest(status="received")
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF])
    with pytest.raises(WorkflowError, match="Declining needs a stated reason"):
        ExculpatoryMachine.around(request).fire("decline", actor=chief, reason=reason)
    assert request.status == "received"


def test_a_refused_decline_names_every_failed_condition(session, records):
    request = ExculpatoryRequest(status="received")
    with pytest.raises(WorkflowError) as refused:
        ExculpatoryMachine.around(request).fire("decline", actor=records, reason="")
    assert "Only the Deputy Chief or the designee" in str(refused.value)
    assert "stated reason" in str(refused.value)


# --- exculpatory requests ------------------------------------------------------------------


def _exculpatory(session, actor, **overrides):
    fields = {
        "requester_name": "J. Subject",
        "case_file_number": "85-CR-24-1234",
        "received_on": local_today(),
        "window_start": utcnow() - timedelta(days=70),
        "window_end": utcnow() - timedelta(days=60),
        "plates": ["XYZ789"],
        "paper_original": PAPER_ORIGINAL,
    }
    fields.update(overrides)
    return receive_exculpatory_request(session, actor, **fields)


def test_exculpatory_hold_keeps_data_from_receipt_and_goes_after_release(app, session, records):
    designee = UserFactory(roles=[Role.DESIGNEE])
    kept = aged_read(65, plate="XYZ789").id
    request = _exculpatory(session, records)
    session.commit()
    run_purge(app)
    assert kept in surviving_ids(session), "the written request keeps the data from receipt"

    request = session.get(ExculpatoryRequest, request.id)
    activate_exculpatory_hold(session, records, request)
    session.commit()
    run_purge(app)
    assert kept in surviving_ids(session)

    request = session.get(ExculpatoryRequest, request.id)
    with pytest.raises(WorkflowError, match="disposition"):
        release_exculpatory_hold(session, designee, request, disposition=" ", resolved_on=None)
    session.rollback()
    assert session.get(ExculpatoryRequest, request.id).status == "active"

    request = session.get(ExculpatoryRequest, request.id)
    with pytest.raises(WorkflowError, match="Only the Deputy Chief or the designee"):
        release_exculpatory_hold(
            session, records, request, disposition="Charges dismissed", resolved_on=local_today()
        )
    session.rollback()
    request = session.get(ExculpatoryRequest, request.id)
    release_exculpatory_hold(
        session, designee, request, disposition="Charges dismissed", resolved_on=local_today()
    )
    session.commit()
    run_purge(app)
    assert kept not in surviving_ids(session)
    actions = set(session.scalars(select(AuditEntry.action)))
    assert {
        AuditAction.EXCULPATORY_RECEIVED.value,
        AuditAction.EXCULPATORY_ACTIVATED.value,
        AuditAction.EXCULPATORY_RELEASED.value,
    } <= actions


def test_declining_records_the_reason_ends_the_hold_and_is_audited(app, session, records):
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF])
    request = _exculpatory(session, records)
    session.commit()

    decline_exculpatory_request(session, chief, request, reason="  Not the subject.  ")
    session.commit()

    session.expire_all()
    request = session.get(ExculpatoryRequest, request.id)
    assert (request.status, request.decline_reason) == ("declined", "Not the subject.")
    assert all(hold.released_at is not None for hold in request.holds)
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == AuditAction.EXCULPATORY_DECLINED.value)
    ).one()
    assert (entry.actor_user_id, entry.subject_id) == (chief.id, str(request.id))
    assert json.loads(entry.detail.details_json) == {
        "from": "received",
        "to": "declined",
        "reason": "Not the subject.",
    }
    with pytest.raises(WorkflowError, match="declined cannot take"):
        activate_exculpatory_hold(session, chief, request)


def test_a_refused_decline_changes_nothing(app, session, records):
    request = _exculpatory(session, records)
    session.commit()
    with pytest.raises(WorkflowError, match="Only the Deputy Chief or the designee"):
        decline_exculpatory_request(session, records, request, reason="Not the subject.")
    session.rollback()
    request = session.get(ExculpatoryRequest, request.id)
    assert (request.status, request.decline_reason) == ("received", None)
    assert all(hold.released_at is None for hold in request.holds)
    declined = select(AuditEntry).where(AuditEntry.action == AuditAction.EXCULPATORY_DECLINED.value)
    assert session.scalars(declined).all() == []


def test_a_decline_whose_audit_entry_fails_is_not_saved(app, session, records, monkeypatch):
    """The decline and its audit entry are one transaction: without the entry, no decline."""
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF])
    request = _exculpatory(session, records)
    session.commit()

    def audit_fails(*args, **kwargs):
        raise RuntimeError("audit trail unavailable")

    monkeypatch.setattr(workflow_step, "record", audit_fails)
    with pytest.raises(RuntimeError, match="audit trail unavailable"):
        decline_exculpatory_request(session, chief, request, reason="Not the subject.")
    session.rollback()
    request = session.get(ExculpatoryRequest, request.id)
    assert (request.status, request.decline_reason) == ("received", None)
    assert all(hold.released_at is None for hold in request.holds)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"requester_name": " "}, "Name the person"),
        ({"case_file_number": ""}, "case or court file number"),
        ({"plates": []}, "scope is empty"),
        ({"window_end": None}, "bounded time window"),
    ],
)
def test_bad_exculpatory_request_is_refused_and_nothing_saved(
    app, session, records, overrides, message
):
    document = inspect_document(PDF, "request.pdf")
    with pytest.raises(ExculpatoryError, match=message):
        _exculpatory(session, records, document=document, **overrides)
    assert stored_documents(app) == [], "the scan is written only for a valid request"
    session.rollback()
    assert session.scalar(select(func.count()).select_from(ExculpatoryRequest)) == 0
    assert session.scalar(select(func.count()).select_from(Hold)) == 0
    assert session.scalar(select(func.count()).select_from(StoredDocument)) == 0


def test_a_valid_request_stores_its_scan_once(app, session, records):
    document = inspect_document(PDF, "request.pdf")
    first = _exculpatory(session, records, document=document)
    second = receive_acp_request(
        session,
        records,
        participant_number="ACP-9",
        plates=["ABC123"],
        received_on=local_today(),
        document=document,
    )
    session.commit()
    assert first.document_sha256 == second.document_sha256 == document.sha256
    assert session.scalar(select(func.count()).select_from(StoredDocument)) == 1
    assert [p.name for p in stored_documents(app)] == [document.sha256]


# --- ACP requests ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("participant", "plates", "message"),
    [
        ("ACP-1", [], "at least one plate"),
        ("ACP-1", ["  "], "at least one plate"),
        ("", ["ABC123"], "participant number"),
        ("ACP-1", ["ABC123", "!!"], "Plate 2"),
    ],
)
def test_bad_acp_request_is_refused_and_nothing_saved(
    app, session, records, participant, plates, message
):
    with pytest.raises(AcpError, match=message):
        receive_acp_request(
            session,
            records,
            participant_number=participant,
            plates=plates,
            received_on=local_today(),
            document=inspect_document(PDF, "request.pdf"),
        )
    assert stored_documents(app) == [], "a participant's refused scan must not reach the disk"
    session.rollback()
    assert session.scalar(select(func.count()).select_from(AcpRequest)) == 0
    assert session.scalar(select(func.count()).select_from(StoredDocument)) == 0


def test_acp_plates_are_stored_only_as_hmacs(app, session, records):
    request = _acp(session, records, plates=("abc-123", "ABC123", "QRS 555"))
    assert len(request.plates) == 2
    assert all(len(p.plate_hmac) == 64 and "ABC" not in p.plate_hmac for p in request.plates)
    _no_clear_plate_anywhere(session, "ABC123", "QRS555", "abc-123")


def test_acp_destroys_existing_defers_held_and_the_purge_finishes_on_closure(app, session, records):
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF])
    device = DeviceFactory()
    gone = aged_read(3, plate="ABC123", device=device)
    picture = add_image(session, gone)
    held = aged_read(5, plate="ABC123", device=device).id
    other = aged_read(3, plate="OTHER1", device=device).id
    case = InvestigationFactory(opened_on=local_today() - timedelta(days=30))
    place_hold(
        session,
        chief,
        case,
        utcnow() - timedelta(days=6),
        utcnow() - timedelta(days=4),
        plates=["ABC123"],
    )
    request = _acp(session, records)
    verify_acp_request(session, records, request)
    session.commit()

    outcome = destroy_existing_acp_data(session, records, request)
    session.commit()
    assert (outcome.destroyed, outcome.images, outcome.deferred) == (1, 1, 1)
    assert picture in outcome.orphans
    assert surviving_ids(session) == {held, other}
    session.expire_all()
    assert session.get(Read, held).acp_deferred_at is not None
    request = session.get(AcpRequest, request.id)
    assert (request.status, request.existing_destroyed, request.deferred) == (
        "existing_destroyed",
        1,
        1,
    )

    run_purge(app)
    assert held in surviving_ids(session), "the hold still keeps the deferred read"
    close_investigation(session, chief, case, "closed", local_today())
    session.commit()
    result = run_purge(app)
    assert result.acp_deferred_destroyed == 1
    assert surviving_ids(session) == {other}
    _no_clear_plate_anywhere(session, "ABC123")


def test_screen_at_collection_keeps_destroys_or_defers(app, session, records):
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF])
    device = DeviceFactory()
    now = utcnow()
    facts = [
        ReadFacts("ABC123", now, device.id),
        ReadFacts("ZZZ999", now, device.id),
        ReadFacts("ABC123", now - timedelta(days=2), device.id),
        ReadFacts(None, now, device.id),
    ]
    assert screen_at_collection(session, facts) == [AcpVerdict.KEEP] * 4  # no requests yet
    request = _acp(session, records)
    assert screen_at_collection(session, [facts[0]]) == [AcpVerdict.DESTROY], (
        "suppression starts when the written request is entered, before verification"
    )
    session.rollback()
    place_hold(
        session,
        chief,
        InvestigationFactory(),
        now - timedelta(days=3),
        now - timedelta(days=1),
        plates=["ABC123"],
    )
    session.commit()
    assert screen_at_collection(session, facts) == [
        AcpVerdict.DESTROY,
        AcpVerdict.KEEP,
        AcpVerdict.DEFER,
        AcpVerdict.KEEP,
    ]
    session.commit()
    request = session.get(AcpRequest, request.id)
    assert (request.destroyed_at_collection, request.deferred) == (1, 1)
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == AuditAction.ACP_DESTROYED_AT_COLLECTION.value)
    ).one()
    assert json.loads(entry.detail.details_json)["destroyed"] == 1
    request.status = AcpStatus.ENDED.value
    session.commit()
    assert screen_at_collection(session, facts) == [AcpVerdict.KEEP] * 4


def test_acp_at_collection_through_the_ingest_api(app, session, client, records):
    token, digest, hint = new_token()
    device = DeviceFactory(token_hash=digest, token_hint=hint)
    request = _acp(session, records)
    verify_acp_request(session, records, request)
    session.commit()
    destroy_existing_acp_data(session, records, request)
    activate_acp_suppression(session, records, request)
    session.commit()

    now = utcnow().replace(microsecond=0)
    response = client.post(
        "/api/v1/reads",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "reads": [
                {
                    "plate": "ABC-123",
                    "captured_at": now.isoformat(),
                    "latitude": 44.0,
                    "longitude": -91.6,
                },
                {
                    "plate": "KEEP01",
                    "captured_at": now.isoformat(),
                    "latitude": 44.0,
                    "longitude": -91.6,
                },
            ]
        },
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["destroyed_acp"] == 1 and body["stored"] == 1
    session.commit()
    plates = set(session.scalars(select(Read.plate).where(Read.device_id == device.id)))
    assert plates == {"KEEP01"}
    session.expire_all()
    assert session.get(AcpRequest, request.id).destroyed_at_collection == 1

    end_acp_request(session, records, session.get(AcpRequest, request.id), ended_on=local_today())
    session.commit()
    again = client.post(
        "/api/v1/reads",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "reads": [
                {
                    "plate": "ABC123",
                    "captured_at": (now - timedelta(seconds=5)).isoformat(),
                    "latitude": 44.0,
                    "longitude": -91.6,
                }
            ]
        },
    )
    assert again.get_json()["stored"] == 1, "after the participant leaves, reads are kept again"


def test_ending_needs_a_date(session, records):
    request = _acp(session, records, status=AcpStatus.SUPPRESSION_ACTIVE)
    with pytest.raises(WorkflowError, match="left the program"):
        end_acp_request(session, records, request, ended_on=None)


# --- suppression from the entry of the written request (425.5(b)) -------------------------


def _in_use(session, plate: str) -> set[int]:
    """The ids of `plate`'s reads a search of the last day would hand out."""
    criteria = SearchCriteria(start=utcnow() - timedelta(days=1), end=utcnow(), plate=plate)
    return {read.id for read in session.scalars(results_query(session, criteria))}


def test_a_participants_reads_are_out_of_use_from_the_entry(app, session, records):
    operator = UserFactory(roles=[Role.OPERATOR], trained=True)
    read = ReadFactory(plate="ABC123")
    hit = HitFactory(read=read)
    other = ReadFactory(plate="KEEP01").id
    session.commit()
    read_id, hit_id = read.id, hit.id
    assert _in_use(session, "ABC123") == {read_id} and load_hit(session, hit_id) is not None
    assert view_read(session, operator, read_id, f"hit:{hit_id}")[0].id == read_id

    request = _acp(session, records)  # received: not yet verified
    assert _in_use(session, "ABC123") == set(), "no search finds the participant's read"
    assert load_hit(session, hit_id) is None
    assert hit_id not in {h.id for h in live_hits(session).rows}
    with pytest.raises(ReadNotFound):
        view_read(session, operator, read_id, f"hit:{hit_id}")
    assert _in_use(session, "KEEP01") == {other}
    assert read_id in surviving_ids(session), "kept until its destruction after verification"
    assert session.scalar(select(func.count()).select_from(AcpSuppressedRead)) == 1
    received = entry_details(session, AuditAction.ACP_RECEIVED)[0]
    assert (received["reads_out_of_use"], received["paper_original"]) == (1, PAPER_ORIGINAL)

    request_id, records_id = request.id, records.id
    session.expunge_all()  # the destruction below deletes the rows under the loaded objects
    request, records = session.get(AcpRequest, request_id), session.get(User, records_id)
    verify_acp_request(session, records, request)
    destroy_existing_acp_data(session, records, request)
    session.commit()
    assert surviving_ids(session) == {other}
    assert session.scalar(select(func.count()).select_from(AcpSuppressedRead)) == 0


def test_a_read_waiting_for_review_under_a_participants_plate_leaves_the_queue(
    client, session, records
):
    operator = UserFactory(roles=[Role.OPERATOR], trained=True)
    waiting = review_read(client, session, "ABC123").id
    assert waiting in {read.id for read in review_queue(session, operator)}
    _acp(session, records)
    assert waiting not in {read.id for read in review_queue(session, operator)}
    assert waiting in surviving_ids(session), "it goes with the participant's existing data"


def test_a_deferred_read_is_kept_but_out_of_use(app, session, records):
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF])
    held = ReadFactory(plate="ABC123", captured_at=utcnow() - timedelta(hours=2))
    place_hold(
        session,
        chief,
        InvestigationFactory(),
        utcnow() - timedelta(hours=3),
        utcnow() - timedelta(hours=1),
        plates=["ABC123"],
    )
    request = _acp(session, records)
    verify_acp_request(session, records, request)
    assert destroy_existing_acp_data(session, records, request).deferred == 1
    session.commit()
    assert held.id in surviving_ids(session), "the hold defers its destruction"
    assert _in_use(session, "ABC123") == set(), "deferral keeps the read, not its use"


@pytest.mark.parametrize("state", [AcpStatus.RECEIVED, AcpStatus.VERIFIED])
def test_declining_ends_the_suppression_and_what_it_did_stands(app, session, records, state):
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF])
    device = DeviceFactory()
    earlier = ReadFactory(plate="ABC123", device=device).id
    request = _acp(session, records, status=state)
    meanwhile = screen_at_collection(session, [ReadFacts("ABC123", utcnow(), device.id)])
    session.commit()
    assert meanwhile == [AcpVerdict.DESTROY]

    decline_acp_request(session, chief, request, reason="  The participant withdrew it.  ")
    session.commit()
    session.expire_all()
    request = session.get(AcpRequest, request.id)
    assert (request.status, request.decline_reason) == ("declined", "The participant withdrew it.")
    assert request.destroyed_at_collection == 1, "what was destroyed meanwhile stays counted"
    assert _in_use(session, "ABC123") == {earlier}, "the earlier read is back in use"
    assert screen_at_collection(session, [ReadFacts("ABC123", utcnow(), device.id)]) == [
        AcpVerdict.KEEP
    ]
    assert entry_details(session, AuditAction.ACP_DECLINED) == [
        {"from": state.value, "to": "declined", "reason": "The participant withdrew it."}
    ]


def test_only_the_deputy_chief_or_designee_decline_with_a_reason_before_destruction(
    session, records
):
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF])
    request = _acp(session, records)
    with pytest.raises(WorkflowError, match="Only the Deputy Chief or the designee"):
        decline_acp_request(session, records, request, reason="Not enrolled.")
    session.rollback()
    with pytest.raises(WorkflowError, match="Declining needs a stated reason") as refused:
        decline_acp_request(session, chief, request, reason="   ")
    assert refused.value.field == "reason"
    session.rollback()
    done = _acp(session, records, status=AcpStatus.EXISTING_DESTROYED)
    with pytest.raises(WorkflowError, match="existing destroyed cannot take the 'decline' step"):
        decline_acp_request(session, chief, done, reason="Withdrawn.")
    session.rollback()
    assert {r.status for r in session.scalars(select(AcpRequest))} == {
        "received",
        "existing_destroyed",
    }
    assert entry_details(session, AuditAction.ACP_DECLINED) == []


# --- the written request (425.5(a), (b)): a scan, or the paper original on file -----------


def _enter(session, records, kind: str, **written):
    if kind == "acp":
        return receive_acp_request(
            session,
            records,
            participant_number="ACP-5",
            plates=["ABC123"],
            received_on=local_today(),
            **written,
        )
    return _exculpatory(session, records, **{"paper_original": None, **written})


@pytest.mark.parametrize("kind", ["acp", "exculpatory"])
@pytest.mark.parametrize(
    ("paper_original", "field", "message"),
    [
        (None, "document", "The written request is required"),
        ("   ", "document", "The written request is required"),
        ("RF-1\x00, cabinet 3", "paper_original", "printable characters"),
        ("RF-1\n, cabinet 3", "paper_original", "printable characters"),
        ("R" * 201, "paper_original", "at most 200 characters"),
    ],
)
def test_a_request_without_its_written_request_is_refused_and_nothing_saved(
    app, session, records, kind, paper_original, field, message
):
    with pytest.raises(Refusal, match=message) as refused:
        _enter(session, records, kind, paper_original=paper_original)
    assert refused.value.field == field
    session.rollback()
    assert session.scalar(select(func.count()).select_from(AcpRequest)) == 0
    assert session.scalar(select(func.count()).select_from(ExculpatoryRequest)) == 0
    assert session.scalar(select(func.count()).select_from(Hold)) == 0
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0


@pytest.mark.parametrize("kind", ["acp", "exculpatory"])
def test_the_paper_original_or_the_scan_shows_the_written_request(app, session, records, kind):
    on_paper = _enter(session, records, kind, paper_original=f"  {PAPER_ORIGINAL} ")
    scanned = _enter(session, records, kind, document=inspect_document(PDF, "request.pdf"))
    session.commit()
    assert (on_paper.paper_original, on_paper.document_sha256) == (PAPER_ORIGINAL, None)
    assert (scanned.paper_original, scanned.document_sha256) == (
        None,
        hashlib.sha256(PDF).hexdigest(),
    )
