"""Account forms; Flask-WTF adds the CSRF token to every one."""

from typing import Any

from wtforms import (
    DateField,
    EmailField,
    PasswordField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, StopValidation
from wtforms.widgets import CheckboxInput, ListWidget

from app.auth.accounts import MIN_PASSWORD_LENGTH
from app.auth.authorisations import AUTHORISED_BY_MAX, DOCUMENT_MAX, WrittenAuthorisation
from app.auth.models import ROLE_LABELS, WRITTEN_GRANT_ROLES
from app.core.forms import AppForm, ConfirmIrreversible, confirmation

ROLE_CHOICES = [SelectChoice(role.value, label) for role, label in ROLE_LABELS.items()]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LoginForm(AppForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


def _required_when_authorising(form: Any, field: Any) -> None:
    """Required when the form's change needs a written authorisation, optional otherwise.

    A date typed that is no date keeps its own message rather than "required".
    """
    if form.needs_authorisation():
        if field.errors and "".join(field.raw_data or ()).strip():
            raise StopValidation()
        DataRequired("Required: the change needs its written authorisation (policy 425.3).")(
            form, field
        )
    else:
        Optional()(form, field)


class WrittenAuthorisationForm(AppForm):
    """A form whose change needs the written authorisation behind it (425.3)."""

    authorised_by = StringField(
        "Authorised by",
        validators=[_required_when_authorising, Length(max=AUTHORISED_BY_MAX)],
        description="The person who signed the written authorisation.",
    )
    authorised_on = DateField("Authorised on", validators=[_required_when_authorising])
    document = StringField(
        "Written authorisation",
        validators=[_required_when_authorising, Length(max=DOCUMENT_MAX)],
        description="The document or its reference, e.g. memo 2026-014.",
    )

    def needs_authorisation(self) -> bool:
        """Whether the change asks for its authorisation; a new account only with roles."""
        return True

    def authorisation(self) -> WrittenAuthorisation:
        """What the person typed, for the service to check."""
        return WrittenAuthorisation(
            self.authorised_by.data or "", self.authorised_on.data, self.document.data or ""
        )


class UserCreateForm(WrittenAuthorisationForm):
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])
    name = StringField("Full name", validators=[DataRequired(), Length(max=200)])
    password = PasswordField(
        "Initial password",
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=1024)],
        description=f"At least {MIN_PASSWORD_LENGTH} characters.",
    )
    roles = MultiCheckboxField("Roles", choices=ROLE_CHOICES, validators=[Optional()])
    agency_name = StringField(
        "Agency (agency users only)", validators=[Optional(), Length(max=200)]
    )

    def needs_authorisation(self) -> bool:
        """Only department roles are granted on a written authorisation."""
        chosen = set(self.roles.data or ())
        return bool(chosen & {role.value for role in WRITTEN_GRANT_ROLES})


class RolesForm(WrittenAuthorisationForm):
    roles = MultiCheckboxField("Roles", choices=ROLE_CHOICES, validators=[Optional()])


class TrainingForm(WrittenAuthorisationForm):
    """Shown with the prefix ``training`` beside the roles form, whose field names it shares."""

    course = StringField(
        "Course", validators=[DataRequired(), Length(max=200)], default="Department ALPR training"
    )
    completed_on = DateField("Completed on", validators=[DataRequired()])
    expires_on = DateField("Expires on", validators=[DataRequired()])
    notes = StringField("Notes", validators=[Optional(), Length(max=500)])


class ActivationForm(AppForm):
    """Reactivation carries only the CSRF token; the action is in the URL."""


class ChangePasswordForm(AppForm):
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


class TemporaryPasswordForm(AppForm):
    password = PasswordField(
        "Temporary password",
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=1024)],
        description=(
            f"At least {MIN_PASSWORD_LENGTH} characters. Give it to the person in person; they "
            "must replace it when they next sign in, and their sessions end now."
        ),
    )


class DeactivateForm(ConfirmIrreversible, AppForm):
    """Deactivation ends the account's sessions at once: the administrator confirms first."""

    confirm_irreversible = confirmation(
        "I understand this signs the person out everywhere at once, and they cannot sign in "
        "until the account is reactivated",
        "Tick the box to confirm the deactivation.",
    )
