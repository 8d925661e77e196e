"""Forms of the OCR review queue; Flask-WTF adds the CSRF token to each."""

from __future__ import annotations

from wtforms import Field, StringField
from wtforms.validators import DataRequired, ValidationError

from app.core.forms import AppForm
from app.reads.plates import FieldError, normalise_plate


def _ingest_plate(form: AppForm, field: Field) -> None:
    """A corrected plate obeys the same rules as a plate a camera sends."""
    try:
        field.data = normalise_plate(field.data or "")
    except FieldError as exc:
        raise ValidationError(f"The plate {exc.message}.") from exc


class ConfirmPlateForm(AppForm):
    """Confirm OCR's plate as read: only the CSRF token; the read is in the URL."""


class CorrectPlateForm(AppForm):
    """Replace OCR's plate with what the picture shows."""

    plate = StringField(
        "Correct plate",
        validators=[DataRequired(), _ingest_plate],
        description="What the picture shows: letters and digits.",
    )
