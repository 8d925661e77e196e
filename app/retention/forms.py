"""Forms of the retention pages; Flask-WTF adds the CSRF token to each."""

from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.core.forms import (
    FILTERED_DEVICES,
    AppForm,
    ConfirmIrreversible,
    DayField,
    LocalDateTimeField,
)
from app.retention.models import PAPER_ORIGINAL_MAX

PLATES_HINT = "One plate per line; spaces and dashes are ignored."
WINDOW_HINT = "Local time (America/Chicago)."
SCAN_LABEL = "Scanned request (PDF, PNG or JPEG)"
PAPER_LABEL = "Paper original on file"
PAPER_HINT = (
    "Without a scan: the records file number and where the signed original is kept, "
    "e.g. RF-2026-0142, records room cabinet 3."
)


def paper_original_field() -> StringField:
    """The reference of the written request's paper original (the scan's alternative)."""
    return StringField(
        PAPER_LABEL, validators=[Length(max=PAPER_ORIGINAL_MAX)], description=PAPER_HINT
    )


class AcpRequestForm(AppForm):
    """A participant's written request (425.5(b)); plates are kept only as HMACs."""

    participant_number = StringField(
        "ACP participant number", validators=[DataRequired(), Length(max=64)]
    )
    plates = TextAreaField("Plates", description=PLATES_HINT)
    received_on = DayField("Request received on", required=True)
    document = FileField(SCAN_LABEL)
    paper_original = paper_original_field()


class ExculpatoryRequestForm(AppForm):
    """A subject's written request to keep exculpatory data (425.5(a))."""

    requester_name = StringField("Requester", validators=[DataRequired(), Length(max=200)])
    case_file_number = StringField(
        "Case or court file number", validators=[DataRequired(), Length(max=64)]
    )
    received_on = DayField("Request received on", required=True)
    window_start = LocalDateTimeField("Data from", description=WINDOW_HINT)
    window_end = LocalDateTimeField("Data until", description=WINDOW_HINT)
    plates = TextAreaField("Plates", description=PLATES_HINT)
    device_ids = SelectMultipleField(
        "Devices", coerce=int, validators=[Optional()], render_kw=FILTERED_DEVICES
    )
    document = FileField(SCAN_LABEL)
    paper_original = paper_original_field()


class HoldForm(AppForm):
    """An investigation hold: a bounded window narrowed by plates and/or devices."""

    investigation_id = SelectField("Active investigation", coerce=int)
    window_start = LocalDateTimeField("Data from", description=WINDOW_HINT)
    window_end = LocalDateTimeField("Data until", description=WINDOW_HINT)
    plates = TextAreaField("Plates", description=PLATES_HINT)
    device_ids = SelectMultipleField(
        "Devices", coerce=int, validators=[Optional()], render_kw=FILTERED_DEVICES
    )
    description = TextAreaField("Why the data is needed", validators=[Length(max=2000)])


class RequestStepForm(AppForm):
    """A step that needs no input (verify, activate): only the CSRF token."""


class AcpDestroyExistingForm(ConfirmIrreversible, AppForm):
    """Destroy the participant's data already collected: it cannot be undone."""


class ReleaseHoldForm(ConfirmIrreversible, AppForm):
    """Release an investigation hold early (its data falls back under the 60-day rule)."""

    reason = TextAreaField("Reason", validators=[DataRequired(), Length(max=2000)])


class ExculpatoryReleaseForm(ConfirmIrreversible, AppForm):
    """The criminal matter is resolved: disposition and date."""

    disposition = TextAreaField("Disposition", validators=[Length(max=2000)])
    resolved_on = DayField("Resolved on")


class ExculpatoryDeclineForm(ConfirmIrreversible, AppForm):
    """The request does not qualify under 425.5(a): why (the workflow requires it)."""

    reason = TextAreaField(
        "Reason for declining",
        validators=[Length(max=2000)],
        description="Why the request does not qualify, e.g. the requester is not the subject "
        "of a criminal investigation.",
    )


class AcpDeclineForm(ConfirmIrreversible, AppForm):
    """The request could not be verified, or the participant withdrew it: why."""

    reason = TextAreaField(
        "Reason for declining",
        validators=[Length(max=2000)],
        description="E.g. the participant is not enrolled in the program, or withdrew the "
        "request. Suppression of the plates ends.",
    )


class AcpEndForm(AppForm):
    """The participant left the program."""

    ended_on = DayField("Left the program on")
