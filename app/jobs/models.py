"""The row that tracks a background job, committed before the job is enqueued."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class JobStatus(StrEnum):
    """Where a job run is."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


JOB_STATUS_VALUES = ", ".join(f"'{s.value}'" for s in JobStatus)


class JobRun(Base):
    """One run of a job: what it was asked to do, how far it got, what it found."""

    __tablename__ = "job_runs"
    __table_args__ = (CheckConstraint(f"status IN ({JOB_STATUS_VALUES})", name="known_status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED.value)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    arguments_json: Mapped[str] = mapped_column(Text, default="{}")
    progress: Mapped[int] = mapped_column(default=0)
    #: Items done out of `total` (None until the job knows it), for the page's progress bar.
    done: Mapped[int] = mapped_column(default=0, server_default="0")
    total: Mapped[int | None]
    result_json: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    #: How many times the recovery sweep has put this run back on the queue.
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    @property
    def is_done(self) -> bool:
        """Finished with a result (the page shows it)."""
        return self.status == JobStatus.DONE.value

    @property
    def has_failed(self) -> bool:
        """Ended with an error (the page says so and offers a new start)."""
        return self.status == JobStatus.FAILED.value

    @property
    def is_waiting(self) -> bool:
        """Queued and not yet taken by a worker."""
        return self.status == JobStatus.QUEUED.value

    @property
    def result(self) -> dict[str, Any]:
        """The finished run's result (empty before), for the page that shows it."""
        return json.loads(self.result_json) if self.result_json else {}
