"""The purge's SQL agrees with the pure rule: hypothesis generates reads, holds and clocks,
runs the real purge on the database, and compares the survivors with `is_destroyable`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from app.auth.models import Agency
from app.db import Base
from app.investigations.models import Investigation
from app.reads.models import Device, Read
from app.reads.partitions import create_day_partitions, is_partitioned
from app.retention.dashboard import retention_overview
from app.retention.models import ExculpatoryRequest, Hold, HoldDevice, HoldKind, HoldPlate
from app.retention.policy import HoldScope, ReadFacts, is_destroyable
from tests.helpers import run_purge

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
PLATES = ("AAA111", "BBB222", "CCC333")


@dataclass(frozen=True)
class GenRead:
    plate: str | None
    age_minutes: int
    device: int | None  # index into the two devices; None: a read shared by another agency
    acp_deferred: bool
    partitioned: bool  # on PostgreSQL: give its day a partition (else it lands in the default)


@dataclass(frozen=True)
class GenHold:
    kind: str
    reason_status: str  # the investigation's or the exculpatory request's status
    released: bool
    start_minutes_ago: int
    length_minutes: int
    plates: frozenset[str]
    devices: frozenset[int]


# Ages, windows and clocks on a 12-hour grid from NOW (noon): reads land on UTC midnights,
# which is where retention cuts (policy.retention_cutoff), and exactly on hold window edges.
minutes = st.integers(min_value=0, max_value=140).map(lambda half_days: half_days * 720)
reads_strategy = st.lists(
    st.builds(
        GenRead,
        plate=st.sampled_from((*PLATES, None)),
        age_minutes=minutes,
        device=st.sampled_from((0, 1, None)),
        acp_deferred=st.booleans(),
        partitioned=st.booleans(),
    ),
    max_size=12,
    unique_by=lambda r: (r.plate, r.age_minutes, r.device),  # one read per camera, plate, instant
)
holds_strategy = st.lists(
    st.one_of(
        st.builds(
            GenHold,
            kind=st.just(HoldKind.INVESTIGATION.value),
            reason_status=st.sampled_from(("active", "active", "closed", "retained", "released")),
            released=st.booleans(),
            start_minutes_ago=minutes,
            length_minutes=minutes.filter(bool),
            plates=st.frozensets(st.sampled_from(PLATES), max_size=2),
            devices=st.frozensets(st.integers(0, 1), max_size=2),
        ),
        st.builds(
            GenHold,
            kind=st.just(HoldKind.EXCULPATORY.value),
            reason_status=st.sampled_from(("received", "active", "released", "declined")),
            released=st.booleans(),
            start_minutes_ago=minutes,
            length_minutes=minutes.filter(bool),
            plates=st.frozensets(st.sampled_from(PLATES), max_size=2),
            devices=st.frozensets(st.integers(0, 1), max_size=2),
        ),
    ),
    max_size=3,
)


def _in_force(hold: GenHold) -> bool:
    """The test's own reading of 425.5: a hold is in force while its reason holds.

    An investigation hold while the investigation is active; an exculpatory hold from the
    receipt of the written request (received or active) until it is released or declined.
    Only these defer an ACP participant's destruction.
    """
    if hold.released:
        return False
    if hold.kind == HoldKind.INVESTIGATION.value:
        return hold.reason_status == "active"
    return hold.reason_status in {"received", "active"}


def _keeping(hold: GenHold) -> bool:
    """A hold keeps data from the 60-day rule while in force, and while its closed case
    awaits its disposition or keeps the data under the records-retention schedule."""
    if hold.kind == HoldKind.INVESTIGATION.value and not hold.released:
        return hold.reason_status in {"active", "closed", "retained"}
    return _in_force(hold)


def _reset(session) -> None:
    session.rollback()
    for table in reversed(Base.metadata.sorted_tables):
        if table.name in {
            "hits",
            "read_images",
            "reads",
            "hold_plates",
            "hold_devices",
            "holds",
            "exculpatory_requests",
            "investigations",
            "image_tombstones",
            "purge_runs",
            "devices",
            "agencies",
        }:
            session.execute(delete(table))
    session.commit()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    reads=reads_strategy,
    holds=holds_strategy,
    retention_days=st.sampled_from((1, 2, 30, 60)) | st.integers(min_value=1, max_value=60),
    clock_shift=st.integers(min_value=-4, max_value=4).map(lambda n: timedelta(hours=12 * n)),
)
@example(  # reads at noon either side of the cutoff; a plate-less read in a plate-scoped hold
    reads=[GenRead("AAA111", 60 * 1440, 0, False, True), GenRead(None, 61 * 1440, 0, False, True)],
    holds=[
        GenHold(
            "investigation", "active", False, 62 * 1440, 1440, frozenset({"BBB222"}), frozenset()
        )
    ],
    retention_days=60,
    clock_shift=timedelta(0),
)
@example(  # reads exactly on a hold's window edges, one on a device outside its device scope
    reads=[
        GenRead("AAA111", 61 * 1440, 0, False, True),
        GenRead("AAA111", 63 * 1440, 0, True, True),
        GenRead("AAA111", 62 * 1440, 1, False, False),
        GenRead("AAA111", 62 * 1440, None, False, True),
    ],
    holds=[
        GenHold("exculpatory", "active", False, 63 * 1440, 2 * 1440, frozenset(), frozenset({0}))
    ],
    retention_days=60,
    clock_shift=timedelta(0),
)
@example(  # the first read of the cutoff's UTC day stays; the last read before it goes
    reads=[
        GenRead("AAA111", 119 * 720, 0, False, True),
        GenRead("BBB222", 120 * 720, 0, False, True),
        GenRead("CCC333", 121 * 720, 1, False, False),
    ],
    holds=[],
    retention_days=60,
    clock_shift=timedelta(0),
)
@example(  # a request only received already keeps its scope; a declined one keeps nothing
    reads=[
        GenRead("AAA111", 70 * 1440, 0, False, True),
        GenRead("BBB222", 70 * 1440, 1, False, True),
    ],
    holds=[
        GenHold(
            "exculpatory",
            "received",
            False,
            71 * 1440,
            2 * 1440,
            frozenset({"AAA111"}),
            frozenset(),
        ),
        GenHold(
            "exculpatory",
            "declined",
            False,
            71 * 1440,
            2 * 1440,
            frozenset({"BBB222"}),
            frozenset(),
        ),
    ],
    retention_days=60,
    clock_shift=timedelta(0),
)
@example(  # a closed case's holds keep aged reads from the purge, but not ACP-deferred ones
    reads=[
        GenRead("AAA111", 70 * 1440, 0, False, True),
        GenRead("AAA111", 70 * 1440 + 720, 0, True, True),
        GenRead("BBB222", 70 * 1440, 0, False, True),
        GenRead("CCC333", 70 * 1440, 0, False, True),
    ],
    holds=[
        GenHold(
            "investigation",
            "closed",
            False,
            71 * 1440,
            2 * 1440,
            frozenset({"AAA111"}),
            frozenset(),
        ),
        GenHold(
            "investigation",
            "retained",
            False,
            71 * 1440,
            2 * 1440,
            frozenset({"BBB222"}),
            frozenset(),
        ),
        GenHold(
            "investigation",
            "released",
            False,
            71 * 1440,
            2 * 1440,
            frozenset({"CCC333"}),
            frozenset(),
        ),
    ],
    retention_days=60,
    clock_shift=timedelta(0),
)
def test_purge_sql_agrees_with_the_pure_rule(
    app, session, reads, holds, retention_days, clock_shift
):
    _reset(session)
    devices = [Device(serial=f"PROP-{i}", kind="mobile") for i in range(2)]
    agency = Agency(name="Other agency", ori="MN9999999")
    session.add_all([*devices, agency])
    session.flush()
    now = NOW + clock_shift
    scopes_in_force: list[HoldScope] = []
    scopes_keeping: list[HoldScope] = []
    for number, gen in enumerate(holds):
        start = NOW - timedelta(minutes=gen.start_minutes_ago)
        hold = Hold(
            kind=gen.kind,
            window_start=start,
            window_end=start + timedelta(minutes=gen.length_minutes),
            status="released" if gen.released else "placed",
            released_at=NOW if gen.released else None,
            plates=[HoldPlate(plate=p) for p in sorted(gen.plates)],
            devices=[HoldDevice(device_id=devices[d].id) for d in sorted(gen.devices)],
        )
        if gen.kind == HoldKind.INVESTIGATION.value:
            hold.investigation = Investigation(
                case_number=f"P-{number}",
                title="property",
                status=gen.reason_status,
                opened_on=date(2026, 1, 1),
                closed_on=None if gen.reason_status == "active" else date(2026, 5, 1),
                schedule_category="felony" if gen.reason_status == "retained" else None,
                retain_until=date(2033, 5, 1) if gen.reason_status == "retained" else None,
            )
        else:
            request = ExculpatoryRequest(
                requester_name="subject",
                case_file_number=f"CF-{number}",
                received_on=date(2026, 1, 1),
                status=gen.reason_status,
                disposition="resolved" if gen.reason_status == "released" else None,
                resolved_on=date(2026, 5, 1) if gen.reason_status == "released" else None,
                decline_reason="not the subject" if gen.reason_status == "declined" else None,
            )
            session.add(request)
            session.flush()
            hold.exculpatory_request_id = request.id
        session.add(hold)
        scope = HoldScope(
            hold.window_start,
            hold.window_end,
            frozenset(gen.plates),
            frozenset(devices[d].id for d in gen.devices),
        )
        if _in_force(gen):
            scopes_in_force.append(scope)
        if _keeping(gen):
            scopes_keeping.append(scope)
    if is_partitioned(session):
        days = {(NOW - timedelta(minutes=g.age_minutes)).date() for g in reads if g.partitioned}
        create_day_partitions(session, days)
    expected_survivors: set[int] = set()
    for gen in reads:
        read = Read(
            device_id=None if gen.device is None else devices[gen.device].id,
            source_agency_id=agency.id if gen.device is None else None,
            plate=gen.plate,
            captured_at=NOW - timedelta(minutes=gen.age_minutes),
            latitude=44.0,
            longitude=-91.6,
            acp_deferred_at=NOW if gen.acp_deferred else None,
            plate_status="reported" if gen.plate else "pending_ocr",
        )
        session.add(read)
        session.flush()
        facts = ReadFacts(read.plate, read.captured_at, read.device_id)
        if not is_destroyable(
            facts,
            scopes_keeping,
            now,
            retention_days=retention_days,
            acp_suppressed=gen.acp_deferred,
            deferring=scopes_in_force,
        ):
            expected_survivors.add(read.id)
    session.commit()

    # The dashboard's compliance line and the purge both implement the rule.
    overview = retention_overview(session, now, retention_days, (3, 0))
    overdue = overview.overdue + overview.overdue_deferred
    assert overdue == len(reads) - len(expected_survivors)
    session.rollback()  # end the read snapshot before the purge's own sessions write
    run_purge(app, now=now, batch_size=3, retention_days=retention_days)

    session.expire_all()
    assert set(session.scalars(select(Read.id))) == expected_survivors
