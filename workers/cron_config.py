"""Configuration file for `rq cron workers/cron_config.py` (RQ 2.x reads cron in UTC).

Each schedule runs with its job's own time limit (workers.queue.job_timeout), the one the
recovery sweep's deadline assumes, not RQ's default of three minutes.
"""

from rq import cron

from workers.queue import job_timeout, queue_name
from workers.schedules import SCHEDULES

for schedule in SCHEDULES:
    cron.register(
        schedule.func,
        queue_name(schedule.func),
        cron=schedule.cron,
        name=schedule.name,
        job_timeout=job_timeout(schedule.func),
    )
