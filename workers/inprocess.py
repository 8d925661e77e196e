"""Without Redis, run the declared schedules on a daemon thread of the web process."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from croniter import croniter
from flask import Flask

from workers.schedules import SCHEDULES, Schedule


def next_runs(now: datetime) -> list[tuple[datetime, Schedule]]:
    """When each schedule fires next after `now` (UTC), soonest first."""
    return sorted(
        ((croniter(s.cron, now).get_next(datetime), s) for s in SCHEDULES), key=lambda pair: pair[0]
    )


def start_scheduler(app: Flask) -> threading.Thread:
    """Start the thread once per process; each due job runs in its own app context."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            due_at, schedule = next_runs(datetime.now(UTC))[0]
            if stop.wait(max(0.0, (due_at - datetime.now(UTC)).total_seconds())):
                return
            with app.app_context():
                try:
                    schedule.func()
                except Exception:  # a failed run is recorded by the job; keep the schedule alive
                    app.logger.exception("scheduled job %s failed", schedule.name)

    thread = threading.Thread(target=loop, name="alpr-scheduler", daemon=True)
    thread.stop_event = stop  # type: ignore[attr-defined]
    thread.start()
    return thread
