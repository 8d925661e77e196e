"""Configuration file for `rq cron workers/cron_config.py` (RQ 2.x reads cron in UTC)."""

from rq import cron

from workers.queue import queue_name
from workers.schedules import SCHEDULES

for schedule in SCHEDULES:
    cron.register(schedule.func, queue_name(schedule.func), cron=schedule.cron, name=schedule.name)
