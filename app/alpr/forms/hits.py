"""Forms for the steps on a hit alert; Flask-WTF adds the CSRF token to each."""

from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app.alpr.workflow import VERIFICATION_SYSTEMS


class HitConfirmForm(FlaskForm):
    """Verified through MNJIS/NLETS (425.4(f))."""

    verified_via = SelectField(
        "Verified through",
        choices=[SelectChoice(s) for s in VERIFICATION_SYSTEMS],
        validators=[DataRequired()],
    )


class HitNotConfirmedForm(FlaskForm):
    """Verification did not confirm the alert."""

    reason = TextAreaField("Why not confirmed", validators=[DataRequired(), Length(max=2000)])


class HitEnforcementForm(FlaskForm):
    """An enforcement action on a hit confirmed through MNJIS/NLETS: the action is enough."""

    action = TextAreaField(
        "Enforcement action taken", validators=[DataRequired(), Length(max=2000)]
    )


class HitUnverifiedEnforcementForm(HitEnforcementForm):
    """An enforcement action on a hit not confirmed: the service requires the reason (425.4(f))."""

    impracticable_reason = TextAreaField(
        "Why verification was impracticable",
        validators=[Optional(), Length(max=2000)],
        description="Required when the hit is not confirmed through MNJIS/NLETS (policy 425.4(f)).",
    )


class HitCloseForm(FlaskForm):
    """Close a worked hit."""

    note = TextAreaField("Closing note", validators=[DataRequired(), Length(max=2000)])
