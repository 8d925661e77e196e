"""Agency data requests (425.7): the agency's profile, the written request, and every step.

Submitting creates the request; every later step goes through :func:`take_step`, so it is
serialised on the request's row, checked by :class:`AgencyRequestMachine` (who may take it,
what it needs) and audited in the caller's transaction. Nothing here commits, and nothing
deletes a request: approved and denied ones stay on file (425.7(c)).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from app.audit.actions import AuditAction
from app.audit.services import record
from app.auth.models import Agency, User
from app.core.refusal import Refusal
from app.db import utcnow
from app.investigations.models import Investigation
from app.investigations.sections import count_and_newest
from app.investigations.services import normalise_case_number
from app.requests.models import (
    BASIS_MAX,
    CASE_NUMBER_MAX,
    FINDING_MAX,
    INVESTIGATION_MAX,
    MESSAGE_MAX,
    NAME_MAX,
    PURPOSE_MAX,
    REASON_MAX,
    AgencyKind,
    AgencyProfile,
    AgencyRequest,
    AgencyRequestDevice,
    AgencyRequestPlate,
    RequestStatus,
)
from app.requests.notifications import notify_requester
from app.requests.permissions import REQUEST_PERMISSIONS, RequestAction
from app.requests.scope import RequestScope, count_releasable, parse_scope
from app.requests.workflow import (
    AgencyRequestMachine,  # noqa: F401  (declares the machine take_step uses)
)
from app.retention.documents import IncomingDocument, store_document
from app.workflow.history import StepEvent, step_history
from app.workflow.step import take_step

#: The audit actions that make up a request's timeline, and how the timeline words them.
REQUEST_STEP_WORDS = {
    AuditAction.AGENCY_REQUEST_SUBMITTED: "Submitted",
    AuditAction.AGENCY_REQUEST_REVIEW_STARTED: "Review started",
    AuditAction.AGENCY_REQUEST_INFORMATION_ASKED: "Information asked of the agency",
    AuditAction.AGENCY_REQUEST_INFORMATION_GIVEN: "The agency answered",
    AuditAction.AGENCY_REQUEST_APPROVED: "Approved",
    AuditAction.AGENCY_REQUEST_DENIED: "Denied",
    AuditAction.AGENCY_REQUEST_REFERRED: "Referred to Records Maintenance and Release",
    AuditAction.AGENCY_REQUEST_WITHDRAWN: "Withdrawn by the agency",
    AuditAction.RELEASE_PACKAGE_BUILT: "Release package built",
    AuditAction.AGENCY_REQUEST_FULFILLED: "Fulfilled",
    AuditAction.RELEASE_PACKAGE_DOWNLOADED: "Release package downloaded",
    AuditAction.RELEASE_PACKAGE_EXPIRED: "Release package expired and deleted",
    AuditAction.AGENCY_REQUEST_CLOSED: "Closed",
}


class RequestError(Refusal):
    """A clear reason a request or profile was refused; `field` names the form field."""


def clean_text(
    value: str | None, field: str, label: str, limit: int, *, required: bool = True
) -> str | None:
    """`value` stripped; RequestError at `field` when blank (if required), too long or with NUL."""
    text = (value or "").strip()
    if "\x00" in text:
        raise RequestError(f"{label} contains a NUL character.", field)
    if not text:
        if required:
            raise RequestError(f"{label} is required.", field)
        return None
    if len(text) > limit:
        raise RequestError(f"{label} is at most {limit:,} characters ({len(text):,} given).", field)
    return text


# --- agencies: what the department records of them -----------------------------------------


def agency_profile(session: Session, agency_id: int | None) -> AgencyProfile | None:
    """The agency's recorded kind, head and designee, if recorded."""
    return session.get(AgencyProfile, agency_id) if agency_id is not None else None


def record_agency_profile(
    session: Session,
    actor: User | str | None,
    agency: Agency,
    *,
    kind: str | None,
    head_name: str | None,
    head_title: str | None = None,
    designee_name: str | None = None,
    designee_title: str | None = None,
) -> AgencyProfile:
    """Record what the agency is and who heads it (and their designee): 425.7(a)(5) and (c).

    An agency's requests name one of these people as their authoriser. Audited with the
    before and after.
    """
    if kind not in {k.value for k in AgencyKind}:
        raise RequestError("Choose what kind of body the agency is.", "kind")
    fields = {
        "kind": kind,
        "head_name": clean_text(head_name, "head_name", "The head's name", NAME_MAX),
        "head_title": clean_text(
            head_title, "head_title", "The head's title", NAME_MAX, required=False
        ),
        "designee_name": clean_text(
            designee_name, "designee_name", "The designee's name", NAME_MAX, required=False
        ),
        "designee_title": clean_text(
            designee_title, "designee_title", "The designee's title", NAME_MAX, required=False
        ),
    }
    if fields["designee_title"] and not fields["designee_name"]:
        raise RequestError("Name the designee whose title this is.", "designee_name")
    profile = agency_profile(session, agency.id)
    before = None
    if profile is None:
        profile = AgencyProfile(agency_id=agency.id)
        session.add(profile)
    else:
        before = {name: getattr(profile, name) for name in fields}
    for name, value in fields.items():
        setattr(profile, name, value)
    profile.updated_by_id = actor.id if isinstance(actor, User) else None
    session.flush()
    record(
        session,
        actor,
        AuditAction.AGENCY_PROFILE_RECORDED,
        agency,
        {"name": agency.name, "before": before, "after": fields},
    )
    return profile


# --- the written request (425.7(a)) --------------------------------------------------------


def submit_request(
    session: Session,
    actor: User,
    *,
    requester_name: str | None,
    purpose: str | None,
    factual_basis: str | None,
    case_number: str | None,
    authorised_by: str | None,
    letter: IncomingDocument,
    window_start: datetime | None,
    window_end: datetime | None,
    plates: Iterable[str],
    device_ids: Iterable[int],
    box: Sequence[float | None] | None,
    now: datetime,
    retention_days: int,
    submission_key: str | None = None,
) -> AgencyRequest:
    """An agency user's written request with 425.7(a)'s five items and its scope.

    The agency is the user's own. Everything is checked before anything is written: a refusal
    (RequestError or ScopeError, at its field) leaves no row and no stored letter. The same
    form sent twice (`submission_key`) returns the first request, with no second entry.
    """
    if not (
        REQUEST_PERMISSIONS.allows(actor, RequestAction.SUBMIT) and actor.agency_id is not None
    ):
        raise RequestError("Only a user of a registered agency submits a request.")
    key = (submission_key or "").strip()[:64] or None
    if key is not None:
        earlier = session.scalars(
            select(AgencyRequest).where(AgencyRequest.submission_key == key)
        ).first()
        if earlier is not None and earlier.agency_id == actor.agency_id:
            return earlier
    profile = agency_profile(session, actor.agency_id)
    if profile is None:
        raise RequestError(
            "The department has not yet recorded who heads your agency, so nobody can "
            "authorise its requests (425.7(a)(5)). Ask the department to record it."
        )
    texts = {
        "requester_name": clean_text(
            requester_name, "requester_name", "The name of the person requesting", NAME_MAX
        ),
        "purpose": clean_text(purpose, "purpose", "The intended purpose", PURPOSE_MAX),
        "factual_basis": clean_text(factual_basis, "factual_basis", "The factual basis", BASIS_MAX),
    }
    number = normalise_case_number(
        clean_text(case_number, "case_number", "The case, complaint or incident number", 200) or ""
    )
    if len(number) > CASE_NUMBER_MAX:
        raise RequestError(
            f"The case, complaint or incident number is at most {CASE_NUMBER_MAX} characters.",
            "case_number",
        )
    authorisers = profile.authorisers()
    if authorised_by not in authorisers:
        raise RequestError(
            "Choose who in your agency authorised this request: its head or their designee.",
            "authorised_by",
        )
    scope = parse_scope(
        session,
        start=window_start,
        end=window_end,
        plates=plates,
        device_ids=device_ids,
        box=box,
        now=now,
        retention_days=retention_days,
    )
    stored = store_document(session, letter)
    request = AgencyRequest(
        status=RequestStatus.SUBMITTED.value,
        agency_id=actor.agency_id,
        submitted_by_id=actor.id,
        case_number=number,
        authorised_by_name=authorisers[authorised_by],
        authorised_by_role=authorised_by,
        letter_sha256=stored.sha256,
        window_start=scope.start,
        window_end=scope.end,
        min_lat=scope.box[0] if scope.box else None,
        max_lat=scope.box[1] if scope.box else None,
        min_lon=scope.box[2] if scope.box else None,
        max_lon=scope.box[3] if scope.box else None,
        plates=[AgencyRequestPlate(plate=p) for p in scope.plates],
        devices=[AgencyRequestDevice(device_id=d) for d in scope.device_ids],
        submission_key=key,
        submitted_at=now,
        **texts,
    )
    session.add(request)
    session.flush()
    record(
        session,
        actor,
        AuditAction.AGENCY_REQUEST_SUBMITTED,
        request,
        {
            "to": request.status,
            "agency_id": request.agency_id,
            "case_number": number,
            "authorised_by": {"role": authorised_by, "name": request.authorised_by_name},
            "letter_sha256": stored.sha256,
            "scope": scope.summary(),
        },
    )
    return request


# --- the steps (425.7(b)) ------------------------------------------------------------------


def start_review(session: Session, actor: User | str | None, request: AgencyRequest) -> Any:
    """Submitted → under review: the Deputy Chief or designee take it up."""
    return take_step(
        session,
        actor,
        request,
        "start_review",
        audit_action=AuditAction.AGENCY_REQUEST_REVIEW_STARTED,
    )


def ask_for_information(
    session: Session, actor: User | str | None, request: AgencyRequest, *, question: str | None
) -> Any:
    """Under review → needs information: what the agency must add."""
    text = clean_text(question, "question", "The question", MESSAGE_MAX, required=False)
    take_step(
        session,
        actor,
        request,
        "ask",
        audit_action=AuditAction.AGENCY_REQUEST_INFORMATION_ASKED,
        changes={"question": text},
        details={"question": text},
        question=text,
    )
    notify_requester(session, request, "asked")
    return request


def answer_question(
    session: Session, actor: User | str | None, request: AgencyRequest, *, answer: str | None
) -> Any:
    """Needs information → under review: the agency's answer, kept with the question."""
    text = clean_text(answer, "answer", "The answer", MESSAGE_MAX, required=False)
    return take_step(
        session,
        actor,
        request,
        "answer",
        audit_action=AuditAction.AGENCY_REQUEST_INFORMATION_GIVEN,
        changes={"question": None},
        details={"question": request.question, "answer": text},
        answer=text,
    )


def approve_request(
    session: Session,
    actor: User | str | None,
    request: AgencyRequest,
    *,
    finding: str | None,
    active_investigation: str | None,
) -> Any:
    """Under review → approved, on a written reasonable-suspicion finding (425.7(b)(1)).

    The finding and the active criminal investigation it names are kept on the row (a CHECK
    refuses an approved request without them) and in the audit entry.
    """
    finding_text = clean_text(finding, "finding", "The finding", FINDING_MAX, required=False)
    investigation = clean_text(
        active_investigation,
        "active_investigation",
        "The active criminal investigation",
        INVESTIGATION_MAX,
        required=False,
    )
    take_step(
        session,
        actor,
        request,
        "approve",
        audit_action=AuditAction.AGENCY_REQUEST_APPROVED,
        changes={
            "finding": finding_text,
            "active_investigation": investigation,
            "decided_by_id": getattr(actor, "id", None),
            "decided_at": utcnow(),
        },
        details={"finding": finding_text, "active_investigation": investigation},
        finding=finding_text,
        active_investigation=investigation,
    )
    notify_requester(session, request, "approved")
    return request


def _decide_with_reason(
    session: Session,
    actor: User | str | None,
    request: AgencyRequest,
    event: str,
    action: AuditAction,
    reason: str | None,
) -> Any:
    text = clean_text(reason, "reason", "The reason", REASON_MAX, required=False)
    take_step(
        session,
        actor,
        request,
        event,
        audit_action=action,
        changes={
            "decision_reason": text,
            "decided_by_id": getattr(actor, "id", None),
            "decided_at": utcnow(),
        },
        details={"reason": text},
        reason=text,
    )
    notify_requester(session, request, "denied" if event == "deny" else "referred")
    return request


def deny_request(
    session: Session, actor: User | str | None, request: AgencyRequest, *, reason: str | None
) -> Any:
    """Under review → denied, with the reason (kept on file, 425.7(c))."""
    return _decide_with_reason(
        session, actor, request, "deny", AuditAction.AGENCY_REQUEST_DENIED, reason
    )


def refer_to_records(
    session: Session, actor: User | str | None, request: AgencyRequest, *, reason: str | None
) -> Any:
    """Submitted or under review → referred: not a law-enforcement or prosecutorial request."""
    return _decide_with_reason(
        session, actor, request, "refer", AuditAction.AGENCY_REQUEST_REFERRED, reason
    )


def withdraw_request(
    session: Session, actor: User | str | None, request: AgencyRequest, *, reason: str | None
) -> Any:
    """The agency withdraws its request before a decision (its reason, if it gives one)."""
    text = clean_text(reason, "reason", "The reason", REASON_MAX, required=False)
    return take_step(
        session,
        actor,
        request,
        "withdraw",
        audit_action=AuditAction.AGENCY_REQUEST_WITHDRAWN,
        changes={"decision_reason": text},
        details={"reason": text},
    )


def close_request(session: Session, actor: User | str | None, request: AgencyRequest) -> Any:
    """Fulfilled → closed: nothing more is released on this request."""
    return take_step(
        session,
        actor,
        request,
        "close",
        audit_action=AuditAction.AGENCY_REQUEST_CLOSED,
        changes={"closed_at": utcnow()},
    )


# --- reading requests -----------------------------------------------------------------------


def request_of_agency(
    session: Session, agency_id: int | None, request_id: int
) -> AgencyRequest | None:
    """The request `request_id` only if `agency_id` made it: the portal's one loader."""
    request = session.get(AgencyRequest, request_id)
    if request is None or agency_id is None or request.agency_id != agency_id:
        return None
    return request


def requests_of_agency(session: Session, agency_id: int) -> list[AgencyRequest]:
    """The agency's own requests, newest first."""
    return list(
        session.scalars(
            select(AgencyRequest)
            .where(AgencyRequest.agency_id == agency_id)
            .order_by(AgencyRequest.submitted_at.desc(), AgencyRequest.id.desc())
        )
    )


def list_requests(
    session: Session,
    *,
    now: datetime,
    states: Iterable[str] = (),
    agency_id: int | None = None,
    older_than_days: int | None = None,
) -> list[AgencyRequest]:
    """The approval queue: oldest first, filtered by state, agency and age (in days)."""
    query = select(AgencyRequest).order_by(AgencyRequest.submitted_at, AgencyRequest.id)
    wanted = [s for s in states if s in {status.value for status in RequestStatus}]
    if wanted:
        query = query.where(AgencyRequest.status.in_(wanted))
    if agency_id is not None:
        query = query.where(AgencyRequest.agency_id == agency_id)
    if older_than_days:
        query = query.where(AgencyRequest.submitted_at <= now - timedelta(days=older_than_days))
    return list(session.scalars(query.limit(500)))


def requests_by_state(
    session: Session, states: Sequence[str], *, agency_id: int | None = None
) -> dict[str, int]:
    """How many requests are in each of `states`, all agencies' or one agency's.

    Every state asked for is a key, 0 when no request is in it.
    """
    query = (
        select(AgencyRequest.status, func.count())
        .where(AgencyRequest.status.in_(list(states)))
        .group_by(AgencyRequest.status)
    )
    if agency_id is not None:
        query = query.where(AgencyRequest.agency_id == agency_id)
    counts = dict(session.execute(query).tuples().all())
    return {state: counts.get(state, 0) for state in states}


def request_history(session: Session, request: AgencyRequest) -> list[StepEvent]:
    """The request's steps, oldest first, from the audit trail."""
    return step_history(
        session,
        request,
        REQUEST_STEP_WORDS,
        {action.value: words for action, words in REQUEST_STEP_WORDS.items()},
    )


def review_scope(session: Session, actor: User | str | None, request: AgencyRequest) -> int:
    """How many reads the request's scope matches now that a release could carry; audited.

    Counting reads is a query of ALPR data (425.6(e)): the entry keeps the count, no plate.
    """
    count = count_releasable(session, RequestScope.of(request))
    record(session, actor, AuditAction.AGENCY_REQUEST_REVIEWED, request, {"read_count": count})
    return count


def requests_of_case(
    session: Session, investigation: Investigation
) -> tuple[int, list[AgencyRequest]]:
    """The agency requests decided as pertinent to the case (425.7(b)), newest first."""
    stmt = (
        select(AgencyRequest)
        .options(joinedload(AgencyRequest.agency))
        .where(AgencyRequest.active_investigation == investigation.case_number)
    )
    return count_and_newest(session, stmt, AgencyRequest.id.desc())
