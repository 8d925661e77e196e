"""Forms for the steps on a hit alert; Flask-WTF adds the CSRF token to each.

The query time is typed in the department's local time (HTML ``datetime-local``); the view
converts it to UTC, and the machine checks it against the read and the clock.
"""

from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from app.alpr.workflow import REFERENCE_MAX, VERIFICATION_SYSTEMS
from app.core.forms import AppForm, LocalDateTimeField


class HitVerifiedForm(AppForm):
    """An MNJIS/NLETS query showed the alert valid (425.4(f)): which system, its reference, when."""

    verified_via = SelectField(
        "Verified through",
        choices=[SelectChoice(s) for s in VERIFICATION_SYSTEMS],
        validators=[DataRequired()],
    )
    verification_reference = StringField(
        "Query reference",
        validators=[DataRequired(), Length(max=REFERENCE_MAX)],
        description="The MNJIS/NLETS message or transaction number of the answer.",
    )
    verified_at = LocalDateTimeField("Query time", required=True)


class HitNotValidForm(HitVerifiedForm):
    """An MNJIS/NLETS query showed the alert not valid: enforcement on it is refused."""

    reason = TextAreaField("What the query showed", validators=[DataRequired(), Length(max=2000)])


class HitImpracticableForm(AppForm):
    """MNJIS/NLETS cannot be asked: the reason lets enforcement be recorded (425.4(f))."""

    impracticable_reason = TextAreaField(
        "Why verification is not practicable",
        validators=[DataRequired(), Length(max=2000)],
    )


class HitEnforcementForm(AppForm):
    """An enforcement action on a hit verified valid, or whose verification was not practicable."""

    action = TextAreaField(
        "Enforcement action taken", validators=[DataRequired(), Length(max=2000)]
    )


class HitCloseForm(AppForm):
    """Close a worked hit."""

    note = TextAreaField("Closing note", validators=[DataRequired(), Length(max=2000)])
