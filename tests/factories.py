"""factory-boy factories for the models tests need; later tests reuse them."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import factory
from argon2 import PasswordHasher
from flask import current_app
from sqlalchemy.orm import object_session

from app.auth.models import Agency, Role, TrainingRecord, User, UserRole
from app.bca.models import BcaEvent, BcaNotice
from app.breaches.models import BreachIncident
from app.core.timeutil import local_today
from app.db import utcnow
from app.investigations.models import Investigation
from app.jobs.models import JobRun
from app.reads.models import (
    ActiveUsePeriod,
    Deployment,
    Device,
    DeviceKind,
    Hit,
    HotlistCategory,
    HotlistEntry,
    HotlistSource,
    HotlistSourceKind,
    ImageKind,
    Read,
    ReadImage,
    Search,
)
from app.requests.models import (
    AgencyKind,
    AgencyProfile,
    AgencyRequest,
    AgencyRequestPlate,
    Authoriser,
)
from app.retention.acp.digests import plate_hmac
from app.retention.models import (
    AcpPlate,
    AcpRequest,
    AcpStatus,
    ExculpatoryRequest,
    Hold,
    HoldDevice,
    HoldKind,
    HoldPlate,
    PurgeRun,
    StoredDocument,
)

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


# --- the models the factories above did not cover (issue 10, item 7) -----------------------
#
# Not here: AuditEntry/AuditDetail (a hash chain: write them with app.audit.services.record),
# and rows that only exist under a parent (UserRole, HoldPlate, HoldDevice, AcpPlate: pass
# them through the parent's factory), AcpDestroyedRead and ImageTombstone (bare digests the
# ACP ingest and the purge write).


def _digest(n: int) -> str:
    return hashlib.sha256(f"test document {n}".encode()).hexdigest()


class StoredDocumentFactory(BaseFactory):
    """A scanned request as the retention forms store it (the file itself is not written)."""

    class Meta:
        model = StoredDocument

    sha256 = factory.Sequence(_digest)
    content_type = "application/pdf"
    byte_size = 1024
    original_name = factory.Sequence(lambda n: f"request-{n}.pdf")


class ExculpatoryRequestFactory(BaseFactory):
    """A received exculpatory request (425.5(a)); pass `status`, `disposition`... to move it."""

    class Meta:
        model = ExculpatoryRequest

    requester_name = factory.Sequence(lambda n: f"Requester {n}")
    case_file_number = factory.Sequence(lambda n: f"25-CR-{n:05d}")
    received_on = factory.LazyFunction(local_today)


class AcpRequestFactory(BaseFactory):
    """A received ACP request, nothing suppressed yet (AcpSuppressionFactory: one that is)."""

    class Meta:
        model = AcpRequest

    participant_number = factory.Sequence(lambda n: f"ACP-R{n}")
    received_on = factory.LazyFunction(local_today)


class HoldFactory(BaseFactory):
    """An investigation hold over the last 30 days: `HoldFactory(held_plates=["ABC123"])`."""

    class Meta:
        model = Hold

    class Params:
        held_plates = ()
        held_devices = ()

    kind = HoldKind.INVESTIGATION.value
    investigation = factory.SubFactory(InvestigationFactory)
    window_start = factory.LazyFunction(lambda: utcnow() - timedelta(days=30))
    window_end = factory.LazyFunction(lambda: utcnow() + timedelta(days=1))
    description = "Held for the investigation"
    plates = factory.LazyAttribute(lambda o: [HoldPlate(plate=p) for p in o.held_plates])
    devices = factory.LazyAttribute(lambda o: [HoldDevice(device_id=d.id) for d in o.held_devices])


class ExculpatoryHoldFactory(HoldFactory):
    """The hold of an exculpatory request (a new received request unless one is given)."""

    class Params:
        request = factory.SubFactory(ExculpatoryRequestFactory)

    kind = HoldKind.EXCULPATORY.value
    investigation = None
    exculpatory_request_id = factory.SelfAttribute("request.id")


class ReadImageFactory(BaseFactory):
    """A plate picture's row on a fresh read (the file itself is not written)."""

    class Meta:
        model = ReadImage

    read = factory.SubFactory(ReadFactory)
    kind = ImageKind.PLATE.value
    sha256 = factory.Sequence(_digest)
    content_type = "image/jpeg"
    byte_size = 2048
    width = 520
    height = 260


class ActiveUsePeriodFactory(BaseFactory):
    """The last hour of a mobile camera's active use."""

    class Meta:
        model = ActiveUsePeriod

    class Params:
        device = factory.SubFactory(DeviceFactory)

    device_id = factory.SelfAttribute("device.id")
    started_at = factory.LazyFunction(lambda: utcnow() - timedelta(hours=1))
    ended_at = factory.LazyFunction(utcnow)


class HotlistEntryFactory(BaseFactory):
    """A stolen-vehicle plate on a Minnesota plate file."""

    class Meta:
        model = HotlistEntry

    class Params:
        source = factory.SubFactory(HotlistSourceFactory)

    source_id = factory.SelfAttribute("source.id")
    plate = factory.Sequence(lambda n: f"HOT{n:04d}")
    category = HotlistCategory.STOLEN_VEHICLE.value
    reference = factory.Sequence(lambda n: f"NCIC-H{n:05d}")


class SearchFactory(BaseFactory):
    """A plate search by an operator, with its purpose and case number (425.6(b))."""

    class Meta:
        model = Search

    user = factory.SubFactory(UserFactory)
    purpose = "Stolen vehicle follow-up"
    case_number = factory.Sequence(lambda n: f"25-{n:06d}")
    criteria_json = '{"plate": "ABC123"}'


class JobRunFactory(BaseFactory):
    """A queued job run."""

    class Meta:
        model = JobRun

    name = "ocr"


class PurgeRunFactory(BaseFactory):
    """A finished purge that destroyed nothing."""

    class Meta:
        model = PurgeRun

    cutoff = factory.LazyFunction(lambda: utcnow() - timedelta(days=60))
    finished_at = factory.LazyFunction(utcnow)


# --- breach incidents (issue 11 item 10) -----------------------------------------------------


class BreachIncidentFactory(BaseFactory):
    """A breach reported two days after its discovery's calendar day began (state: reported)."""

    class Meta:
        model = BreachIncident

    discovered_at = factory.LazyFunction(lambda: utcnow() - timedelta(days=2))
    description = factory.Sequence(lambda n: f"Export {n} left on a shared drive")
    data_involved = "ALPR reads of one week"


# --- agency data requests (issue 12) ---------------------------------------------------------


class AgencyProfileFactory(BaseFactory):
    """A law-enforcement agency with its head and designee on record."""

    class Meta:
        model = AgencyProfile

    agency = factory.SubFactory(AgencyFactory)
    kind = AgencyKind.LAW_ENFORCEMENT.value
    head_name = "Chief Ann Head"
    head_title = "Chief of Police"
    designee_name = "Lt. Dee Signee"


class AgencyRequestFactory(BaseFactory):
    """A submitted request of a profiled agency's user for one plate over the last two days.

    Pass `status` (and, for an approved one, `finding`, `active_investigation`, `decided_by`)
    to start it further along; `with_profile=False` leaves the agency without a profile, and
    `with_profile__kind="other"` makes it a body that may not receive data.
    """

    class Meta:
        model = AgencyRequest
        exclude = ("plate_list",)

    class Params:
        plate_list = ("ABC123",)

    agency = factory.SubFactory(AgencyFactory)
    submitted_by = factory.SubFactory(
        UserFactory, roles=(Role.AGENCY,), trained=False, agency=factory.SelfAttribute("..agency")
    )
    requester_name = "Det. Rae Quester"
    purpose = "Locate a vehicle seen at a burglary"
    factual_basis = "A witness saw the plate leave the scene; burglary case 25-000123."
    case_number = factory.Sequence(lambda n: f"RPD-25-{n:05d}")
    authorised_by_name = "Chief Ann Head"
    authorised_by_role = Authoriser.HEAD.value
    letter = factory.SubFactory(StoredDocumentFactory)
    window_start = factory.LazyFunction(lambda: utcnow() - timedelta(days=2))
    window_end = factory.LazyFunction(lambda: utcnow() - timedelta(minutes=1))
    plates = factory.LazyAttribute(lambda o: [AgencyRequestPlate(plate=p) for p in o.plate_list])

    @factory.post_generation
    def with_profile(obj, create, extracted, **kwargs):
        """The agency's profile (law enforcement by default) unless it has one already."""
        if create and extracted is not False and obj.profile is None:
            AgencyProfileFactory(
                agency=obj.agency, kind=kwargs.get("kind", AgencyKind.LAW_ENFORCEMENT.value)
            )
            object_session(obj).expire(obj, ["profile"])


# --- BCA notices (issue 13 item 5) ------------------------------------------------------------


class BcaNoticeFactory(BaseFactory):
    """An open installation notice of a new device, installed three days ago."""

    class Meta:
        model = BcaNotice

    device = factory.SubFactory(DeviceFactory)
    event = BcaEvent.INSTALLATION.value
    event_key = factory.LazyAttribute(lambda o: f"{o.event}:{o.device.id}")
    event_on = factory.LazyFunction(lambda: local_today() - timedelta(days=3))
    due_on = factory.LazyAttribute(lambda o: o.event_on + timedelta(days=10))
