"""Plausibility of the calendar dates staff type for facts: receipts, closures, installations.

A received, opened, resolved or ended date decides how long data is kept, an installation or
a deployment's start opens a BCA notice and a public listing, a training date who may reach
ALPR data; so a typing slip (1900, 9999) must be refused, not saved. Dates are the
department's calendar dates (:func:`app.core.timeutil.local_today`). Each check returns the
message, or None when the date is plausible; the caller raises its own error naming the field.
"""

from __future__ import annotations

from datetime import date

from app.core.timeutil import local_today


def future_problem(day: date, what: str) -> str | None:
    """Why `day` cannot be `what` (e.g. "The received date"): it has not happened yet."""
    today = local_today()
    if day > today:
        return f"{what} ({day.isoformat()}) is in the future; today is {today.isoformat()}."
    return None


def after_receipt_problem(day: date, what: str, received_on: date) -> str | None:
    """Why `day` cannot close a request received on `received_on`: before it, or future."""
    if day < received_on:
        return (
            f"{what} ({day.isoformat()}) is before the request was received "
            f"({received_on.isoformat()})."
        )
    return future_problem(day, what)
