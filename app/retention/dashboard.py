"""What the retention dashboard shows: ages of stored reads, the next purge, the compliance line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, not_, select
from sqlalchemy.orm import Session

from app.reads.models import Read
from app.retention.acp.screening import SUPPRESSING_STATUSES
from app.retention.destruction import destroyable_clause, held_clause
from app.retention.holds import holds_keeping, scopes_in_force, scopes_keeping
from app.retention.models import EXCULPATORY_HOLDING, AcpRequest, ExculpatoryRequest, Hold, PurgeRun
from app.retention.policy import retention_cutoff

#: Age buckets (days, inclusive lower bound) shown on the dashboard.
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("under 8 days", 0, 8),
    ("8–30 days", 8, 31),
    ("31–50 days", 31, 51),
    ("51–60 days", 51, 61),
    ("over 60 days", 61, None),
)


@dataclass(frozen=True)
class RetentionOverview:
    """Counts only, never plates: the dashboard is a compliance view."""

    buckets: list[tuple[str, int]]
    total_reads: int
    oldest_unheld_hours: float | None
    limit_hours: int
    next_purge_at: datetime
    next_purge_count: int
    overdue: int
    overdue_deferred: int
    deferred_held: int
    holds: list[Hold]
    suppressions: list[AcpRequest]
    exculpatory_open: list[ExculpatoryRequest]
    last_runs: list[PurgeRun]


def next_daily_run(now: datetime, hour: int, minute: int) -> datetime:
    """The next time a daily UTC schedule fires after `now`."""
    candidate = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return candidate if candidate > now else candidate + timedelta(days=1)


def oldest_unheld_age_hours(session: Session, now: datetime) -> float | None:
    """How old, in hours, the oldest read that no hold keeps is (None: there is none).

    This is retention measured as the statute states it: it must stay under the retention
    period × 24 hours at every moment, between purges too.
    """
    oldest = session.scalar(
        select(func.min(Read.captured_at)).where(not_(held_clause(scopes_keeping(session))))
    )
    if oldest is None:
        return None
    return round((now - oldest).total_seconds() / 3600, 1)


def retention_overview(
    session: Session, now: datetime, retention_days: int, purge_hour_minute: tuple[int, int]
) -> RetentionOverview:
    """Gather the dashboard's figures at `now`.

    The compliance line (`overdue` + `overdue_deferred`) counts the reads the rule says must
    already be gone: older than the retention period with no hold keeping them, or
    ACP-deferred with no hold in force keeping them. It reads zero right after a purge;
    anything else is a violation to act on.
    """
    buckets = []
    for label, low, high in AGE_BUCKETS:
        stmt = (
            select(func.count())
            .select_from(Read)
            .where(Read.captured_at <= now - timedelta(days=low))
        )
        if high is not None:
            stmt = stmt.where(Read.captured_at > now - timedelta(days=high))
        buckets.append((label, session.scalar(stmt) or 0))
    scopes = scopes_keeping(session)
    deferring = scopes_in_force(session)
    cutoff = retention_cutoff(now, retention_days)
    destroyable = destroyable_clause(scopes, cutoff, deferring)

    def count(*where: object) -> int:
        return session.scalar(select(func.count()).select_from(Read).where(*where)) or 0

    next_run = next_daily_run(now, *purge_hour_minute)
    return RetentionOverview(
        buckets=buckets,
        total_reads=count(),
        oldest_unheld_hours=oldest_unheld_age_hours(session, now),
        limit_hours=retention_days * 24,
        next_purge_at=next_run,
        next_purge_count=count(
            destroyable_clause(scopes, retention_cutoff(next_run, retention_days), deferring)
        ),
        overdue=count(destroyable, Read.acp_deferred_at.is_(None)),
        overdue_deferred=count(destroyable, Read.acp_deferred_at.is_not(None)),
        deferred_held=count(Read.acp_deferred_at.is_not(None))
        - count(destroyable, Read.acp_deferred_at.is_not(None)),
        holds=holds_keeping(session),
        suppressions=list(
            session.scalars(
                select(AcpRequest)
                .where(AcpRequest.status.in_(SUPPRESSING_STATUSES))
                .order_by(AcpRequest.id)
            )
        ),
        exculpatory_open=list(
            session.scalars(
                select(ExculpatoryRequest)
                .where(ExculpatoryRequest.status.in_(EXCULPATORY_HOLDING))
                .order_by(ExculpatoryRequest.id)
            )
        ),
        last_runs=list(session.scalars(select(PurgeRun).order_by(PurgeRun.id.desc()).limit(5))),
    )
