"""The schedules, declared once.

`rq cron` reads them through workers/cron_config.py, the in-process scheduler directly.
Cron expressions are in UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.retention.policy import PURGE_CRON
from workers import bca, recovery, releases, retention, tasks


@dataclass(frozen=True)
class Schedule:
    """A job function and when it runs (cron, UTC)."""

    name: str
    func: Callable[..., Any]
    cron: str


#: The purge's time is the retention rule's (app.retention.policy.PURGE_CRON); the recovery
#: sweep runs often, so a job stuck by a Redis outage or a killed worker waits minutes, not days.
SCHEDULES: tuple[Schedule, ...] = (
    Schedule("verify_audit_chain", tasks.verify_audit_chain, "30 2 * * *"),
    Schedule("purge_expired_reads", retention.purge_expired_reads, PURGE_CRON),
    Schedule("sign_audit_checkpoint", tasks.sign_audit_checkpoint, "45 2 * * *"),
    Schedule("sequence_audit_entries", tasks.sequence_audit_entries, "* * * * *"),
    Schedule(recovery.SWEEP_NAME, recovery.recover_stale_jobs, "*/5 * * * *"),
    # 11:05 UTC is 05:05 or 06:05 in Minnesota: before the office opens, on the local day a
    # notice falls overdue (its due date is a department calendar date).
    Schedule("flag_overdue_bca_notices", bca.flag_overdue_bca_notices, "5 11 * * *"),
    Schedule("check_compliance_counters", tasks.check_compliance_counters, "20 * * * *"),
    Schedule("expire_release_packages", releases.expire_release_packages, "25 * * * *"),
    Schedule("send_outbox_mail", releases.send_outbox_mail, "*/5 * * * *"),
)
