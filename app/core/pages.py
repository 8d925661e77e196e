"""What every page shares: who is acting, one loader that 404s, and a workflow's next steps.

Views stay thin: they parse, authorise, call a service and render. These helpers are the parts
each view would otherwise write again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import abort, current_app, request, send_file
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import BigInteger, inspect

from app.core.edges import MAX_ROW_ID
from app.core.forms import CONFIRM_FIELD, confirmation_field
from app.core.storage import content_path
from app.db import db_session

T = TypeVar("T")


def acting_user() -> Any:
    """The signed-in user as a plain object, the actor services and audit entries take."""
    return current_user._get_current_object()


def requested_page() -> int:
    """The list page the query's ``page`` asks for, as every paged staff list reads it.

    The first when it is not a number, never past 64 bits; the list's service clamps it to its
    pages.
    """
    return min(request.args.get("page", 1, type=int), MAX_ROW_ID)


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
class StepLook:
    """How a page words and lays out one step, where the machine's label is not enough.

    `button` replaces the step's label on its button, `hint` is a line shown above its form, and
    `fields` names the form's inputs to show, in order (default: all of them, in form order).
    """

    button: str | None = None
    hint: str | None = None
    fields: Sequence[str] | None = None


@dataclass(frozen=True)
class StepView:
    """One next step as a page shows it: its button, its form and where the form posts.

    `target` is the htmx swap target of a step posted from a fragment (None: a plain form), and
    `swap` how the answer replaces it.
    An irreversible step's form carries the confirmation checkbox of
    :class:`app.core.forms.ConfirmIrreversible`, which the macro shows last.
    """

    event: str
    label: str
    form: FlaskForm
    action: str
    irreversible: bool
    button: str = ""
    hint: str | None = None
    fields: Sequence[str] | None = None
    target: str | None = None
    swap: str = "innerHTML"

    @property
    def inputs(self) -> list[Any]:
        """The bound fields the person fills in, in order (no hidden field, no confirmation)."""
        if self.fields is not None:
            return [self.form[name] for name in self.fields]
        return [
            f
            for f in self.form
            if getattr(f.widget, "input_type", None) != "hidden" and f.short_name != CONFIRM_FIELD
        ]

    @property
    def confirmation(self) -> Any:
        """The bound "cannot be undone" checkbox, or None for a step that can be undone."""
        return confirmation_field(self.form)


def next_step_views(
    machine: Any,
    actor: Any,
    forms: Mapping[str, FlaskForm],
    action: Callable[[str], str],
    *,
    looks: Mapping[str, StepLook] | None = None,
    target: str | None = None,
    swap: str = "innerHTML",
) -> list[StepView]:
    """The steps `machine` allows from its state that `actor` may take, each with its form.

    `forms` maps an event to its (possibly re-shown, with errors) form; an event left out is not
    offered. `action` gives the url the event's form posts to, `looks` the page's own wording
    per event, `target` and `swap` the htmx swap of every form (for a fragment such as the hit
    panel). Rendered by the ``next_steps`` macro of macros/steps.html.

    Raises ValueError when an irreversible event's form lacks the confirmation checkbox: such
    a step must never be one click away.
    """
    looks = looks or {}
    views: list[StepView] = []
    for event in machine.next_steps(actor):
        if event not in forms:
            continue
        form = forms[event]
        irreversible = event in machine.IRREVERSIBLE
        if irreversible and confirmation_field(form) is None:
            raise ValueError(f"the form of irreversible step {event!r} asks no confirmation")
        look = looks.get(event, StepLook())
        label = machine.step_label(event)
        views.append(
            StepView(
                event=event,
                label=label,
                form=form,
                action=action(event),
                irreversible=irreversible,
                button=look.button or label,
                hint=look.hint,
                fields=look.fields,
                target=target,
                swap=swap,
            )
        )
    return views


def send_stored_document(sha256: str, *, mimetype: str, download_name: str) -> Any:
    """A kept document (a scanned request, a letter) from the document store, as stored.

    A row whose file has gone from the store (a restore, a disk fault) is a 404 and an error
    in the log, never a 500 with a path in it.
    """
    path = content_path(current_app.config["DOCUMENT_STORE"], sha256)
    if not path.is_file():
        current_app.logger.error("document %s missing from the store", sha256)
        abort(404)
    return send_file(path, mimetype=mimetype, download_name=download_name)
