"""The trail browser's filter: every choice from a list, dates on the department's calendar.

A GET form (bookmarkable, nothing changes), so it carries no CSRF token; the lists are filled by
the view from the trail and the accounts, so a value nobody offered is refused at its field.
"""

from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, Regexp, ValidationError

from app.audit.actions import AuditAction
from app.core.forms import AppForm, typed_day

ANY = SelectChoice("", "Any")


def _action_label(action: AuditAction) -> str:
    domain, _, verb = action.value.partition(".")
    return f"{domain.replace('_', ' ')}: {verb.replace('_', ' ')}"


ACTION_CHOICES = [
    ANY,
    *sorted(
        (SelectChoice(action.value, _action_label(action)) for action in AuditAction),
        key=lambda choice: choice.label,
    ),
]


class TrailFilterForm(AppForm):
    class Meta:
        csrf = False

    action = SelectField("Action", choices=ACTION_CHOICES, validators=[Optional()])
    person = SelectField("Person", validators=[Optional()])
    start = DateField("From (date)", validators=[Optional(), typed_day])
    end = DateField("To (date, inclusive)", validators=[Optional(), typed_day])
    subject_type = SelectField("Subject", validators=[Optional()])
    subject_id = StringField(
        "Subject id",
        validators=[
            Optional(),
            Length(max=64),
            # A row id or a page's name: never free text, which could carry a plate into the
            # access entry that records the filter.
            Regexp(
                r"^(\d{1,19}|[a-z_]+(\.[a-z_]+)+)$",
                message="A subject id is a number, or a page name such as audit.entries.",
            ),
        ],
    )

    def validate_end(self, field: DateField) -> None:
        """A range runs forwards."""
        if field.data and self.start.data and field.data < self.start.data:
            raise ValidationError("The end date is before the start date.")
