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

from app.auth.models import User
from app.investigations.models import Investigation, InvestigationStatus
from app.investigations.permissions import INVESTIGATION_PERMISSIONS, InvestigationAction
from app.workflow.machine import GuardedMachine


class InvestigationMachine(GuardedMachine):
    """active → closed (reason); closed → active (reason, Deputy Chief/designee/admin)."""

    MODEL = Investigation
    CASE_LABEL = "investigation"
    STEP_LABELS = {"close": "Close investigation", "reopen": "Reopen investigation"}
    FIELDS = {"reason_given": "reason"}
    REFUSALS = {
        "reason_given": "State the reason: it goes on the audit trail.",
        "actor_may_close": "Your role does not close investigations.",
        "actor_may_reopen": (
            "Only the Deputy Chief, the designee or an ALPR administrator may reopen a closed "
            "investigation (policy 425.3)."
        ),
    }

    active = State(value=InvestigationStatus.ACTIVE.value, initial=True)
    closed = State(value=InvestigationStatus.CLOSED.value)

    close = active.to(closed, cond=["actor_may_close", "reason_given"])
    reopen = closed.to(active, cond=["actor_may_reopen", "reason_given"])

    def reason_given(self, reason: str | None = None, **_: Any) -> bool:
        """Closing or reopening changes what data may be kept: the trail needs the why."""
        return bool(reason and reason.strip())

    def actor_may_close(self, actor: User | str | None = None, **_: Any) -> bool:
        """People are checked by role; a system actor (the demo seed, a CLI) may close a case."""
        if not isinstance(actor, User):
            return actor is not None
        return INVESTIGATION_PERMISSIONS.allows(actor, InvestigationAction.CLOSE)

    def actor_may_reopen(self, actor: User | str | None = None, **_: Any) -> bool:
        """People are checked by role; system actors (CLI, jobs) never reopen on their own."""
        return INVESTIGATION_PERMISSIONS.allows(actor, InvestigationAction.REOPEN)
