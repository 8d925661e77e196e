"""Breach incidents: reported → investigating → individuals notified → report completed.

States are the stored ``breach_incidents.status`` values and follow Minn. Stat. § 13.055 (policy
425.6(d)): a breach once discovered is investigated; the individuals whose data is reasonably
believed to have been acquired by an unauthorised person are notified (when, how, how many);
and on completion of the investigation a report on its facts and results is prepared. Only the
Deputy Chief or designee take these steps; the dates they type may be neither in the future
nor before the breach was discovered.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from statemachine import State

from app.breaches.models import NOTIFIED_MAX, BreachIncident, BreachStatus, NotificationMethod
from app.breaches.permissions import BREACH_PERMISSIONS, BreachAction
from app.core.dates import future_problem
from app.core.timeutil import local_today
from app.workflow.machine import GuardedMachine


def _given(text: str | None) -> bool:
    return bool(text and text.strip())


class BreachMachine(GuardedMachine):
    """reported → investigating → individuals_notified → report_completed (Deputy Chief)."""

    MODEL = BreachIncident
    CASE_LABEL = "breach incident"
    STEP_LABELS = {
        "investigate": "Start investigation",
        "notify": "Record notification",
        "complete_report": "Complete report",
    }
    IRREVERSIBLE = frozenset({"complete_report"})
    FIELDS = {
        "findings_given": "findings",
        "notified_on_given": "notified_on",
        "notified_not_future": "notified_on",
        "notified_after_discovery": "notified_on",
        "method_known": "notification_method",
        "count_given": "individuals_notified",
        "summary_given": "report_summary",
        "completed_on_given": "report_completed_on",
        "completed_not_future": "report_completed_on",
        "completed_after_notice": "report_completed_on",
    }
    REFUSALS = {
        "actor_may_investigate": (
            "Only the Deputy Chief or designee may start a breach investigation (§ 13.055)."
        ),
        "actor_may_notify": (
            "Only the Deputy Chief or designee may record the notification of individuals."
        ),
        "actor_may_complete_report": (
            "Only the Deputy Chief or designee may complete the breach report."
        ),
        "findings_given": (
            "State the investigation's findings: whose data was, or is reasonably believed to "
            "have been, acquired by an unauthorised person."
        ),
        "notified_on_given": "Enter the date the individuals were notified.",
        "notified_not_future": "The notification date cannot be in the future.",
        "notified_after_discovery": (
            "The notification date cannot be before the breach was discovered."
        ),
        "method_known": "Choose how the individuals were notified.",
        "count_given": (f"Enter how many individuals were notified (1 to {NOTIFIED_MAX:,})."),
        "summary_given": "Summarise the facts and results of the investigation for the report.",
        "completed_on_given": "Enter the date the report was completed.",
        "completed_not_future": "The report's completion date cannot be in the future.",
        "completed_after_notice": (
            "The report's completion date cannot be before the breach was discovered or the "
            "individuals were notified."
        ),
    }

    reported = State(value=BreachStatus.REPORTED.value, initial=True)
    investigating = State(value=BreachStatus.INVESTIGATING.value)
    individuals_notified = State(value=BreachStatus.INDIVIDUALS_NOTIFIED.value)
    report_completed = State(value=BreachStatus.REPORT_COMPLETED.value, final=True)

    investigate = reported.to(investigating, cond="actor_may_investigate")
    notify = investigating.to(
        individuals_notified,
        cond=[
            "actor_may_notify",
            "findings_given",
            "notified_on_given",
            "notified_not_future",
            "notified_after_discovery",
            "method_known",
            "count_given",
        ],
    )
    complete_report = individuals_notified.to(
        report_completed,
        cond=[
            "actor_may_complete_report",
            "summary_given",
            "completed_on_given",
            "completed_not_future",
            "completed_after_notice",
        ],
    )

    # -- who ------------------------------------------------------------------------------

    def actor_may_investigate(self, actor: object = None, **_: Any) -> bool:
        """The Deputy Chief or designee opens the investigation § 13.055 requires."""
        return BREACH_PERMISSIONS.allows(actor, BreachAction.INVESTIGATE)

    def actor_may_notify(self, actor: object = None, **_: Any) -> bool:
        """The Deputy Chief or designee records the notice given to individuals."""
        return BREACH_PERMISSIONS.allows(actor, BreachAction.NOTIFY)

    def actor_may_complete_report(self, actor: object = None, **_: Any) -> bool:
        """The Deputy Chief or designee completes the report on facts and results."""
        return BREACH_PERMISSIONS.allows(actor, BreachAction.COMPLETE_REPORT)

    # -- what the notification needs -------------------------------------------------------

    def findings_given(self, findings: str | None = None, **_: Any) -> bool:
        """Whom to notify follows from what the investigation found."""
        return _given(findings)

    def notified_on_given(self, notified_on: date | None = None, **_: Any) -> bool:
        """Notice has a date."""
        return isinstance(notified_on, date)

    def notified_not_future(self, notified_on: date | None = None, **_: Any) -> bool:
        """A notice recorded is a notice given: not a future date."""
        return not isinstance(notified_on, date) or future_problem(notified_on, "") is None

    def notified_after_discovery(self, notified_on: date | None = None, **_: Any) -> bool:
        """Nobody is told of a breach before it was discovered."""
        return not isinstance(notified_on, date) or notified_on >= self._discovered_on()

    def method_known(self, notification_method: str | None = None, **_: Any) -> bool:
        """Written, electronic or substitute notice (§ 13.055, method of notice)."""
        return notification_method in {m.value for m in NotificationMethod}

    def count_given(self, individuals_notified: int | None = None, **_: Any) -> bool:
        """At least one individual, and a number the column can hold."""
        return (
            isinstance(individuals_notified, int)
            and not isinstance(individuals_notified, bool)
            and 0 < individuals_notified <= NOTIFIED_MAX
        )

    # -- what the report needs -------------------------------------------------------------

    def summary_given(self, report_summary: str | None = None, **_: Any) -> bool:
        """The report states the facts and results of the investigation."""
        return _given(report_summary)

    def completed_on_given(self, report_completed_on: date | None = None, **_: Any) -> bool:
        """The report has a completion date."""
        return isinstance(report_completed_on, date)

    def completed_not_future(self, report_completed_on: date | None = None, **_: Any) -> bool:
        """A report recorded as complete was completed: not a future date."""
        return (
            not isinstance(report_completed_on, date)
            or future_problem(report_completed_on, "") is None
        )

    def completed_after_notice(self, report_completed_on: date | None = None, **_: Any) -> bool:
        """The report follows the discovery and the notification it reports on."""
        if not isinstance(report_completed_on, date):
            return True
        earliest = max(self._discovered_on(), self.model.notified_on or self._discovered_on())
        return report_completed_on >= earliest

    def _discovered_on(self) -> date:
        return local_today(self.model.discovered_at)
