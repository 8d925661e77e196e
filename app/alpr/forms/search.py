"""Search and plate-history forms; Flask-WTF adds the CSRF token to each.

Times are typed in the department's local time (HTML ``datetime-local``); the view converts them
to UTC. The services re-check everything, so these validators only give early, field-level help.
"""

from wtforms import FloatField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.alpr.search import PURPOSE_MIN
from app.core.forms import FILTERED_DEVICES, AppForm, LocalDateTimeField
from app.reads.models import PurposeCategory

PURPOSE_CHOICES = [
    SelectChoice("", "— choose the official use —"),
    *(SelectChoice(category.value, category.label) for category in PurposeCategory),
]


class StatedPurposeForm(AppForm):
    """What every query of ALPR data states (425.6(b)): official use, purpose, case number."""

    purpose_category = SelectField(
        "Official use (policy 425.3)",
        choices=PURPOSE_CHOICES,
        validators=[DataRequired(message="Choose the official use this search serves.")],
    )
    purpose = TextAreaField(
        "Purpose",
        validators=[
            DataRequired(),
            Length(
                min=PURPOSE_MIN,
                max=2000,
                message=f"State the purpose in at least {PURPOSE_MIN} characters (425.6(b)).",
            ),
        ],
        description="What this search is for, in your words (policy 425.6(b)).",
    )
    case_number = StringField(
        "Case or incident number", validators=[DataRequired(), Length(max=64)]
    )


class PurposeForm(StatedPurposeForm):
    """A query's stated purpose, its time window and its tracking authority (425.4.1(c))."""

    start = LocalDateTimeField("From", required=True)
    end = LocalDateTimeField("To", required=True)
    warrant_number = StringField("Search warrant number", validators=[Optional(), Length(max=64)])
    exigent_statement = TextAreaField(
        "Exigent circumstances", validators=[Optional(), Length(max=2000)]
    )


class SearchForm(PurposeForm):
    """Search reads by plate (exact or partial), device, deployment or area."""

    plate = StringField(
        "Plate",
        validators=[Optional(), Length(max=20)],
        description="Exact plate, or partial with * (e.g. ABC* or *12*).",
    )
    device_id = SelectField(
        "Device", coerce=int, validators=[Optional()], render_kw=FILTERED_DEVICES
    )
    deployment_id = SelectField("Near deployment", coerce=int, validators=[Optional()])
    min_lat = FloatField("South", validators=[Optional(), NumberRange(-90, 90)])
    max_lat = FloatField("North", validators=[Optional(), NumberRange(-90, 90)])
    min_lon = FloatField("West", validators=[Optional(), NumberRange(-180, 180)])
    max_lon = FloatField("East", validators=[Optional(), NumberRange(-180, 180)])


class ReadLookupForm(StatedPurposeForm):
    """Opening one read without a context that documents why: the purpose comes first."""


class PlateHistoryForm(PurposeForm):
    """A plate's history is always tracking: the warrant or exigency fields are required."""
