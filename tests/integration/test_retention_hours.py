"""No read outlives 60 × 24 hours (425.5): measured as the age of the oldest unheld read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.db import utcnow
from app.retention.dashboard import oldest_unheld_age_hours
from app.retention.policy import retention_cutoff
from tests.factories import HoldFactory, ReadFactory
from tests.helpers import run_purge

LIMIT = timedelta(days=60)


def test_the_cutoff_keeps_every_read_under_60_days_between_daily_runs():
    day = datetime(2026, 3, 1, tzinfo=UTC)
    for minutes in range(0, 3 * 24 * 60, 7):
        now = day + timedelta(minutes=minutes)
        last_run = now.replace(hour=0, minute=5, second=0, microsecond=0)
        if last_run > now:
            last_run -= timedelta(days=1)
        # whatever the last daily run left is newer than its cutoff; now it is at most this old
        assert now - retention_cutoff(last_run, 60) < LIMIT, now
        # and even a run a whole day late leaves nothing past the limit at the run itself
        assert last_run + timedelta(days=1) - retention_cutoff(last_run, 60) <= LIMIT


def test_after_the_scheduled_purge_the_oldest_unheld_read_is_under_60_days(app, session):
    now = utcnow().replace(hour=0, minute=5, second=0, microsecond=0)
    for hours in range(0, 70 * 24, 5):
        ReadFactory(captured_at=now - timedelta(hours=hours))
    held = ReadFactory(plate="KEEP1", captured_at=now - timedelta(days=65))
    HoldFactory(
        held_plates=["KEEP1"],
        window_start=held.captured_at - timedelta(hours=1),
        window_end=held.captured_at + timedelta(hours=1),
    )
    session.commit()
    assert oldest_unheld_age_hours(session, now) > 60 * 24
    with app.app_context():
        run_purge(app, now=now, retention_days=60)
    session.rollback()
    age = oldest_unheld_age_hours(session, now)
    assert age is not None and age < 59 * 24 + 1
    # just before the next day's run the oldest is still under the limit
    assert oldest_unheld_age_hours(session, now + timedelta(hours=23, minutes=59)) < 60 * 24
