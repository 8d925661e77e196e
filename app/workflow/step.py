"""The one way a workflow step is taken: lock, fire the machine, apply, flush, audit.

Every case type (hit, plate review, investigation, exculpatory request, ACP request, hold)
changes state only through :func:`take_step`, so each transition is serialised on its row,
checked by its machine's guards (who may take it, what it needs), and recorded with actor,
time, from-state, to-state and reason in the caller's transaction. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect, select, tuple_
from sqlalchemy.orm import Session

from app.audit.actions import AuditAction
from app.audit.services import record
from app.workflow.machine import machine_for


def lock_subject(session: Session, subject: Any) -> None:
    """Reload `subject` under a row lock, so that two steps taken at once are taken in turn.

    Each step's guards read the state: without the lock both of two concurrent steps could pass
    them. On PostgreSQL this is ``SELECT ... FOR UPDATE``; SQLite's transactions here begin
    IMMEDIATE, holding the database's write lock, so the reload alone sees the winner's state.
    """
    mapper = inspect(type(subject))
    keys = mapper.primary_key
    identity = mapper.primary_key_from_instance(subject)
    where = keys[0] == identity[0] if len(keys) == 1 else tuple_(*keys) == tuple_(*identity)
    session.execute(select(*keys).where(where).with_for_update())
    session.refresh(subject)


@dataclass
class Step:
    """A transition the machine has taken on a locked subject, waiting for its audit entry."""

    session: Session
    actor: Any
    subject: Any
    event: str
    before: str
    state_field: str

    def record(
        self,
        audit_action: AuditAction,
        *,
        changes: Mapping[str, Any] | None = None,
        details: Mapping[str, Any] | None = None,
        audited_as: Any = None,
    ) -> Any:
        """Apply `changes`, flush, and append the step's one audit entry; returns the subject.

        `audited_as` names the entry's subject when the row itself is gone (an ACP plate's read
        destroyed at the step), so the entry names nothing the law says must not stay.
        """
        for name, value in (changes or {}).items():
            setattr(self.subject, name, value)
        self.session.flush()
        after = getattr(self.subject, self.state_field)
        entry = {"from": self.before, "to": after, **(details or {})}
        subject = self.subject if audited_as is None else audited_as
        record(self.session, self.actor, audit_action, subject, entry)
        return self.subject


def start_step(session: Session, actor: Any, subject: Any, event: str, **inputs: Any) -> Step:
    """Lock `subject` and fire `event` for `actor`, or raise WorkflowError (message and field).

    Between this and :meth:`Step.record` a service may act on what the step decided (screen a
    plate for ACP before the entry names it); everything stays in the caller's transaction.
    """
    lock_subject(session, subject)
    machine = machine_for(subject)
    before = getattr(subject, machine.STATE_FIELD)
    machine.fire(event, actor=actor, **inputs)
    return Step(session, actor, subject, event, before, machine.STATE_FIELD)


def take_step(
    session: Session,
    actor: Any,
    subject: Any,
    event: str,
    *,
    audit_action: AuditAction,
    changes: Mapping[str, Any] | None = None,
    details: Mapping[str, Any] | None = None,
    **inputs: Any,
) -> Any:
    """Take `event` on `subject` for `actor`, or raise WorkflowError (message and field).

    `inputs` go to the machine's guards (``actor`` is always among them); `changes` are set on
    the row once the machine agrees; `details` join the audit entry beside ``from`` and ``to``.
    Returns the subject, flushed, with its audit entry appended in the same transaction.
    """
    step = start_step(session, actor, subject, event, **inputs)
    return step.record(audit_action, changes=changes, details=details)
