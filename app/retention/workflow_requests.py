"""Workflows of the two written-request exceptions of 425.5.

Exculpatory (425.5(a)): the written request's hold keeps the data from receipt. received →
active (the Deputy Chief, designee or records staff accept it) → released (the criminal matter
is resolved: disposition and date recorded); or received → declined (the Deputy Chief or designee
find it does not qualify, e.g. the requester is not the subject of a criminal investigation:
reason recorded). Released and declined are final, and end the hold.

ACP (425.5(b)): received → verified → existing_destroyed (a job destroyed the participant's
data already collected) → suppression_active → ended (the participant left the program).

States are the stored ``status`` values; machines are built around a loaded request on demand.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from statemachine import State

from app.auth.models import Role, User
from app.retention.models import AcpRequest, AcpStatus, ExculpatoryRequest, ExculpatoryStatus
from app.workflow.machine import GuardedMachine

#: Who may put an exculpatory hold in force: the Deputy Chief or designee (425.3), or the
#: records staff who took the written request.
ACTIVATE_ROLES = frozenset({Role.DEPUTY_CHIEF, Role.DESIGNEE, Role.RECORDS})
#: Who may decline an exculpatory request, ending its hold before the matter is resolved: only
#: the Deputy Chief or designee, whom 425.3 and 425.5 make responsible for retention.
DECLINE_ROLES = frozenset({Role.DEPUTY_CHIEF, Role.DESIGNEE})
#: Who may move ACP and exculpatory requests along otherwise (they enter and track them).
REQUEST_ROLES = frozenset({Role.DEPUTY_CHIEF, Role.DESIGNEE, Role.RECORDS, Role.ADMIN})


def _is_person_with(actor: User | str | None, roles: frozenset[Role]) -> bool:
    return isinstance(actor, User) and actor.has_role(*roles)


class ExculpatoryMachine(GuardedMachine):
    """received → active → released (the matter resolved); received → declined (with a reason).

    The hold is in force while the request is received or active
    (:func:`app.retention.holds.hold_in_force_clause`); released and declined are final.
    """

    CASE_LABEL = "exculpatory request"
    REFUSALS = {
        "actor_may_activate": (
            "Only the Deputy Chief, the designee or records staff may activate an exculpatory hold."
        ),
        "actor_handles_requests": "Your role does not handle exculpatory requests.",
        "resolution_given": (
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
    release = active.to(released, cond=["actor_handles_requests", "resolution_given"])
    decline = received.to(declined, cond=["actor_may_decline", "decline_reason_given"])

    def actor_may_activate(self, actor: User | str | None = None, **_: Any) -> bool:
        """425.3 gives retention to the Deputy Chief or designee; records staff enter requests."""
        return _is_person_with(actor, ACTIVATE_ROLES)

    def actor_may_decline(self, actor: User | str | None = None, **_: Any) -> bool:
        """Declining lets the purge take data a subject asked to keep: the Deputy Chief's call."""
        return _is_person_with(actor, DECLINE_ROLES)

    def decline_reason_given(self, reason: str | None = None, **_: Any) -> bool:
        """Why the request does not qualify is recorded on it and in the audit trail."""
        return bool(reason and reason.strip())

    def actor_handles_requests(self, actor: User | str | None = None, **_: Any) -> bool:
        """Releasing ends a hold: a person who handles requests takes it, never a job."""
        return _is_person_with(actor, REQUEST_ROLES)

    def resolution_given(
        self, disposition: str | None = None, resolved_on: date | None = None, **_: Any
    ) -> bool:
        """425.5(a) keeps the data *until the matter is resolved*: the release records how."""
        return bool(disposition and disposition.strip()) and isinstance(resolved_on, date)


class AcpMachine(GuardedMachine):
    """received → verified → existing_destroyed → suppression_active → ended."""

    CASE_LABEL = "ACP request"
    REFUSALS = {
        "actor_handles_requests": (
            "Only the Deputy Chief, the designee, an ALPR administrator or records staff may "
            "move an ACP request along."
        ),
        "end_date_given": "Give the date the participant left the program.",
    }

    received = State(value=AcpStatus.RECEIVED.value, initial=True)
    verified = State(value=AcpStatus.VERIFIED.value)
    existing_destroyed = State(value=AcpStatus.EXISTING_DESTROYED.value)
    suppression_active = State(value=AcpStatus.SUPPRESSION_ACTIVE.value)
    ended = State(value=AcpStatus.ENDED.value, final=True)

    verify = received.to(verified, cond="actor_handles_requests")
    record_existing_destroyed = verified.to(existing_destroyed)
    activate_suppression = existing_destroyed.to(suppression_active, cond="actor_handles_requests")
    end = suppression_active.to(ended, cond=["actor_handles_requests", "end_date_given"])

    def actor_handles_requests(self, actor: User | str | None = None, **_: Any) -> bool:
        """A person who handles requests verifies, activates and ends; the destroy job does not."""
        return _is_person_with(actor, REQUEST_ROLES)

    def end_date_given(self, ended_on: date | None = None, **_: Any) -> bool:
        """The date the participant left the program closes the request's record."""
        return isinstance(ended_on, date)


def exculpatory_machine(request: ExculpatoryRequest) -> ExculpatoryMachine:
    """The machine for a loaded exculpatory request, reading and writing its ``status``."""
    return ExculpatoryMachine(model=request, state_field="status")


def acp_machine(request: AcpRequest) -> AcpMachine:
    """The machine for a loaded ACP request, reading and writing its ``status``."""
    return AcpMachine(model=request, state_field="status")
