"""What the shell commands share: one unit of work whose refusals read as a clean CLI error."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session

from app.db import unit_of_work


@contextmanager
def command_unit_of_work(*refusals: type[Exception]) -> Iterator[Session]:
    """A unit of work in which a service's refusal rolls back and exits 1 with its message.

    The operator gets the rule that refused, not a traceback; anything else still propagates.
    """
    try:
        with unit_of_work() as session:
            yield session
    except refusals as exc:
        raise click.ClickException(str(exc)) from exc
