"""What every page shares: who is acting, one loader that 404s, and a workflow's next steps.

Views stay thin: they parse, authorise, call a service and render. These helpers are the parts
each view would otherwise write again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import BigInteger, inspect

from app.core.edges import MAX_ROW_ID
from app.db import db_session

T = TypeVar("T")


def acting_user() -> Any:
    """The signed-in user as a plain object, the actor services and audit entries take."""
    return current_user._get_current_object()


def _largest_id(model: type) -> int:
    """The largest id `model`'s key column can hold: 32-bit INTEGER keys stop at 2^31 - 1."""
    column = inspect(model).primary_key[0]
    return MAX_ROW_ID if isinstance(column.type, BigInteger) else 2**31 - 1


def load_or_404(model: type[T], ident: int) -> T:
    """The `model` row with id `ident`, or a 404 page (also for ids no row can have)."""
    if not 0 < ident <= _largest_id(model):
        abort(404)
    row = db_session().get(model, ident)
    if row is None:
        abort(404)
    return row


@dataclass(frozen=True)
class StepView:
    """One next step as a page shows it: its button, its form and where the form posts."""

    event: str
    label: str
    form: FlaskForm
    action: str
    irreversible: bool


def next_step_views(
    machine: Any,
    actor: Any,
    forms: Mapping[str, FlaskForm],
    action: Callable[[str], str],
) -> list[StepView]:
    """The steps `machine` allows from its state that `actor` may take, each with its form.

    `forms` maps an event to its (possibly re-shown, with errors) form; `action` gives the
    url the event's form posts to. Rendered by the ``next_steps`` macro of macros/steps.html.
    """
    return [
        StepView(
            event=event,
            label=machine.step_label(event),
            form=forms[event],
            action=action(event),
            irreversible=event in machine.IRREVERSIBLE,
        )
        for event in machine.next_steps(actor)
        if event in forms
    ]
