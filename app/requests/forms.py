"""Agency request forms; Flask-WTF adds the CSRF token to each.

The forms check types and lengths only: what a request or a step needs (the five items, a
bounded scope, a finding) is refused by the services and the machine's guards, at the field.
Times are typed in the department's local time; the view converts them to UTC.
"""

from flask_wtf.file import FileField
from wtforms import (
    EmailField,
    FloatField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional

from app.core.forms import (
    FILTERED_DEVICES,
    AppForm,
    ConfirmIrreversible,
    LocalDateTimeField,
)
from app.requests.models import (
    BASIS_MAX,
    FINDING_MAX,
    INVESTIGATION_MAX,
    MESSAGE_MAX,
    NAME_MAX,
    PURPOSE_MAX,
    REASON_MAX,
    AgencyKind,
    RequestStatus,
)

LOCAL = "Local time (America/Chicago)."


class AgencyRequestForm(AppForm):
    """425.7(a)'s five items (the agency is the user's own) and the scope of the data."""

    requester_name = StringField(
        "Person requesting", validators=[Length(max=NAME_MAX)], description="425.7(a)(2)."
    )
    purpose = TextAreaField(
        "Intended purpose",
        validators=[Length(max=PURPOSE_MAX)],
        description="What the data will be used for (425.7(a)(3)).",
    )
    factual_basis = TextAreaField(
        "Factual basis",
        validators=[Length(max=BASIS_MAX)],
        description="The facts that make the data pertinent to your investigation (425.7(a)(4)).",
    )
    case_number = StringField("Case, complaint or incident number", validators=[Length(max=200)])
    authorised_by = SelectField("Authorised by", choices=[])
    letter = FileField(
        "Signed letter of authorisation (PDF, PNG or JPEG)",
        description="The head of your agency's or their designee's signed statement that they "
        "authorised this request (425.7(a)(5)).",
    )
    letter_token = HiddenField()
    letter_name = HiddenField()
    window_start = LocalDateTimeField("Data from", description=LOCAL)
    window_end = LocalDateTimeField("Data until", description=LOCAL)
    plates = TextAreaField(
        "Plates",
        description="One per line, exact or partial with * (e.g. ABC*). Spaces and dashes are "
        "ignored.",
    )
    device_ids = SelectMultipleField(
        "Devices", coerce=int, validators=[Optional()], render_kw=FILTERED_DEVICES
    )
    min_lat = FloatField("South edge (latitude)", validators=[Optional()])
    max_lat = FloatField("North edge (latitude)", validators=[Optional()])
    min_lon = FloatField("West edge (longitude)", validators=[Optional()])
    max_lon = FloatField("East edge (longitude)", validators=[Optional()])
    submission_key = HiddenField()


class StepForm(AppForm):
    """A step that needs no input: only the CSRF token."""


class AskForm(AppForm):
    """What the agency must add before the request can be decided."""

    question = TextAreaField("Question to the agency", validators=[Length(max=MESSAGE_MAX)])


class AnswerForm(AppForm):
    """The agency's answer to the department's question."""

    answer = TextAreaField("Your answer", validators=[Length(max=MESSAGE_MAX)])


class ApproveForm(ConfirmIrreversible, AppForm):
    """425.7(b): the written finding and the active criminal investigation it concerns."""

    finding = TextAreaField(
        "Reasonable-suspicion finding",
        validators=[Length(max=FINDING_MAX)],
        description="Why there is reasonable suspicion that the data is pertinent to an active "
        "criminal investigation (425.7(b)(1)).",
    )
    active_investigation = StringField(
        "Active criminal investigation",
        validators=[Length(max=INVESTIGATION_MAX)],
        description="The requesting agency's case the data is pertinent to.",
    )


class ReasonForm(ConfirmIrreversible, AppForm):
    """Deny or refer to records: why (the workflow requires it)."""

    reason = TextAreaField("Reason", validators=[Length(max=REASON_MAX)])


class WithdrawForm(ConfirmIrreversible, AppForm):
    """The agency withdraws its request; a reason is welcome, not required."""

    reason = TextAreaField("Reason (optional)", validators=[Length(max=REASON_MAX)])


class CloseForm(ConfirmIrreversible, AppForm):
    """Nothing more is released on this request."""


class QueueFilterForm(AppForm):
    """The approval queue's filters (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    state = SelectField(
        "State",
        choices=[SelectChoice("", "Open (not decided)"), SelectChoice("all", "All")]
        + [SelectChoice(s.value, s.value.replace("_", " ")) for s in RequestStatus],
        validators=[Optional()],
    )
    agency = SelectField("Agency", coerce=int, choices=[], validators=[Optional()])
    older_than = IntegerField(
        "Waiting at least (days)", validators=[Optional(), NumberRange(min=0, max=3650)]
    )


class AgencyProfileForm(AppForm):
    """What the department records of an agency: its kind, its head and their designee."""

    kind = SelectField(
        "Kind of body",
        choices=[SelectChoice("", "— choose —")]
        + [SelectChoice(k.value, k.label) for k in AgencyKind],
    )
    head_name = StringField("Head of the agency", validators=[Length(max=NAME_MAX)])
    head_title = StringField("Head's title", validators=[Length(max=NAME_MAX)])
    designee_name = StringField("Designee (optional)", validators=[Length(max=NAME_MAX)])
    designee_title = StringField("Designee's title", validators=[Length(max=NAME_MAX)])


class InviteForm(AppForm):
    """Invite a user of this agency."""

    name = StringField("Name", validators=[Length(max=NAME_MAX)])
    email = EmailField("Email", validators=[Length(max=254)])


class AcceptInvitationForm(AppForm):
    """The invited person chooses their password."""

    password = PasswordField("Choose a password", validators=[Length(max=200)])
    password_again = PasswordField("The same password again", validators=[Length(max=200)])
