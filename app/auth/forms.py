"""Account forms; Flask-WTF adds the CSRF token to every one."""

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    PasswordField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.auth.accounts import MIN_PASSWORD_LENGTH
from app.auth.models import ROLE_LABELS
from app.core.forms import ConfirmIrreversible, confirmation

ROLE_CHOICES = [SelectChoice(role.value, label) for role, label in ROLE_LABELS.items()]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


class UserCreateForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])
    name = StringField("Full name", validators=[DataRequired(), Length(max=200)])
    password = PasswordField(
        "Initial password",
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=1024)],
        description=f"At least {MIN_PASSWORD_LENGTH} characters.",
    )
    roles = MultiCheckboxField("Roles", choices=ROLE_CHOICES, validators=[DataRequired()])
    agency_name = StringField(
        "Agency (agency users only)", validators=[Optional(), Length(max=200)]
    )


class RolesForm(FlaskForm):
    roles = MultiCheckboxField("Roles", choices=ROLE_CHOICES, validators=[DataRequired()])


class TrainingForm(FlaskForm):
    course = StringField(
        "Course", validators=[DataRequired(), Length(max=200)], default="Department ALPR training"
    )
    completed_on = DateField("Completed on", validators=[DataRequired()])
    expires_on = DateField("Expires on", validators=[DataRequired()])
    notes = StringField("Notes", validators=[Optional(), Length(max=500)])


class ActivationForm(FlaskForm):
    """Reactivation carries only the CSRF token; the action is in the URL."""


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired(), Length(max=1024)]
    )
    new_password = PasswordField(
        "New password",
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=1024)],
        description=f"At least {MIN_PASSWORD_LENGTH} characters; signs you out everywhere else.",
    )
    confirm_password = PasswordField(
        "New password again",
        validators=[
            DataRequired(),
            EqualTo("new_password", message="The two new passwords differ."),
        ],
    )


class TemporaryPasswordForm(FlaskForm):
    password = PasswordField(
        "Temporary password",
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=1024)],
        description=(
            f"At least {MIN_PASSWORD_LENGTH} characters. Give it to the person in person; they "
            "must replace it when they next sign in, and their sessions end now."
        ),
    )


class DeactivateForm(ConfirmIrreversible, FlaskForm):
    """Deactivation ends the account's sessions at once: the administrator confirms first."""

    confirm_irreversible = confirmation(
        "I understand this signs the person out everywhere at once, and they cannot sign in "
        "until the account is reactivated",
        "Tick the box to confirm the deactivation.",
    )
