"""Each role's work queue on the home page, composed from the domains' own service functions.

A card is shown to whoever the domain's permissions table names for it (a ``WATCH_*`` action,
or the action the card's list needs), and, for staff, only with current ALPR training: every
list a card links to is closed without it, and the training card says so. A card is ``None``
when it is not shown; each count links to the list it counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from app.alpr.devices import silent_devices, tokens_to_rotate
from app.alpr.hits import open_hit_ages
from app.alpr.image_reads import review_waiting
from app.alpr.pending_ocr import PendingSummary, pending_ocr_summary
from app.alpr.permissions import ALPR_PERMISSIONS, AlprAction
from app.alpr.search import recent_searches
from app.audit.services import last_verification
from app.auth.models import Role, TrainingRecord, User
from app.auth.permissions import ACCOUNT_PERMISSIONS, AccountAction
from app.auth.training import training_lapsing
from app.bca.models import BcaNotice
from app.bca.permissions import BCA_PERMISSIONS, BcaAction
from app.bca.services import notices_due
from app.reads.models import Device, Search
from app.reports.permissions import REPORT_PERMISSIONS, ReportAction
from app.reports.services import last_compliance_check, last_report
from app.requests.models import OPEN_STATES, RequestStatus
from app.requests.permissions import REQUEST_PERMISSIONS, RequestAction
from app.requests.services import requests_by_state
from app.retention.permissions import RETENTION_PERMISSIONS, RetentionAction
from app.retention.queue import RetentionQueue, retention_queue

#: The agency's requests by state, in the order its card lists them (one it must answer first).
AGENCY_STATES = (
    RequestStatus.NEEDS_INFORMATION.value,
    RequestStatus.SUBMITTED.value,
    RequestStatus.UNDER_REVIEW.value,
    RequestStatus.APPROVED.value,
    RequestStatus.FULFILLED.value,
)
#: How many of one's own searches the card lists.
RECENT_SEARCHES = 5


@dataclass(frozen=True)
class Limits:
    """The thresholds the cards apply (configuration: see the README's table)."""

    device_silent_hours: int
    token_rotate_days: int
    training_lapse_days: int


@dataclass(frozen=True)
class HomeQueue:
    """What one user's home page shows; None: the card means nothing to their roles."""

    limits: Limits
    training: TrainingRecord | None = None
    hit_ages: list[tuple[str, int]] | None = None
    review_waiting: int | None = None
    searches: list[Search] | None = None
    retention: RetentionQueue | None = None
    requests: dict[str, int] | None = None
    notices_due: list[BcaNotice] | None = None
    #: The last compliance check and its counts; (None, {}) before the first check.
    compliance: tuple[Any, dict[str, int]] | None = None
    training_lapsing: list[tuple[User, date]] | None = None
    silent_devices: list[Device] | None = None
    tokens_to_rotate: list[Device] | None = None
    #: The chain's last verification and the last biennial report (each None when never done).
    audit: tuple[Any, Any] | None = None
    agency_requests: dict[str, int] | None = None
    #: Reads waiting for OCR (None also when none waits: the card shows only then).
    pending_ocr: PendingSummary | None = None

    @property
    def open_hits(self) -> int:
        """Every open hit, whatever its age."""
        return sum(count for _, count in self.hit_ages or [])


def home_queue(
    session: Session, user: User, *, now: datetime, today: date, limits: Limits
) -> HomeQueue:
    """Gather the cards `user` sees at `now` (`today` is the department's calendar day)."""
    if user.has_role(Role.AGENCY):
        following = REQUEST_PERMISSIONS.allows(user, RequestAction.FOLLOW)
        return HomeQueue(
            limits=limits,
            agency_requests=requests_by_state(session, AGENCY_STATES, agency_id=user.agency_id)
            if following and user.agency_id is not None
            else None,
        )
    training = user.current_training(today)
    if training is None:
        return HomeQueue(limits=limits)

    def may(permissions: Any, action: Any) -> bool:
        return bool(permissions.allows(user, action))

    watches_hits = may(ALPR_PERMISSIONS, AlprAction.WATCH_HITS)
    watches_equipment = may(ALPR_PERMISSIONS, AlprAction.WATCH_EQUIPMENT)
    return HomeQueue(
        limits=limits,
        training=training,
        hit_ages=open_hit_ages(session, now) if watches_hits else None,
        review_waiting=review_waiting(session) if watches_hits else None,
        searches=recent_searches(session, user, RECENT_SEARCHES) if watches_hits else None,
        retention=retention_queue(session)
        if may(RETENTION_PERMISSIONS, RetentionAction.WATCH_REQUESTS)
        else None,
        requests=requests_by_state(session, OPEN_STATES)
        if may(REQUEST_PERMISSIONS, RequestAction.REVIEW)
        else None,
        notices_due=notices_due(session, today)
        if may(BCA_PERMISSIONS, BcaAction.WATCH_DUE)
        else None,
        compliance=(last_compliance_check(session) or (None, {}))
        if may(REPORT_PERMISSIONS, ReportAction.WATCH_COUNTERS)
        else None,
        training_lapsing=training_lapsing(session, today, limits.training_lapse_days)
        if may(ACCOUNT_PERMISSIONS, AccountAction.WATCH_TRAINING)
        else None,
        silent_devices=silent_devices(session, now, limits.device_silent_hours)
        if watches_equipment
        else None,
        tokens_to_rotate=tokens_to_rotate(session, now, limits.token_rotate_days)
        if watches_equipment
        else None,
        audit=(last_verification(session), last_report(session))
        if may(REPORT_PERMISSIONS, ReportAction.WATCH_AUDIT)
        else None,
        pending_ocr=pending_ocr_summary(session, now)
        if may(ALPR_PERMISSIONS, AlprAction.WATCH_PENDING_OCR)
        else None,
    )
