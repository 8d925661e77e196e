"""The schedules, declared once.

`rq cron` reads them through workers/cron_config.py, the in-process scheduler directly.
Cron expressions are in UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from workers import releases, retention, tasks


@dataclass(frozen=True)
class Schedule:
    """A job function and when it runs (cron, UTC)."""

    name: str
    func: Callable[..., Any]
    cron: str


#: The purge runs just after 00:00 UTC, when a whole collection day becomes destroyable, a day
#: before its oldest read would turn 60 days old (app.retention.policy.retention_cutoff): the
#: oldest unheld read stays under 60 × 24 hours even if one run is late by most of a day.
SCHEDULES: tuple[Schedule, ...] = (
    Schedule("verify_audit_chain", tasks.verify_audit_chain, "30 2 * * *"),
    Schedule("purge_expired_reads", retention.purge_expired_reads, "5 0 * * *"),
    Schedule("expire_release_packages", releases.expire_release_packages, "20 * * * *"),
    Schedule("send_outbox_mail", releases.send_outbox_mail, "*/5 * * * *"),
)
