"""The retention domain's workflows: exculpatory requests, ACP requests and holds (425.5).

Exculpatory (425.5(a)): the written request's hold keeps the data from receipt. received →
active (the Deputy Chief, designee or records staff accept it) → released (the criminal matter
is resolved: the Deputy Chief or designee record disposition and date); or received → declined
(the Deputy Chief or designee find it does not qualify, e.g. the requester is not the subject of
a criminal investigation: reason recorded). Released and declined are final, and end the hold.

ACP (425.5(b)): received → verified → existing_destroyed (a job destroyed the participant's
data already collected) → suppression_active → ended (the participant left the program); or,
before the existing data is destroyed, received or verified → declined (the Deputy Chief or
designee: the request could not be verified or was withdrawn, reason recorded). The plates are
suppressed from the entry of the request until it ends or is declined.

Hold: placed → released (an investigation hold released early with a reason, or because its
closed investigation's data was released). An exculpatory hold is released by its request's
workflow, not this way.

States are the stored ``status`` values; machines are built around a loaded row on demand
(:func:`app.workflow.machine.machine_for`), and every step is taken by
:func:`app.workflow.step.take_step`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from statemachine import State

from app.retention.models import (
    AcpRequest,
    AcpStatus,
    ExculpatoryRequest,
    ExculpatoryStatus,
    Hold,
    HoldKind,
    HoldStatus,
)
from app.retention.permissions import RETENTION_PERMISSIONS, RetentionAction
from app.workflow.machine import GuardedMachine


def _given(value: str | None) -> bool:
    return bool(value and value.strip())


class ExculpatoryMachine(GuardedMachine):
    """received → active → released (the matter resolved); received → declined (with a reason).

    The hold is in force while the request is received or active
    (:func:`app.retention.holds.hold_in_force_clause`); released and declined are final.
    """

    MODEL = ExculpatoryRequest
    CASE_LABEL = "exculpatory request"
    #: Refusals name the step by these ("... cannot take the 'decline' step").
    STEP_LABELS = {"activate": "Activate", "release": "Release", "decline": "Decline"}
    IRREVERSIBLE = frozenset({"release", "decline"})
    FIELDS = {
        "disposition_given": "disposition",
        "resolved_on_given": "resolved_on",
        "decline_reason_given": "reason",
    }
    REFUSALS = {
        "actor_may_activate": (
            "Only the Deputy Chief, the designee or records staff may activate an exculpatory hold."
        ),
        "actor_may_release": (
            "Only the Deputy Chief or the designee may release an exculpatory hold."
        ),
        "disposition_given": (
            "Releasing needs the resolution of the criminal matter: its disposition and the "
            "date it was resolved."
        ),
        "resolved_on_given": (
            "Releasing needs the resolution of the criminal matter: its disposition and the "
            "date it was resolved."
        ),
        "actor_may_decline": (
            "Only the Deputy Chief or the designee may decline an exculpatory request."
        ),
        "decline_reason_given": (
            "Declining needs a stated reason: why the request does not qualify under 425.5(a)."
        ),
    }

    received = State(value=ExculpatoryStatus.RECEIVED.value, initial=True)
    active = State(value=ExculpatoryStatus.ACTIVE.value)
    released = State(value=ExculpatoryStatus.RELEASED.value, final=True)
    declined = State(value=ExculpatoryStatus.DECLINED.value, final=True)

    activate = received.to(active, cond="actor_may_activate")
    release = active.to(
        released, cond=["actor_may_release", "disposition_given", "resolved_on_given"]
    )
    decline = received.to(declined, cond=["actor_may_decline", "decline_reason_given"])

    def actor_may_activate(self, actor: object = None, **_: Any) -> bool:
        """425.3 gives retention to the Deputy Chief or designee; records staff enter requests."""
        return RETENTION_PERMISSIONS.allows(actor, RetentionAction.ACTIVATE_EXCULPATORY)

    def actor_may_decline(self, actor: object = None, **_: Any) -> bool:
        """Declining lets the purge take data a subject asked to keep: the Deputy Chief's call."""
        return RETENTION_PERMISSIONS.allows(actor, RetentionAction.DECLINE_EXCULPATORY)

    def decline_reason_given(self, reason: str | None = None, **_: Any) -> bool:
        """Why the request does not qualify is recorded on it and in the audit trail."""
        return _given(reason)

    def actor_may_release(self, actor: object = None, **_: Any) -> bool:
        """Releasing ends a hold: the Deputy Chief or designee (425.5), never a job."""
        return RETENTION_PERMISSIONS.allows(actor, RetentionAction.RELEASE_EXCULPATORY)

    def disposition_given(self, disposition: str | None = None, **_: Any) -> bool:
        """425.5(a) keeps the data *until the matter is resolved*: the release records how..."""
        return _given(disposition)

    def resolved_on_given(self, resolved_on: date | None = None, **_: Any) -> bool:
        """...and when."""
        return isinstance(resolved_on, date)


class AcpMachine(GuardedMachine):
    """received → verified → existing_destroyed → suppression_active → ended; or → declined.

    The plates are suppressed in every state but ended and declined
    (:data:`app.retention.acp.screening.SUPPRESSING_STATUSES`).
    """

    MODEL = AcpRequest
    CASE_LABEL = "ACP request"
    STEP_LABELS = {
        "verify": "Verify",
        "record_existing_destroyed": "Destroy existing data",
        "activate_suppression": "Activate suppression",
        "end": "End",
        "decline": "Decline",
    }
    IRREVERSIBLE = frozenset({"record_existing_destroyed", "decline"})
    FIELDS = {"end_date_given": "ended_on", "decline_reason_given": "reason"}
    REFUSALS = {
        "actor_handles_requests": (
            "Only the Deputy Chief, the designee, an ALPR administrator or records staff may "
            "move an ACP request along."
        ),
        "end_date_given": "Give the date the participant left the program.",
        "actor_may_decline": "Only the Deputy Chief or the designee may decline an ACP request.",
        "decline_reason_given": (
            "Declining needs a stated reason: why the request could not be verified, or that "
            "the participant withdrew it."
        ),
    }

    received = State(value=AcpStatus.RECEIVED.value, initial=True)
    verified = State(value=AcpStatus.VERIFIED.value)
    existing_destroyed = State(value=AcpStatus.EXISTING_DESTROYED.value)
    suppression_active = State(value=AcpStatus.SUPPRESSION_ACTIVE.value)
    ended = State(value=AcpStatus.ENDED.value, final=True)
    declined = State(value=AcpStatus.DECLINED.value, final=True)

    verify = received.to(verified, cond="actor_handles_requests")
    # Taken by the destroy job, queued from the page by a person who handles requests (the
    # route checks MOVE_ACP); the job's actor may be a system string, so no actor guard here.
    record_existing_destroyed = verified.to(existing_destroyed)
    activate_suppression = existing_destroyed.to(suppression_active, cond="actor_handles_requests")
    end = suppression_active.to(ended, cond=["actor_handles_requests", "end_date_given"])
    # Once the existing data is destroyed the request was genuine: it ends, it is not declined.
    decline = received.to(declined, cond=["actor_may_decline", "decline_reason_given"]) | (
        verified.to(declined, cond=["actor_may_decline", "decline_reason_given"])
    )

    def actor_handles_requests(self, actor: object = None, **_: Any) -> bool:
        """A person who handles requests verifies, activates and ends; the destroy job does not."""
        return RETENTION_PERMISSIONS.allows(actor, RetentionAction.MOVE_ACP)

    def actor_may_decline(self, actor: object = None, **_: Any) -> bool:
        """Declining ends the participant's suppression: the Deputy Chief's or designee's call."""
        return RETENTION_PERMISSIONS.allows(actor, RetentionAction.DECLINE_ACP)

    def decline_reason_given(self, reason: str | None = None, **_: Any) -> bool:
        """Why the request is declined is recorded on it and in the audit trail."""
        return _given(reason)

    def end_date_given(self, ended_on: date | None = None, **_: Any) -> bool:
        """The date the participant left the program closes the request's record."""
        return isinstance(ended_on, date)


class HoldMachine(GuardedMachine):
    """placed → released: an investigation hold stops keeping its data (final).

    A person who may release holds releases one early with a stated reason. Releasing its
    closed investigation's data releases it too, whoever takes that step (the Deputy Chief or
    designee, or the purge when the schedule ended): it passes ``case_released=True``, which
    stands in for the permission guard (:func:`app.retention.holds.release_case_holds`). An
    exculpatory hold is never released this way: its request's release or decline ends it.
    """

    MODEL = Hold
    CASE_LABEL = "hold"
    STEP_LABELS = {"release": "Release"}
    IRREVERSIBLE = frozenset({"release"})
    FIELDS = {"reason_given": "reason"}
    REFUSALS = {
        "actor_may_release": "Your role does not release holds.",
        "reason_given": "State why the hold is released.",
        "held_for_an_investigation": "An exculpatory hold is released by releasing its request.",
    }

    placed = State(value=HoldStatus.PLACED.value, initial=True)
    released = State(value=HoldStatus.RELEASED.value, final=True)

    release = placed.to(
        released, cond=["held_for_an_investigation", "actor_may_release", "reason_given"]
    )

    def actor_may_release(
        self, actor: object = None, case_released: bool = False, **_: Any
    ) -> bool:
        """The Deputy Chief, designee or an administrator; anyone when the case's data is."""
        return case_released or RETENTION_PERMISSIONS.allows(actor, RetentionAction.RELEASE_HOLDS)

    def reason_given(self, reason: str | None = None, **_: Any) -> bool:
        """The data falls back under the 60-day rule: the trail says why."""
        return _given(reason)

    def held_for_an_investigation(self, **_: Any) -> bool:
        """An exculpatory hold ends with its request, which records the matter's resolution."""
        return self.model.kind == HoldKind.INVESTIGATION.value
