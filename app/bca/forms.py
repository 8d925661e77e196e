"""BCA notice step forms; Flask-WTF adds the CSRF token to each.

The forms check only types: what a step needs (a plausible date, a method, a recipient, a
reference) is refused by the machine's guards, at the field.
"""

from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from app.bca.models import SendMethod
from app.core.forms import AppForm


class BcaSendForm(AppForm):
    """The notice went to the BCA: when, how, to whom, under what reference."""

    sent_on = DateField("Sent on", validators=[Optional()])
    sent_method = SelectField(
        "Sent by",
        choices=[SelectChoice("", "— choose —")]
        + [SelectChoice(m.value, m.label) for m in SendMethod],
        validators=[Optional()],
    )
    sent_to = StringField(
        "Recipient at the BCA",
        validators=[Optional()],
        description="The office or person the notice was addressed to.",
    )
    sent_reference = StringField(
        "Reference",
        validators=[Optional()],
        description="E-mail subject, certified-mail or fax confirmation number.",
    )


class BcaAcknowledgeForm(AppForm):
    """The BCA confirmed it received the notice."""

    acknowledged_on = DateField("Acknowledged on", validators=[Optional()])
    acknowledgement_note = TextAreaField(
        "Note (optional)",
        validators=[Optional()],
        description="The BCA's own reference or what it answered.",
    )
