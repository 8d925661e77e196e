"""Breach incident forms; Flask-WTF adds the CSRF token to each.

The discovery time is typed in the department's local time (HTML ``datetime-local``); the view
converts it to UTC. The step forms check only types and lengths: what a step needs (findings,
a plausible date, a method, a count, a summary) is refused by the machine's guards, at the field.
"""

from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app.breaches.models import (
    DATA_INVOLVED_MAX,
    DESCRIPTION_MAX,
    FINDINGS_MAX,
    SUMMARY_MAX,
    UNAUTHORISED_PERSON_MAX,
    NotificationMethod,
)
from app.core.forms import AppForm, ConfirmIrreversible, LocalDateTimeField


class BreachReportForm(AppForm):
    """Report a discovered breach of the security of data (§ 13.055)."""

    discovered_at = LocalDateTimeField("Discovered at", required=True)
    description = TextAreaField(
        "What happened",
        validators=[DataRequired(), Length(max=DESCRIPTION_MAX)],
        description="How the breach was discovered and what is known so far.",
    )
    data_involved = TextAreaField(
        "Data involved",
        validators=[DataRequired(), Length(max=DATA_INVOLVED_MAX)],
        description="Which records or systems, e.g. ALPR reads of a date range, an export.",
    )
    unauthorised_person = TextAreaField(
        "Unauthorised person (if known)",
        validators=[Optional(), Length(max=UNAUTHORISED_PERSON_MAX)],
    )
    submission_key = HiddenField()


class BreachInvestigateForm(AppForm):
    """Start the investigation (the Deputy Chief or designee)."""


class BreachNotifyForm(AppForm):
    """What the investigation found and the notice given to the individuals concerned."""

    findings = TextAreaField(
        "Investigation findings",
        validators=[Optional(), Length(max=FINDINGS_MAX)],
        description="Whose data was, or is reasonably believed to have been, acquired.",
    )
    notified_on = DateField("Individuals notified on", validators=[Optional()])
    notification_method = SelectField(
        "Notification method",
        choices=[SelectChoice("", "— choose —")]
        + [SelectChoice(m.value, m.label) for m in NotificationMethod],
        validators=[Optional()],
    )
    individuals_notified = IntegerField("Individuals notified", validators=[Optional()])


class BreachCompleteReportForm(ConfirmIrreversible, AppForm):
    """The report on the facts and results of the investigation (§ 13.055)."""

    report_summary = TextAreaField(
        "Report summary",
        validators=[Optional(), Length(max=SUMMARY_MAX)],
        description="The facts and results of the investigation.",
    )
    report_completed_on = DateField("Report completed on", validators=[Optional()])
