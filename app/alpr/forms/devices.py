"""Forms of the device, deployment and hotlist pages; Flask-WTF adds the CSRF token."""

from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, FloatField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.alpr.hotlists import MN_PLATE_FILE
from app.core.forms import AppForm, ConfirmIrreversible
from app.reads.models import CameraFormat, DateOrder, DeviceKind


class DeviceForm(AppForm):
    serial = StringField("Serial number", validators=[DataRequired(), Length(max=64)])
    kind = SelectField(
        "Kind",
        choices=[
            SelectChoice(DeviceKind.MOBILE.value, "Mobile (in a car)"),
            SelectChoice(DeviceKind.FIXED.value, "Fixed"),
        ],
    )
    description = StringField("Description", validators=[Optional(), Length(max=300)])
    installed_on = DateField(
        "Installed on",
        validators=[Optional()],
        description="The installation date opens a BCA notice (policy 425.4.1(d)).",
    )
    camera_format = SelectField(
        "Posts as",
        choices=[SelectChoice("", "The JSON API (/api/v1/reads)")]
        + [SelectChoice(f.value, f"{f.value} (/api/v1/cameras/{f.value})") for f in CameraFormat],
        default="",
        description="The vendor payload the camera sends; it may post in no other.",
    )
    date_order = SelectField(
        "Date order",
        choices=[SelectChoice("", "Not needed")]
        + [SelectChoice(o.value, o.value) for o in DateOrder],
        default="",
        description="Genetec writes dates in its server's locale (10/24/2024 is MDY).",
    )


class DeploymentForm(AppForm):
    location_name = StringField("Location name", validators=[DataRequired(), Length(max=200)])
    latitude = FloatField("Latitude", validators=[DataRequired(), NumberRange(-90, 90)])
    longitude = FloatField("Longitude", validators=[DataRequired(), NumberRange(-180, 180)])
    started_on = DateField("Started on", validators=[DataRequired()])
    security_information = BooleanField(
        "Security information (Minn. Stat. § 13.37 subd. 2): keep off the public list"
    )
    security_reason = StringField(
        "Why it is security information",
        validators=[Optional(), Length(max=1000)],
        description="Required when the location is kept off the public list.",
    )


class SecurityDecisionForm(AppForm):
    """Withhold a location from the public list as security information, or list it again."""

    reason = StringField("Reason", validators=[Optional(), Length(max=1000)])


class EndDeploymentForm(ConfirmIrreversible, AppForm):
    """The last day at a location: a deployment once ended is not reopened."""

    ended_on = DateField("Ended on", validators=[DataRequired()])


class RevokeForm(ConfirmIrreversible, AppForm):
    """Revoke a camera for good: its token is refused from then on."""

    reason = StringField("Reason for revoking", validators=[DataRequired(), Length(max=300)])


class RotateTokenForm(ConfirmIrreversible, AppForm):
    """Issue a new token: the old one stops working at once."""


class HotlistUploadForm(AppForm):
    file = FileField("CSV file", validators=[FileRequired()])
    source = StringField(
        "Source",
        default=MN_PLATE_FILE,
        validators=[DataRequired(), Length(max=120)],
        description="mn_plate_file for the Minnesota license plate data file; any other name "
        "needs an active investigation.",
    )
    case_number = StringField("Investigation case number", validators=[Optional(), Length(max=64)])
