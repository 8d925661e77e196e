"""Agency data requests (425.7): submitted → under review → approved or denied → fulfilled → closed.

States are the stored ``agency_requests.status`` values. The Deputy Chief or designee take the
request up, may ask the agency for more (needs information ↔ the agency answers), and approve
it, with a written finding of reasonable suspicion that the data is pertinent to an active
criminal investigation that they name (425.7(b)(1)), or deny it with a reason. A request from a
body that is not a law-enforcement or prosecutorial agency cannot be approved: it is referred
to the Records Maintenance and Release policy instead (425.7, last paragraph). The agency may
withdraw its request until it is decided. An approved request is fulfilled when its release
package is built, and closed after. Approved, denied and referred requests stay on file.
"""

from __future__ import annotations

import re
from typing import Any

from statemachine import State

from app.requests.models import AgencyKind, AgencyProfile, AgencyRequest, RequestStatus
from app.requests.permissions import REQUEST_PERMISSIONS, RequestAction
from app.workflow.machine import GuardedMachine

#: A finding that states a suspicion is at least this long, in at least FINDING_MIN_WORDS words.
FINDING_MIN_CHARS = 40
FINDING_MIN_WORDS = 6


def _given(text: str | None) -> bool:
    return bool(text and text.strip())


def finding_states_a_suspicion(finding: str | None) -> bool:
    """A finding of reasonable suspicion in words, not a tick or a placeholder (425.7(b)(1))."""
    text = (finding or "").strip()
    return len(text) >= FINDING_MIN_CHARS and len(re.findall(r"[A-Za-z]{2,}", text)) >= (
        FINDING_MIN_WORDS
    )


class AgencyRequestMachine(GuardedMachine):
    """The 425.7 workflow of one agency request; see the module docstring."""

    MODEL = AgencyRequest
    CASE_LABEL = "agency request"
    STEP_LABELS = {
        "start_review": "Start review",
        "ask": "Ask the agency for information",
        "answer": "Send the answer",
        "approve": "Approve release",
        "deny": "Deny",
        "refer": "Refer to records",
        "withdraw": "Withdraw request",
        "close": "Close request",
    }
    IRREVERSIBLE = frozenset({"approve", "deny", "refer", "withdraw", "close"})
    FIELDS = {
        "question_given": "question",
        "answer_given": "answer",
        "finding_given": "finding",
        "investigation_named": "active_investigation",
        "reason_given": "reason",
        "package_given": "package_sha256",
    }
    REFUSALS = {
        "actor_may_review": "Only the Deputy Chief or designee review agency requests (425.7(b)).",
        "actor_may_decide": (
            "Only the Deputy Chief or designee approve or deny an agency request (425.7(b))."
        ),
        "actor_may_refer": (
            "Only the Deputy Chief, designee or records staff refer a request to records."
        ),
        "actor_of_the_agency": "Only a user of the requesting agency may do this.",
        "actor_may_build": (
            "Only the Deputy Chief, designee or ALPR administrator build a release package."
        ),
        "actor_may_close": "Only the Deputy Chief, designee or ALPR administrator close a request.",
        "question_given": "Write the question the agency must answer.",
        "answer_given": "Write the answer to the department's question.",
        "agency_may_receive": (
            "This agency is not recorded as a law-enforcement or prosecutorial agency: 425.7 "
            "releases ALPR data only to those. Refer the request to records (Records "
            "Maintenance and Release) instead."
        ),
        "finding_given": (
            "State the reasonable suspicion that the data is pertinent to an active criminal "
            f"investigation, in words (at least {FINDING_MIN_CHARS} characters; 425.7(b)(1))."
        ),
        "investigation_named": (
            "Name the active criminal investigation the data is pertinent to (the requesting "
            "agency's case)."
        ),
        "reason_given": "State the reason.",
        "package_given": "A request is fulfilled by a built release package.",
    }

    submitted = State(value=RequestStatus.SUBMITTED.value, initial=True)
    under_review = State(value=RequestStatus.UNDER_REVIEW.value)
    needs_information = State(value=RequestStatus.NEEDS_INFORMATION.value)
    approved = State(value=RequestStatus.APPROVED.value)
    denied = State(value=RequestStatus.DENIED.value, final=True)
    referred_to_records = State(value=RequestStatus.REFERRED_TO_RECORDS.value, final=True)
    withdrawn = State(value=RequestStatus.WITHDRAWN.value, final=True)
    fulfilled = State(value=RequestStatus.FULFILLED.value)
    closed = State(value=RequestStatus.CLOSED.value, final=True)

    start_review = submitted.to(under_review, cond="actor_may_review")
    ask = under_review.to(needs_information, cond=["actor_may_review", "question_given"])
    answer = needs_information.to(under_review, cond=["actor_of_the_agency", "answer_given"])
    approve = under_review.to(
        approved,
        cond=["actor_may_decide", "agency_may_receive", "finding_given", "investigation_named"],
    )
    deny = under_review.to(denied, cond=["actor_may_decide", "reason_given"])
    refer = submitted.to(referred_to_records, cond=["actor_may_refer", "reason_given"]) | (
        under_review.to(referred_to_records, cond=["actor_may_refer", "reason_given"])
    )
    withdraw = (
        submitted.to(withdrawn, cond="actor_of_the_agency")
        | under_review.to(withdrawn, cond="actor_of_the_agency")
        | needs_information.to(withdrawn, cond="actor_of_the_agency")
    )
    fulfil = approved.to(fulfilled, cond=["actor_may_build", "package_given"])
    close = fulfilled.to(closed, cond="actor_may_close")

    # -- who ------------------------------------------------------------------------------

    def actor_may_review(self, actor: object = None, **_: Any) -> bool:
        """The Deputy Chief or designee take the request up and ask questions."""
        return REQUEST_PERMISSIONS.allows(actor, RequestAction.REVIEW)

    def actor_may_decide(self, actor: object = None, **_: Any) -> bool:
        """Only the Deputy Chief or the authorised designee decide (425.7(b))."""
        return REQUEST_PERMISSIONS.allows(actor, RequestAction.DECIDE)

    def actor_may_refer(self, actor: object = None, **_: Any) -> bool:
        """The Deputy Chief, designee or records staff route a request to records."""
        return REQUEST_PERMISSIONS.allows(actor, RequestAction.REFER)

    def actor_of_the_agency(self, actor: object = None, **_: Any) -> bool:
        """A user of the requesting agency, and no other agency's (their request, their say)."""
        return (
            REQUEST_PERMISSIONS.allows(actor, RequestAction.ANSWER)
            and getattr(actor, "agency_id", None) == self.model.agency_id
        )

    def actor_may_build(self, actor: object = None, **_: Any) -> bool:
        """Staff who build release packages fulfil the request with one."""
        return REQUEST_PERMISSIONS.allows(actor, RequestAction.BUILD_PACKAGE)

    def actor_may_close(self, actor: object = None, **_: Any) -> bool:
        """The Deputy Chief, designee or ALPR administrator close a fulfilled request."""
        return REQUEST_PERMISSIONS.allows(actor, RequestAction.CLOSE)

    # -- what a step needs ----------------------------------------------------------------

    def question_given(self, question: str | None = None, **_: Any) -> bool:
        """The agency is told what is missing."""
        return _given(question)

    def answer_given(self, answer: str | None = None, **_: Any) -> bool:
        """An answer says something."""
        return _given(answer)

    def agency_may_receive(self, **_: Any) -> bool:
        """425.7: only a law-enforcement or prosecutorial agency receives ALPR data."""
        profile: AgencyProfile | None = self.model.profile
        return profile is not None and AgencyKind(profile.kind).may_receive_data

    def finding_given(self, finding: str | None = None, **_: Any) -> bool:
        """A written reasonable-suspicion finding (425.7(b)(1))."""
        return finding_states_a_suspicion(finding)

    def investigation_named(self, active_investigation: str | None = None, **_: Any) -> bool:
        """The active criminal investigation the data is pertinent to."""
        return _given(active_investigation)

    def reason_given(self, reason: str | None = None, **_: Any) -> bool:
        """A denial or a referral says why."""
        return _given(reason)

    def package_given(self, package_sha256: str | None = None, **_: Any) -> bool:
        """The package's digest: a request is fulfilled by a built package, nothing else."""
        return bool(package_sha256 and re.fullmatch(r"[0-9a-f]{64}", package_sha256))
