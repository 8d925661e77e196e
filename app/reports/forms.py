"""The biennial report's period: local calendar days, a GET form (nothing changes but the trail)."""

from wtforms import DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, ValidationError

from app.core.forms import AppForm, typed_day

FORMATS = [
    SelectChoice("html", "On this page"),
    SelectChoice("pdf", "PDF"),
    SelectChoice("json", "JSON"),
]


class BiennialForm(AppForm):
    class Meta:
        csrf = False

    start = DateField("From (date)", validators=[InputRequired(), typed_day])
    end = DateField("To (date, inclusive)", validators=[InputRequired(), typed_day])
    format = SelectField("Format", choices=FORMATS, default="html")

    def validate_end(self, field: DateField) -> None:
        """A period runs forwards."""
        if field.data and self.start.data and field.data < self.start.data:
            raise ValidationError("The end date is before the start date.")
