"""Department-approved training (425.4(d)): what lets an account reach ALPR data."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.actions import AuditAction
from app.audit.services import record
from app.auth.authorisations import (
    WrittenAuthorisation,
    audit_details,
    check_may_record_training,
    checked_authorisation,
    record_authorisation,
)
from app.auth.errors import AccountError
from app.auth.models import (
    TrainingRecord,
    User,
)
from app.core.dates import future_problem

#: The longest a training record may stay valid after its completion. Policy 425.4(d) sets no
#: renewal period, so this bounds typing slips (9999-12-31, 2206 for 2026) that would let an
#: account reach ALPR data for life on one course; no realistic certification cycle is longer.
MAX_TRAINING_VALIDITY_YEARS = 5


def _years_after(day: date, years: int) -> date:
    """The same calendar day `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def record_training(
    session: Session,
    actor: User | str | None,
    user: User,
    *,
    course: str,
    completed_on: date,
    expires_on: date,
    notes: str | None = None,
    authorisation: WrittenAuthorisation | None = None,
) -> TrainingRecord:
    """Record department-approved training (425.4(d)); the window must make sense.

    Only the Deputy Chief or designee records it, never their own, on a written
    `authorisation` (425.3). Training is a fact, so it is not completed after today (the
    department's calendar day); it may stay valid for at most
    :data:`MAX_TRAINING_VALIDITY_YEARS` after it.
    """
    check_may_record_training(actor, user)
    course = course.strip()
    if not course:
        raise AccountError("Name the training course.", field="course")
    if problem := future_problem(completed_on, "The completion date"):
        raise AccountError(problem, field="completed_on")
    if expires_on < completed_on:
        raise AccountError(
            "Expires on: training cannot expire before it was completed.", field="expires_on"
        )
    latest = _years_after(completed_on, MAX_TRAINING_VALIDITY_YEARS)
    if expires_on > latest:
        raise AccountError(
            f"Expires on: training is valid for at most {MAX_TRAINING_VALIDITY_YEARS} years "
            f"after it was completed (so by {latest.isoformat()}).",
            field="expires_on",
        )
    written = checked_authorisation(authorisation)
    training = TrainingRecord(
        user=user,
        course=course,
        completed_on=completed_on,
        expires_on=expires_on,
        notes=notes,
        recorded_by_id=actor.id if isinstance(actor, User) else None,
    )
    session.add(training)
    session.flush()
    row = record_authorisation(session, actor, user, written, training=training)
    record(
        session,
        actor,
        AuditAction.TRAINING_RECORDED,
        user,
        {
            "training_id": training.id,
            "course": course,
            "completed_on": completed_on.isoformat(),
            "expires_on": expires_on.isoformat(),
            "authorisation": audit_details(row),
        },
    )
    return training


def training_lapsing(session: Session, today: date, within_days: int) -> list[tuple[User, date]]:
    """Active accounts whose training in force ends within `within_days`, soonest first.

    An account with a later record that takes over (already completed, or booked to start
    before the current one ends) is not lapsing; one whose training has already ended is the
    administrators' business on the accounts page, not a warning that it is about to.
    """
    horizon = today + timedelta(days=within_days)
    covered = func.max(TrainingRecord.expires_on)
    rows = session.execute(
        select(User, covered)
        .join(TrainingRecord, TrainingRecord.user_id == User.id)
        .where(
            User.is_active_account.is_(True),
            TrainingRecord.expires_on >= today,
            TrainingRecord.completed_on <= horizon,
        )
        .group_by(User.id)
        .having(covered < horizon)
        .order_by(covered, User.id)
    ).all()
    return [(user, until) for user, until in rows]
