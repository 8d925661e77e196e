"""Forms of the investigations registry; Flask-WTF adds the CSRF token to each."""

from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.core.forms import AppForm, ConfirmIrreversible
from app.investigations.services import CASE_NUMBER_MAX


class InvestigationOpenForm(AppForm):
    """Register an active criminal investigation."""

    case_number = StringField(
        "Case number", validators=[DataRequired(), Length(max=CASE_NUMBER_MAX)]
    )
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    opened_on = DateField("Opened on", validators=[DataRequired()])
    lead_id = SelectField("Lead investigator", coerce=int, validators=[Optional()])


class InvestigationCloseForm(AppForm):
    """Close an active investigation: its held data then awaits the Deputy Chief's decision."""

    reason = TextAreaField("Reason for closing", validators=[DataRequired(), Length(max=2000)])
    closed_on = DateField("Closed on", validators=[DataRequired()])


class InvestigationReopenForm(AppForm):
    """Reopen a closed investigation (Deputy Chief, designee or administrator)."""

    reason = TextAreaField("Reason for reopening", validators=[DataRequired(), Length(max=2000)])


class CaseDataReleaseForm(ConfirmIrreversible, AppForm):
    """Release a closed case's held data to the 60-day rule: its holds end, for good."""


class CaseDataRetainForm(AppForm):
    """Keep a closed case's held data under a records-retention schedule category."""

    schedule_category = SelectField("Schedule category", validators=[DataRequired()])
    retain_until = DateField(
        "Keep until",
        validators=[Optional()],
        description="Leave empty for the category's whole period from the close; an earlier "
        "date ends the keeping sooner.",
    )
