"""Form pieces every domain shares: typed local times, and the confirmation of irreversible steps.

The CSP forbids inline script, and a browser's ``confirm()`` is no record anyway: the form of an
irreversible action carries a required checkbox, so the server refuses the post (422, the message
at the box, what was typed kept) until the person ticks it. Views, tests and the ``next_steps``
macro all see the same field.
"""

from __future__ import annotations

import re
from typing import Any

from wtforms import BooleanField, Field
from wtforms.validators import DataRequired, ValidationError

from app.core.timeutil import TYPED_YEARS, local_to_utc

#: What an HTML ``datetime-local`` field sends, with or without seconds.
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


def typed_year(_form: Any, field: Field) -> None:
    """A year the view can turn into UTC (:data:`app.core.timeutil.TYPED_YEARS`)."""
    if field.data is not None:
        try:
            local_to_utc(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


#: Control characters no typed text holds (tab, newline and carriage return are typing).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def typed_text(_form: Any, field: Field) -> None:
    """Text a person typed: no NUL or other control character (PostgreSQL stores no NUL)."""
    if field.data and CONTROL_CHARACTERS.search(field.data):
        raise ValidationError("Remove the control characters (such as NUL) from this text.")


def typed_day(_form: Any, field: Field) -> None:
    """A calendar date in the years the app can turn into UTC (the date pickers' bound)."""
    if field.data is not None and field.data.year not in TYPED_YEARS:
        raise ValidationError(f"Enter a year from {TYPED_YEARS[0]} to {TYPED_YEARS[-1]}.")


#: The name of the confirmation field on every form that mixes in :class:`ConfirmIrreversible`.
CONFIRM_FIELD = "confirm_irreversible"

#: Its words, and its message when it was not ticked.
CONFIRM_LABEL = "I understand this cannot be undone"
CONFIRM_MESSAGE = "Tick the box to confirm: this cannot be undone."


def confirmation(label: str = CONFIRM_LABEL, message: str = CONFIRM_MESSAGE) -> Any:
    """A required "I understand" checkbox, worded by `label` and `message`.

    Reword it where the default would mislead: a deactivated account can be reactivated.
    """
    return BooleanField(label, validators=[DataRequired(message=message)])


class ConfirmIrreversible:
    """Mix into the FlaskForm of an action that cannot be undone (before ``FlaskForm``).

    Adds :data:`CONFIRM_FIELD`, a checkbox that must be ticked for the form to validate. A form
    may reword it by declaring ``confirm_irreversible = confirmation("...")`` itself.
    """

    confirm_irreversible = confirmation()


def confirmation_field(form: Any) -> Any:
    """The bound confirmation field of `form`, or None when its action can be undone."""
    return form._fields.get(CONFIRM_FIELD)


def confirmation_named(form: Any, ident: str) -> Any:
    """Give `form`'s confirmation checkbox the element id `ident`; returns `form`.

    For a page with several irreversible forms (a device's rotate, revoke and end deployment):
    each box keeps its own label, and the posted name stays :data:`CONFIRM_FIELD`.
    """
    field = confirmation_field(form)
    field.id = ident
    field.label.field_id = ident
    return form
