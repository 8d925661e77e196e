"""The records staff's form for a public copy of the audit trail; Flask-WTF adds CSRF."""

from wtforms import DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, ValidationError

from app.core.forms import AppForm


class PublicCopyForm(AppForm):
    start = DateField("From (first day)", validators=[DataRequired()])
    end = DateField("To (last day)", validators=[DataRequired()])
    format = SelectField(
        "Format",
        choices=[SelectChoice("csv", "CSV (every entry)"), SelectChoice("pdf", "PDF")],
    )

    def validate_end(self, field: DateField) -> None:
        """A period ends on or after it starts, within the years a record can have."""
        if self.start.data and field.data and field.data < self.start.data:
            raise ValidationError("The last day is before the first.")
        for day in (self.start.data, field.data):
            if day and not 2000 <= day.year <= 2100:
                raise ValidationError("Choose days from 2000 to 2100.")
