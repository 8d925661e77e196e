"""factory-boy factories for the models tests need; later tests reuse them."""

from __future__ import annotations

from datetime import timedelta

import factory
from argon2 import PasswordHasher
from flask import current_app

from app.auth.models import Agency, Role, TrainingRecord, User, UserRole
from app.core.timeutil import local_today
from app.db import utcnow
from app.investigations.models import Investigation
from app.reads.models import (
    Deployment,
    Device,
    DeviceKind,
    Hit,
    HotlistCategory,
    HotlistSource,
    HotlistSourceKind,
    Read,
)
from app.retention.acp import plate_hmac
from app.retention.models import AcpPlate, AcpRequest, AcpStatus

DEFAULT_PASSWORD = "correct-horse-battery-staple"
#: Hashed once: argon2 is deliberately slow, and tests create many users.
DEFAULT_PASSWORD_HASH = PasswordHasher().hash(DEFAULT_PASSWORD)


class BaseFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session = None  # bound by the `session` fixture
        sqlalchemy_session_persistence = "commit"


class AgencyFactory(BaseFactory):
    class Meta:
        model = Agency

    name = factory.Sequence(lambda n: f"Agency {n}")
    ori = factory.Sequence(lambda n: f"MN{n:07d}")


class TrainingRecordFactory(BaseFactory):
    """Current training by default; override the dates for expired or future records."""

    class Meta:
        model = TrainingRecord

    course = "Department ALPR training"
    completed_on = factory.LazyFunction(lambda: local_today() - timedelta(days=10))
    expires_on = factory.LazyFunction(lambda: local_today() + timedelta(days=355))


class UserFactory(BaseFactory):
    """A user: `UserFactory(roles=[Role.OPERATOR], trained=True)`."""

    class Meta:
        model = User
        exclude = ("roles",)

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    name = factory.Sequence(lambda n: f"User {n}")
    password_hash = DEFAULT_PASSWORD_HASH
    roles = (Role.OPERATOR,)
    role_rows = factory.LazyAttribute(lambda o: [UserRole(role=Role(r).value) for r in o.roles])

    @factory.post_generation
    def trained(obj, create, extracted, **kwargs):
        """`trained=True` adds a current department-approved training record."""
        if create and extracted:
            TrainingRecordFactory(user=obj)


# --- retention (issue 6): devices, reads and investigations the purge tests need -----------


class DeviceFactory(BaseFactory):
    """A mobile camera without a token (tests that call the API issue one)."""

    class Meta:
        model = Device

    serial = factory.Sequence(lambda n: f"TEST-CAM-{n:04d}")
    kind = DeviceKind.MOBILE.value


class ReadFactory(BaseFactory):
    """A read from a device, captured now unless told otherwise."""

    class Meta:
        model = Read

    device = factory.SubFactory(DeviceFactory)
    plate = factory.Sequence(lambda n: f"TST{n:04d}")
    captured_at = factory.LazyFunction(utcnow)
    latitude = 44.05
    longitude = -91.64


class InvestigationFactory(BaseFactory):
    """An active investigation opened today."""

    class Meta:
        model = Investigation

    case_number = factory.Sequence(lambda n: f"24-{n:06d}")
    title = factory.Sequence(lambda n: f"Case {n}")
    opened_on = factory.LazyFunction(local_today)


# --- hits and search (issue 5) --------------------------------------------------------------


class DeploymentFactory(BaseFactory):
    """A fixed device's current location in Winona."""

    class Meta:
        model = Deployment

    device = factory.SubFactory(DeviceFactory, kind=DeviceKind.FIXED.value)
    location_name = factory.Sequence(lambda n: f"Location {n}")
    latitude = 44.05
    longitude = -91.64
    started_on = factory.LazyFunction(lambda: local_today() - timedelta(days=30))


class HotlistSourceFactory(BaseFactory):
    """The Minnesota license plate data file (425.4.1(b))."""

    class Meta:
        model = HotlistSource

    name = factory.Sequence(lambda n: f"MN plate file {n}")
    kind = HotlistSourceKind.MN_PLATE_FILE.value


class HitFactory(BaseFactory):
    """A new stolen-vehicle hit on a fresh read."""

    class Meta:
        model = Hit

    read = factory.SubFactory(ReadFactory)
    source = factory.SubFactory(HotlistSourceFactory)
    category = HotlistCategory.STOLEN_VEHICLE.value
    hotlist_reference = factory.Sequence(lambda n: f"NCIC-{n:06d}")


# --- reads other agencies share (issue 5, item 3) -------------------------------------------


def api_read(plate: str = "ABC123", minutes_ago: float = 5, **extra: object) -> dict:
    """One read as the JSON ingest APIs take it (device and agency), captured minutes ago."""
    return {
        "plate": plate,
        "captured_at": (utcnow() - timedelta(minutes=minutes_ago)).isoformat(),
        "latitude": 43.8014,
        "longitude": -91.2396,
        **extra,
    }


class AcpSuppressionFactory(BaseFactory):
    """An ACP request whose suppression is active: `AcpSuppressionFactory(suppressed=["HIDE42"])`.

    Plates are given normalised and stored, as ever, only as their keyed HMAC (the app's key).
    """

    class Meta:
        model = AcpRequest
        exclude = ("suppressed",)

    participant_number = factory.Sequence(lambda n: f"ACP-{n}")
    received_on = factory.LazyFunction(local_today)
    status = AcpStatus.SUPPRESSION_ACTIVE.value
    suppressed = ("HIDE42",)
    plates = factory.LazyAttribute(
        lambda o: [
            AcpPlate(plate_hmac=plate_hmac(current_app.config["ACP_HMAC_KEY"], plate))
            for plate in o.suppressed
        ]
    )
