"""Retention case workflows. Investigations: active ⇄ closed.

States are the stored ``investigations.status`` values. Closing needs a stated reason (it ends
every investigation hold, so the held data falls back under the 60-day rule of 425.5).
Reopening is allowed, because a case closed by mistake or revived by new evidence must be able
to hold data again, but only the Deputy Chief, the designee or an ALPR administrator may reopen
(425.3: data retention is managed by the Deputy Chief or designee); it too needs a reason.
"""

from __future__ import annotations

from typing import Any

from statemachine import State

from app.auth.models import Role, User
from app.investigations.models import Investigation, InvestigationStatus
from app.workflow.machine import GuardedMachine

#: Who may reopen a closed investigation (425.3).
REOPEN_ROLES = frozenset({Role.DEPUTY_CHIEF, Role.DESIGNEE, Role.ADMIN})


class InvestigationMachine(GuardedMachine):
    """active → closed (reason); closed → active (reason, Deputy Chief/designee/admin)."""

    CASE_LABEL = "investigation"
    REFUSALS = {
        "reason_given": "State the reason: it goes on the audit trail.",
        "actor_may_reopen": (
            "Only the Deputy Chief, the designee or an ALPR administrator may reopen a closed "
            "investigation (policy 425.3)."
        ),
    }

    active = State(value=InvestigationStatus.ACTIVE.value, initial=True)
    closed = State(value=InvestigationStatus.CLOSED.value)

    close = active.to(closed, cond="reason_given")
    reopen = closed.to(active, cond=["reason_given", "actor_may_reopen"])

    def reason_given(self, reason: str | None = None, **_: Any) -> bool:
        """Closing or reopening changes what data may be kept: the trail needs the why."""
        return bool(reason and reason.strip())

    def actor_may_reopen(self, actor: User | str | None = None, **_: Any) -> bool:
        """People are checked by role; system actors (CLI, jobs) never reopen on their own."""
        return isinstance(actor, User) and actor.has_role(*REOPEN_ROLES)


def investigation_machine(investigation: Investigation) -> InvestigationMachine:
    """The machine for a loaded `investigation`, reading and writing its ``status``."""
    return InvestigationMachine(model=investigation, state_field="status")
