"""Investigations: active → closed → its held data released, or kept under the schedule.

States are the stored ``investigations.status`` values. Closing needs a stated reason; it ends
the investigation but not its holds: they keep their data while the case awaits the Deputy
Chief's or designee's disposition (nothing a hold protects is destroyed before someone
responsible for retention decides, 425.3, 425.5). The disposition either releases the data to
the 60-day rule (the holds end; final, confirmed like every irreversible step) or keeps it under
a records-retention schedule category until an end date, when it lapses to the 60-day rule
(the purge takes that step, :func:`app.investigations.services.lapse_ended_schedules`); data
kept under the schedule may also be released earlier. The disposition is always a step of its
own, even when the Deputy Chief closes the case: the close and the decision each have their
audit entry, and the case page offers the decision right after the close.

Reopening is allowed from every closed state, because a case closed by mistake or revived by
new evidence must be able to hold data again, but only the Deputy Chief, the designee or an
ALPR administrator may reopen (425.3); it too needs a reason. Holds a case still has (awaiting
disposition, or kept under the schedule) are in force again at once; holds the disposition
released stay released, and the data they kept that the purge destroyed meanwhile is gone: a
reopened case places holds anew on what is still stored.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from statemachine import State

from app.auth.models import User
from app.investigations.models import Investigation, InvestigationStatus
from app.investigations.permissions import INVESTIGATION_PERMISSIONS, InvestigationAction
from app.workflow.machine import GuardedMachine


class InvestigationMachine(GuardedMachine):
    """active → closed → released | retained (→ released); every closed state → active."""

    MODEL = Investigation
    CASE_LABEL = "investigation"
    STEP_LABELS = {
        "close": "Close investigation",
        "reopen": "Reopen investigation",
        "release_data": "Release its data to the 60-day rule",
        "retain": "Keep its data under the records-retention schedule",
    }
    IRREVERSIBLE = frozenset({"release_data"})
    FIELDS = {
        "reason_given": "reason",
        "category_given": "schedule_category",
        "retain_until_given": "retain_until",
    }
    REFUSALS = {
        "reason_given": "State the reason: it goes on the audit trail.",
        "actor_may_close": "Your role does not close investigations.",
        "actor_may_reopen": (
            "Only the Deputy Chief, the designee or an ALPR administrator may reopen a closed "
            "investigation (policy 425.3)."
        ),
        "actor_may_dispose": (
            "Only the Deputy Chief or the designee decide what happens to a closed case's held "
            "data (policy 425.3, 425.5)."
        ),
        "category_given": "Choose the records-retention schedule category.",
        "retain_until_given": "Give the date the keeping ends.",
        "schedule_ended": "The case's data is kept under the schedule until its end date.",
    }

    active = State(value=InvestigationStatus.ACTIVE.value, initial=True)
    closed = State("Closed (awaiting disposition)", value=InvestigationStatus.CLOSED.value)
    released = State("Closed (data released)", value=InvestigationStatus.RELEASED.value)
    retained = State("Closed (kept under schedule)", value=InvestigationStatus.RETAINED.value)

    close = active.to(closed, cond=["actor_may_close", "reason_given"])
    retain = closed.to(retained, cond=["actor_may_dispose", "category_given", "retain_until_given"])
    release_data = closed.to(released, cond="actor_may_dispose") | retained.to(
        released, cond="actor_may_dispose"
    )
    lapse = retained.to(released, cond="schedule_ended")
    reopen = active.from_(closed, released, retained, cond=["actor_may_reopen", "reason_given"])

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

    def actor_may_dispose(self, actor: User | str | None = None, **_: Any) -> bool:
        """A person responsible for retention decides; no job or command decides for them."""
        return INVESTIGATION_PERMISSIONS.allows(actor, InvestigationAction.DISPOSE)

    def category_given(self, schedule_category: str | None = None, **_: Any) -> bool:
        """Keeping data past 60 days needs the schedule category that allows it (425.5)..."""
        return bool(schedule_category and schedule_category.strip())

    def retain_until_given(self, retain_until: date | None = None, **_: Any) -> bool:
        """...and the day it ends."""
        return isinstance(retain_until, date)

    def schedule_ended(self, today: date | None = None, **_: Any) -> bool:
        """The keeping lapses on its end date, whoever notices (the purge does, daily)."""
        end = self.model.retain_until
        return isinstance(today, date) and end is not None and end <= today
