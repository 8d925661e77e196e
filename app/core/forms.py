"""Form pieces every domain shares: the base form, typed text and local times, confirmations.

Every form of the app derives from :class:`AppForm`, which refuses control characters (NUL
among them: PostgreSQL stores none) in each of its text fields, and numbers no column holds
(past 64 bits, infinite, not a number) in each of its number fields, at the field, before any
other check can take the value to the database or choke on it.

The CSP forbids inline script, and a browser's ``confirm()`` is no record anyway: the form of an
irreversible action carries a required checkbox, so the server refuses the post (422, the message
at the box, what was typed kept) until the person ticks it. Views, tests and the ``next_steps``
macro all see the same field.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    Field,
    FloatField,
    IntegerField,
    StringField,
)
from wtforms.validators import DataRequired, Optional, StopValidation, ValidationError

from app.core.edges import MAX_ROW_ID
from app.core.timeutil import TYPED_YEARS, local_to_utc

#: What an HTML ``datetime-local`` field sends, with or without seconds (or typed with a space).
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


def typed_year(_form: Any, field: Field) -> None:
    """A year the view can turn into UTC (:data:`app.core.timeutil.TYPED_YEARS`)."""
    if field.data is not None:
        try:
            local_to_utc(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


#: ``render_kw`` of a field that asks for devices: static/js/forms.js puts a search box above
#: the list that narrows it as one types (a department may have hundreds of cameras).
FILTERED_DEVICES = {"data-filter": "devices"}

#: Control characters no typed text holds (tab, newline and carriage return are typing).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


#: The message at a text field that holds one.
CONTROL_MESSAGE = "Remove the control characters (such as NUL) from this text."


def typed_text(_form: Any, field: Field) -> None:
    """Text a person typed: no NUL or other control character (PostgreSQL stores no NUL).

    It stops the field's checks there, so no later validator (a lookup) sees the text.
    """
    if isinstance(field.data, str) and CONTROL_CHARACTERS.search(field.data):
        raise StopValidation(CONTROL_MESSAGE)


#: The message at a number field whose number no column holds.
NUMBER_MESSAGE = "Enter an ordinary number (at most 18 digits; not infinity or NaN)."


def typed_number(_form: Any, field: Field) -> None:
    """A number a column can hold: finite, and within 64 bits.

    It stops the field's checks there: WTForms' NumberRange turns the number into a float
    and raised OverflowError (a 500) on an integer of 400 digits.
    """
    value = field.data
    if value is None:
        return
    if isinstance(value, int) and not -MAX_ROW_ID <= value <= MAX_ROW_ID:
        raise StopValidation(NUMBER_MESSAGE)
    finite = value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)
    if not finite:  # Decimal's signalling NaN cannot even become a float
        raise StopValidation(NUMBER_MESSAGE)


def typed_day(_form: Any, field: Field) -> None:
    """A calendar date in the years the app can turn into UTC (the date pickers' bound)."""
    if field.data is not None and field.data.year not in TYPED_YEARS:
        raise ValidationError(f"Enter a year from {TYPED_YEARS[0]} to {TYPED_YEARS[-1]}.")


class AppForm(FlaskForm):
    """The base of every form in the app: each text or number field's first check is the app's.

    Text fields get :func:`typed_text`, number fields :func:`typed_number`. Text fields are
    StringField and its kinds (TextAreaField, PasswordField, HiddenField, ...), however a form
    declares them, so a new form cannot forget the check.
    """

    class Meta:
        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Field:
            """Bind the field; a text or number field gets its first check."""
            field = unbound_field.bind(form=form, **options)
            if isinstance(field, StringField):
                field.validators = [typed_text, *field.validators]
            elif isinstance(field, IntegerField | FloatField | DecimalField):
                field.validators = [typed_number, *field.validators]
            return field


class LocalDateTimeField(DateTimeLocalField):
    """A local date and time with the browser's picker (``datetime-local``), in TYPED_YEARS.

    The value is naive local time: the view turns it into UTC with
    :func:`app.core.timeutil.local_to_utc`. Optional unless ``required``.
    """

    def __init__(self, label: str, *, required: bool = False, **kwargs: Any) -> None:
        first = DataRequired() if required else Optional()
        validators = [first, typed_year, *kwargs.pop("validators", [])]
        super().__init__(label, format=DATETIME_FORMATS, validators=validators, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        """Parse as WTForms does, with a message that shows the expected form."""
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Enter a date and time such as 2026-03-01 08:00.") from None


class DayField(DateField):
    """A calendar date with the browser's picker (``date``), in TYPED_YEARS.

    Optional unless ``required``.
    """

    def __init__(self, label: str, *, required: bool = False, **kwargs: Any) -> None:
        first = DataRequired() if required else Optional()
        validators = [first, typed_day, *kwargs.pop("validators", [])]
        super().__init__(label, validators=validators, **kwargs)


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
