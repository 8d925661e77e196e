"""The form of an export of read data: for which active investigation, and why."""

from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.alpr.exports import PURPOSE_MAX
from app.core.forms import AppForm


class ReadExportForm(AppForm):
    """The investigation whose hold keeps the exported reads, and the export's purpose."""

    investigation_id = SelectField(
        "Investigation",
        coerce=int,
        validators=[DataRequired(message="Choose the active investigation the export is for.")],
        description="The exported reads are held for this case until its data is released.",
    )
    purpose = TextAreaField(
        "Purpose of the export",
        validators=[DataRequired(), Length(max=PURPOSE_MAX)],
        description="Why a copy leaves the app (recorded in the audit trail).",
    )
