"""Purpose-bound search of reads (policy 425.6(b)) with the tracking guard (425.4.1(c)).

Every search states the official use it serves (425.3), a purpose and a case or incident
number, and is stored as a :class:`~app.reads.models.Search` row with its criteria and result
count; performing it and viewing each result page are audit entries (425.6(e)). Searches that
together look at one plate for longer than the tracking window within the look-back (or the
plate-history view, whatever its window) are tracking: they need a search warrant number or an
exigent-circumstances statement, or the search is refused and the refusal audited.

Reads of an ACP participant's plates are out of use (425.5(b),
:func:`app.retention.acp.suppression.visible_reads`): no search finds them. A search that names
such a plate is kept with the plate's keyed digest and the request that protects it, never the
plate: not in its criteria, its purpose or its audit entries; the guard compares digests.

Queries keep the shapes the read indexes serve: ``plate = :p`` or ``plate LIKE 'AB%'`` (its
prefix also stated as a range) on ``(plate, captured_at)``, ``device_id = :d`` on
``(device_id, captured_at)``, always inside a
bounded ``captured_at`` window, newest first, 50 rows a page, counted by a separate COUNT that
stops at :data:`COUNT_CAP`.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, not_, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, joinedload, selectinload

from app.audit.actions import AuditAction
from app.audit.models import AuditDetail, AuditEntry
from app.audit.services import record, redact_many
from app.auth.models import User
from app.core.refusal import Refusal
from app.investigations.models import Investigation, InvestigationStatus
from app.investigations.sections import count_and_newest
from app.investigations.services import investigation_by_case_number, normalise_case_number
from app.reads.bulk import on_postgresql
from app.reads.models import Deployment, Device, PurposeCategory, Read, Search, SearchShownRead
from app.reads.plates import FieldError, normalise_plate
from app.retention.acp.digests import hmac_key, keyed_digest
from app.retention.acp.lifecycle import acp_request_received
from app.retention.acp.suppression import (
    Protection,
    protecting_requests,
    visible_reads,
    withhold_plates,
)
from app.retention.models import AcpRequest

PAGE_SIZE = 50
#: Counting stops here ("10,000 or more"), so a broad search never scans the table to count.
COUNT_CAP = 10_000
#: A purpose a reviewer can understand is at least this long ("stolen car" is 10).
PURPOSE_MIN = 10
#: "Near a deployment": half the side of the box around its coordinates, in metres.
NEAR_METRES = 500.0
METRES_PER_DEGREE = 111_320.0
WILDCARDS = "*%"
#: A partial plate must name at least this many characters besides wildcards.
PATTERN_MIN_CHARS = 2

KIND_SEARCH = "search"
KIND_PLATE_HISTORY = "plate_history"
KIND_READ_LOOKUP = "read_lookup"
#: A one-read lookup spans every time a read may carry: a held read outlives the 60 days.
LOOKUP_WINDOW = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2101, 1, 1, tzinfo=UTC))


#: Words that stand in for a statement rather than make one.
PLACEHOLDERS = frozenset(
    {
        "n/a",
        "na",
        "none",
        "exigent",
        "exigency",
        "exigent circumstances",
        "emergency",
        "urgent",
        "test",
        "testing",
        "tbd",
        "todo",
        "see case",
        "see report",
        "x",
        "xx",
        "xxx",
        "asdf",
        "...",
    }
)


@dataclass(frozen=True)
class SearchRules:
    """The department's settings a search is checked against, read once at the edge.

    `tracking_window_hours`: how long one plate may be followed without a warrant or exigency;
    `tracking_lookback_days`: how far back the windows of earlier searches of the same plate
    are added up; `warrant_pattern`: what a warrant number looks like; `exigent_min_chars`: how
    long an exigent-circumstances statement must be to say what the exigency is.
    """

    tracking_window_hours: int
    tracking_lookback_days: int
    warrant_pattern: str
    exigent_min_chars: int

    @classmethod
    def from_config(cls, config: Any) -> SearchRules:
        """The rules from the app's settings (ALPR_TRACKING_* and friends)."""
        return cls(
            tracking_window_hours=config["TRACKING_WINDOW_HOURS"],
            tracking_lookback_days=config["TRACKING_LOOKBACK_DAYS"],
            warrant_pattern=config["WARRANT_NUMBER_PATTERN"],
            exigent_min_chars=config["EXIGENT_MIN_CHARS"],
        )


class SearchError(Refusal):
    """Input that cannot make a lawful search; `field` names the form field when there is one."""


class SearchRefused(SearchError):
    """A search refused on a rule of law; a SEARCH_REFUSED entry has been appended: commit it."""


@dataclass(frozen=True)
class SearchCriteria:
    """What to look for: a bounded window plus at least one of plate, device or place.

    `plate` is stored normalised: an exact plate, or a pattern with ``%`` for the wildcards.
    `box` is (min_lat, max_lat, min_lon, max_lon); a deployment sets it to the area around it.
    `read_id` names the one read a lookup (:func:`look_up_read`) opens. `protected_request`
    stands for a plate an ACP request protects (425.5(b)): `plate` is then None, and the
    criteria match nothing.
    """

    start: datetime
    end: datetime
    plate: str | None = None
    device_id: int | None = None
    deployment_id: int | None = None
    box: tuple[float, float, float, float] | None = None
    kind: str = KIND_SEARCH
    read_id: int | None = None
    protected_request: int | None = None

    @property
    def is_pattern(self) -> bool:
        """A partial plate (wildcards) rather than one exact plate."""
        return self.plate is not None and "%" in self.plate

    @property
    def window(self) -> timedelta:
        """How long a stretch of time the search covers."""
        return self.end - self.start

    def to_json(self) -> str:
        """The stored form (``searches.criteria_json``), times in ISO 8601 UTC."""
        data = asdict(self)
        data["start"] = self.start.isoformat()
        data["end"] = self.end.isoformat()
        return json.dumps(data, sort_keys=True)

    def summary(self) -> dict[str, Any]:
        """The criteria as the audit entry records them: a protected plate by its request only."""
        data = json.loads(self.to_json())
        if self.protected_request is not None:
            data["plate"] = f"protected plate (ACP request #{self.protected_request})"
        return data

    @classmethod
    def from_json(cls, raw: str) -> SearchCriteria:
        """Rebuild a stored search's criteria to fetch its other result pages."""
        data = json.loads(raw)
        data["start"] = datetime.fromisoformat(data["start"])
        data["end"] = datetime.fromisoformat(data["end"])
        data["box"] = tuple(data["box"]) if data.get("box") else None
        return cls(**data)


def parse_plate_query(raw: str | None) -> str | None:
    """An exact plate, or a partial one with ``*``/``%`` wildcards ("ABC*" is a prefix).

    Each part between wildcards goes through :func:`normalise_plate`, as a plate does at every
    entry point, so "ABO 123" finds the read stored as "AB0123". Raises SearchError for other
    characters or a pattern naming fewer than two characters (that would be every plate).
    """
    text = (raw or "").strip()
    if not text:
        return None
    if not any(c in WILDCARDS for c in text):
        try:
            return normalise_plate(text)
        except FieldError as exc:
            raise SearchError(f"Plate {exc.message}.", "plate") from None
    parts = re.split(r"[*%]+", text)
    try:
        pattern = "%".join(
            normalise_plate(part) if re.sub(r"[\s-]", "", part) else "" for part in parts
        )
    except FieldError:
        raise SearchError(
            "A partial plate may hold only letters, digits and * or %.", "plate"
        ) from None
    if len(pattern) > 12:
        raise SearchError("A partial plate may hold at most 12 characters.", "plate")
    if len(pattern.replace("%", "")) < PATTERN_MIN_CHARS:
        raise SearchError(
            f"A partial plate must name at least {PATTERN_MIN_CHARS} characters.", "plate"
        )
    return pattern


def box_near(latitude: float, longitude: float, metres: float = NEAR_METRES) -> tuple[float, ...]:
    """The box of ±`metres` around a point, in degrees (longitude degrees shrink with latitude)."""
    dlat = metres / METRES_PER_DEGREE
    dlon = metres / (METRES_PER_DEGREE * max(math.cos(math.radians(latitude)), 0.01))
    return (
        round(max(latitude - dlat, -90.0), 6),
        round(min(latitude + dlat, 90.0), 6),
        round(max(longitude - dlon, -180.0), 6),
        round(min(longitude + dlon, 180.0), 6),
    )


def build_criteria(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    max_window_days: int,
    plate: str | None = None,
    device_id: int | None = None,
    deployment_id: int | None = None,
    box: tuple[float | None, float | None, float | None, float | None] | None = None,
    kind: str = KIND_SEARCH,
) -> SearchCriteria:
    """Check and normalise what was asked for; raises SearchError naming the field.

    The window is required and bounded: it ends no later than now (so later result pages show
    the same rows) and spans at most `max_window_days` (the retention period: no lawful data is
    older). A search must narrow by plate, device or place: an unfocused sweep of every read is
    not a purpose-bound search.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise SearchError("Times must carry a time zone.")
    end = min(end, now)
    if start >= end:
        raise SearchError("The window must start before it ends (and before now).", "start")
    if end - start > timedelta(days=max_window_days):
        raise SearchError(
            f"The window may span at most {max_window_days} days: no older data is kept "
            "(policy 425.5).",
            "start",
        )
    pattern = parse_plate_query(plate)
    if device_id is not None and session.get(Device, device_id) is None:
        raise SearchError("No such device.", "device_id")
    clean_box = None
    if box is not None and any(v is not None for v in box):
        if any(v is None for v in box):
            raise SearchError("Give all four edges of the area, or none.", "min_lat")
        min_lat, max_lat, min_lon, max_lon = (float(v) for v in box)  # type: ignore[arg-type]
        if not (-90 <= min_lat < max_lat <= 90 and -180 <= min_lon < max_lon <= 180):
            raise SearchError(
                "The area needs south < north within ±90 and west < east within ±180.", "min_lat"
            )
        clean_box = (min_lat, max_lat, min_lon, max_lon)
    if deployment_id is not None:
        deployment = session.get(Deployment, deployment_id)
        if deployment is None:
            raise SearchError("No such deployment.", "deployment_id")
        if clean_box is not None:
            raise SearchError("Choose a deployment or an area, not both.", "deployment_id")
        clean_box = box_near(deployment.latitude, deployment.longitude)  # type: ignore[assignment]
    if pattern is None and device_id is None and clean_box is None:
        raise SearchError("Narrow the search by plate, device, deployment or area.", "plate")
    return SearchCriteria(
        start=start.astimezone(UTC),
        end=end.astimezone(UTC),
        plate=pattern,
        device_id=device_id,
        deployment_id=deployment_id,
        box=clean_box,
        kind=kind,
    )


def _prefix_range(session: Session, prefix: str) -> list[ColumnElement[bool]]:
    """``plate`` starts with `prefix`, as a range the ``(plate, captured_at)`` index serves.

    PostgreSQL turns ``LIKE 'AB%'`` into such a range only when it plans with the pattern's
    value; stated in the query, the range holds for the cached, reused plan too, which spares
    planning every day partition of the window at each search (app.reads.partitions). Plates
    are A-Z and 0-9 only, so the next prefix in byte order bounds the range.
    """
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    if on_postgresql(session):  # the index's text_pattern_ops compare bytewise
        return [Read.plate.op("~>=~")(prefix), Read.plate.op("~<~")(upper)]
    return [Read.plate >= prefix, Read.plate < upper]


def _where(
    session: Session, criteria: SearchCriteria, *, in_use: bool = True
) -> list[ColumnElement[bool]]:
    """The reads the criteria match: those in use, or (`in_use=False`) those out of use."""
    clauses: list[ColumnElement[bool]] = [
        Read.captured_at >= criteria.start,
        Read.captured_at < criteria.end,
        visible_reads() if in_use else not_(visible_reads()),
    ]
    if criteria.protected_request is not None:
        clauses.append(false())
    if criteria.plate is not None and criteria.is_pattern:
        clauses.append(Read.plate.like(criteria.plate))
        prefix = criteria.plate.split("%", 1)[0]
        if prefix:
            clauses += _prefix_range(session, prefix)
    elif criteria.plate is not None:
        clauses.append(Read.plate == criteria.plate)
    if criteria.device_id is not None:
        clauses.append(Read.device_id == criteria.device_id)
    if criteria.read_id is not None:
        clauses.append(Read.id == criteria.read_id)
    if criteria.box is not None:
        min_lat, max_lat, min_lon, max_lon = criteria.box
        clauses += [
            Read.latitude.between(min_lat, max_lat),
            Read.longitude.between(min_lon, max_lon),
        ]
    return clauses


def results_query(session: Session, criteria: SearchCriteria) -> Select[tuple[Read]]:
    """Matching reads, newest first (id breaks ties so pages never overlap)."""
    return (
        select(Read)
        .where(*_where(session, criteria))
        .order_by(Read.captured_at.desc(), Read.id.desc())
    )


def count_results(session: Session, criteria: SearchCriteria) -> tuple[int, bool]:
    """How many reads match, counting no further than COUNT_CAP; (count, capped)."""
    bounded = select(Read.id).where(*_where(session, criteria)).limit(COUNT_CAP + 1).subquery()
    count = session.scalar(select(func.count()).select_from(bounded)) or 0
    return min(count, COUNT_CAP), count > COUNT_CAP


def _plates_matched(
    session: Session, criteria: SearchCriteria, limit: int, *, in_use: bool = True
) -> list[str]:
    """Up to `limit` distinct plates of the reads the criteria match (in use, or out of use)."""
    return list(
        session.scalars(
            select(Read.plate)
            .where(*_where(session, criteria, in_use=in_use))
            .distinct()
            .limit(limit)
        )
    )


def followed_plate(session: Session, criteria: SearchCriteria) -> str | None:
    """The one plate this search follows: its exact plate, or the only plate a partial one matches.

    A partial plate that matches a single plate in the window is, in effect, that plate followed.
    """
    if criteria.plate is None:
        return None
    if not criteria.is_pattern:
        return criteria.plate
    plates = _plates_matched(session, criteria, 2)
    return plates[0] if len(plates) == 1 else None


def protection(session: Session, criteria: SearchCriteria) -> Protection | None:
    """Whether the search names a plate an ACP request protects (425.5(b)), and which.

    The exact plate, or the plate a partial one names when its wildcards match nothing ("ABC1*"
    names ABC1), is compared by its keyed digest, and the search follows it. A partial plate
    that matches no read in use but some out of use is the participant's too; it follows no
    plate, so that no refusal says that it matched one.
    """
    if criteria.plate is None:
        return None
    named = criteria.plate.replace("%", "")
    found = protecting_requests(session, [named])
    if named in found:
        return Protection(found[named], named, (named,))
    if criteria.is_pattern and not _plates_matched(session, criteria, 1):
        hidden = protecting_requests(session, _plates_matched(session, criteria, 2, in_use=False))
        if hidden:
            return Protection(min(hidden.values()), None, tuple(hidden))
    return None


def covered_time(windows: list[tuple[datetime, datetime]]) -> timedelta:
    """How much time the `windows` cover together, overlaps counted once."""
    total = timedelta()
    reach: datetime | None = None
    for start, end in sorted(windows):
        if reach is not None and start < reach:
            start = reach
        if end > start:
            total += end - start
        reach = end if reach is None else max(reach, end)
    return total


@dataclass(frozen=True)
class Followed:
    """The one plate a search follows, as the tracking guard compares it across searches.

    A search keeps the `plate` in clear or, when an ACP request protects it (`protected`), only
    its keyed `digest` (the ACP key). Both are compared, so the searches of a plate before,
    during and after its protection add up.
    """

    plate: str
    digest: str
    protected: bool


def _earlier_windows(
    session: Session, followed: Followed, since: datetime
) -> list[tuple[datetime, datetime]]:
    same_plate = or_(
        Search.followed_plate == followed.plate, Search.followed_plate_hmac == followed.digest
    )
    rows = session.scalars(
        select(Search.criteria_json).where(same_plate, Search.created_at >= since)
    ).all()
    windows = []
    for raw in rows:
        criteria = SearchCriteria.from_json(raw)
        windows.append((criteria.start, criteria.end))
    return windows


def tracking_reason(
    session: Session,
    criteria: SearchCriteria,
    rules: SearchRules,
    now: datetime,
    protected: Protection | None = None,
) -> tuple[str | None, Followed | None]:
    """Why this search follows one plate across time and places (425.4.1(c)), and that plate.

    One plate may be looked at for at most the tracking window without a warrant or an exigency,
    counted over every search of it in the look-back, whoever ran them: cutting a week into
    back-to-back days is the same tracking as asking for the week. A plate an ACP request
    protects (`protected`, the criteria then name no plate) is counted the same.
    """
    plate = protected.followed if protected is not None else followed_plate(session, criteria)
    followed = None
    if plate is not None:
        digest = keyed_digest(hmac_key(session))(plate)
        followed = Followed(plate, digest, protected is not None)
    if criteria.kind == KIND_PLATE_HISTORY:
        return "a plate history follows one plate across time and places", followed
    if followed is None:
        return None, None
    limit = timedelta(hours=rules.tracking_window_hours)
    if criteria.window > limit:
        if criteria.is_pattern:
            return (
                f"this partial plate matches a single plate over more than "
                f"{rules.tracking_window_hours} hours, which follows that plate across time "
                "and places"
            ), followed
        return (
            f"a single-plate search over more than {rules.tracking_window_hours} hours follows "
            "one plate across time and places"
        ), followed
    since = now - timedelta(days=rules.tracking_lookback_days)
    windows = [*_earlier_windows(session, followed, since), (criteria.start, criteria.end)]
    covered = covered_time(windows)
    if covered > limit:
        hours = covered.total_seconds() / 3600
        return (
            f"with the searches of this plate over the last {rules.tracking_lookback_days} days "
            f"it would have been looked at over {hours:.0f} hours, more than the "
            f"{rules.tracking_window_hours}-hour tracking window: that follows one plate across "
            "time and places"
        ), followed
    return None, followed


def authority_problem(
    rules: SearchRules, warrant: str | None, exigent: str | None
) -> tuple[str, str] | None:
    """What is wrong with the warrant number or exigency statement given, and its field."""
    if warrant is not None and not re.fullmatch(rules.warrant_pattern, warrant):
        return (
            f"'{warrant[:40]}' does not look like a search warrant number (letters and digits, "
            "with - . /, and at least one digit).",
            "warrant_number",
        )
    if exigent is not None:
        words = re.findall(r"[A-Za-z]{2,}", exigent)
        if (
            exigent.strip(" .").lower() in PLACEHOLDERS
            or len(exigent) < rules.exigent_min_chars
            or len(words) < 6
            or len({c.lower() for c in exigent if c.isalpha()}) < 8
        ):
            return (
                "Say what the exigency is: what is happening, to whom, and why a warrant cannot "
                f"wait (at least {rules.exigent_min_chars} characters, in words; policy "
                "425.4.1(c)).",
                "exigent_statement",
            )
    return None


def _refuse(
    session: Session,
    actor: User,
    message: str,
    field: str | None,
    details: dict[str, Any],
) -> SearchRefused:
    record(session, actor, AuditAction.SEARCH_REFUSED, None, {"reason": message, **details})
    return SearchRefused(message, field)


def perform_search(
    session: Session,
    actor: User,
    *,
    criteria: SearchCriteria,
    purpose_category: str,
    purpose: str,
    case_number: str,
    rules: SearchRules,
    now: datetime,
    warrant_number: str | None = None,
    exigent_statement: str | None = None,
    reader: Session | None = None,
) -> Search:
    """Run a purpose-bound search and keep it on file with its result count.

    The count may come from `reader` (a read replica's session, :func:`app.db.read_session`);
    the guards (closed case, tracking, ACP protection) read `session`, the primary, since a
    search committed a moment ago must count towards the next one's tracking window.

    Raises SearchError (nothing written) for a purpose category outside 425.3's official uses,
    a missing purpose or case number, or a warrant number or exigency statement that says
    nothing; and SearchRefused (a SEARCH_REFUSED entry appended: the caller commits it) when
    the search tracks a plate without a warrant number or exigent statement, or cites a closed
    case. A search naming a plate an ACP request protects is kept, refused or audited with the
    plate's digest and the request instead of the plate, also where the purpose or exigency
    statement spelled it out.
    """
    purpose = (purpose or "").strip()
    case_number = normalise_case_number(case_number)
    warrant = (warrant_number or "").strip() or None
    exigent = (exigent_statement or "").strip() or None
    if purpose_category not in {category.value for category in PurposeCategory}:
        raise SearchError(
            "Choose the official use this search serves (policy 425.3).", "purpose_category"
        )
    if len(purpose) < PURPOSE_MIN:
        raise SearchError(
            f"State the purpose of this search (at least {PURPOSE_MIN} characters; "
            "policy 425.6(b)).",
            "purpose",
        )
    if not case_number:
        raise SearchError("A case or incident number is required (policy 425.6(b)).", "case_number")
    if problem := authority_problem(rules, warrant, exigent):
        raise SearchError(*problem)
    protected = protection(session, criteria)
    if protected is not None:
        criteria = replace(criteria, plate=None, protected_request=protected.request_id)
        purpose = withhold_plates(purpose, protected.plates)
        exigent = withhold_plates(exigent, protected.plates) if exigent else None
    context = {
        "criteria": criteria.summary(),
        "purpose_category": purpose_category,
        "purpose": purpose,
        "case_number": case_number,
    }
    investigation = investigation_by_case_number(session, case_number)
    if investigation is not None and investigation.status != InvestigationStatus.ACTIVE.value:
        raise _refuse(
            session,
            actor,
            f"Case {investigation.case_number} is closed: a search must serve an active "
            "investigation or a current incident.",
            "case_number",
            context,
        )
    reason, followed = tracking_reason(session, criteria, rules, now, protected)
    if reason is not None and warrant is None and exigent is None:
        raise _refuse(
            session,
            actor,
            f"Refused: {reason}. Policy 425.4.1(c) allows that only under a search warrant or "
            "because of exigent circumstances: enter the warrant number or an "
            "exigent-circumstances statement.",
            "warrant_number",
            {**context, "tracking": reason},
        )
    count, capped = count_results(reader or session, criteria)
    search = Search(
        user_id=actor.id,
        purpose_category=purpose_category,
        purpose=purpose,
        case_number=case_number,
        followed_plate=followed.plate if followed and not followed.protected else None,
        followed_plate_hmac=followed.digest if followed and followed.protected else None,
        protected_request_id=protected.request_id if protected is not None else None,
        investigation_id=investigation.id if investigation is not None else None,
        criteria_json=criteria.to_json(),
        is_tracking=reason is not None,
        warrant_number=warrant,
        exigent_statement=exigent,
        result_count=count,
        created_at=now,
    )
    session.add(search)
    session.flush()
    record(
        session,
        actor,
        AuditAction.SEARCH_PERFORMED,
        search,
        {
            **context,
            "result_count": count,
            "count_capped": capped,
            "is_tracking": search.is_tracking,
            "tracking": reason,
            "warrant_number": warrant,
            "exigent_statement": exigent,
        },
    )
    return search


def look_up_read(
    session: Session,
    actor: User,
    read_id: int,
    *,
    purpose_category: str,
    purpose: str,
    case_number: str,
    rules: SearchRules,
    now: datetime,
) -> Search:
    """Open one read by its id for a stated purpose and case number (425.6(b)).

    A search of that one read, checked, stored and audited as every search is (the same
    purpose rules and refusals, :func:`perform_search`); the read it found, if any (none when
    it never existed or was destroyed), is then the search's to open.
    """
    start, end = LOOKUP_WINDOW
    search = perform_search(
        session,
        actor,
        criteria=SearchCriteria(start=start, end=end, read_id=read_id, kind=KIND_READ_LOOKUP),
        purpose_category=purpose_category,
        purpose=purpose,
        case_number=case_number,
        rules=rules,
        now=now,
    )
    if search.result_count:
        record_shown_reads(session, search, [read_id])
    return search


@dataclass(frozen=True)
class ResultPage:
    """One page of a stored search's results."""

    rows: list[Read]
    page: int
    pages: int
    total: int
    capped: bool


def page_count(total: int) -> int:
    """Pages of PAGE_SIZE needed for `total` results (at least one, even when empty)."""
    return max(1, math.ceil(total / PAGE_SIZE))


def record_shown_reads(session: Session, search: Search, read_ids: list[int]) -> None:
    """Keep which reads `search` showed: its context opens those, and only those."""
    if not read_ids:
        return
    insert = postgresql_insert if on_postgresql(session) else sqlite_insert
    rows = [{"search_id": search.id, "read_id": read_id} for read_id in read_ids]
    session.execute(insert(SearchShownRead).values(rows).on_conflict_do_nothing())


def _still_visible(session: Session, found: list[tuple[int, datetime]]) -> list[Read]:
    """The reads `found` (id, captured_at) that the primary still holds in use, in that order.

    A replica may be a few seconds behind: a read destroyed or put out of use (425.5(b)) on the
    primary since is not shown. The primary's lookup is by id within the page's time span, so
    it touches only the day partitions the page covers.
    """
    if not found:
        return []
    times = [captured_at for _, captured_at in found]
    rows = session.scalars(
        select(Read)
        .where(
            Read.id.in_([read_id for read_id, _ in found]),
            Read.captured_at.between(min(times), max(times)),
            visible_reads(),
        )
        .options(selectinload(Read.device))
    )
    by_id = {read.id: read for read in rows}
    return [by_id[read_id] for read_id, _ in found if read_id in by_id]


def view_results(
    session: Session, actor: User, search: Search, page: int, reader: Session | None = None
) -> ResultPage:
    """Fetch result page `page` and audit that `actor` saw it: its row count and read ids.

    The page is found on `reader` (a read replica's session, :func:`app.db.read_session`, or
    the primary's) and confirmed on `session`, the primary (:func:`_still_visible`), where the
    reads shown are kept (:func:`record_shown_reads`) for the search's context to open and the
    audit entry is written. Raises SearchError for a page outside the results.
    """
    criteria = SearchCriteria.from_json(search.criteria_json)
    pages = page_count(search.result_count)
    if page < 1 or page > pages:
        raise SearchError(f"There are {pages} pages of results.")
    reader = reader or session
    found = reader.execute(
        results_query(reader, criteria)
        .with_only_columns(Read.id, Read.captured_at)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    rows = _still_visible(session, list(found.tuples()))
    shown = [read.id for read in rows]
    record_shown_reads(session, search, shown)
    record(
        session,
        actor,
        AuditAction.SEARCH_PAGE_VIEWED,
        search,
        {"page": page, "rows": len(rows), "result_count": search.result_count, "read_ids": shown},
    )
    return ResultPage(rows, page, pages, search.result_count, search.result_count >= COUNT_CAP)


def recent_searches(session: Session, user: User, limit: int = 10) -> list[Search]:
    """The user's own latest searches, to return to their results."""
    return list(
        session.scalars(
            select(Search)
            .where(Search.user_id == user.id)
            .order_by(Search.created_at.desc(), Search.id.desc())
            .limit(limit)
        )
    )


#: Why the audit details of a search made before a participant's request were blanked.
PROTECTED_REASON = "named a plate an ACP request now protects (policy 425.5(b))"


@acp_request_received.connect
def protect_earlier_searches(
    request: AcpRequest, *, session: Session, actor: User | str | None
) -> None:
    """The searches made before a participant's request stop naming their plates (425.5(b)).

    Each stored search that followed or named one of the request's plates is kept from now on
    as a search made after it is: with the request, the followed plate's digest, and the plate
    out of its criteria, purpose and exigency statement (its result pages then show nothing).
    The audit entries that named the plate (the search performed, or refused) are redacted, one
    entry recording that; the tracking guard still adds up the windows, by the digest.
    """
    digest_of = keyed_digest(hmac_key(session))
    digests = {plate.plate_hmac for plate in request.plates}

    def protected(*plates: str | None) -> set[str]:
        return {p for p in plates if p and digest_of(p.replace("%", "")) in digests}

    # Stored criteria are `to_json`'s: a search naming no plate holds `"plate": null`.
    naming = select(Search.id, Search.followed_plate, Search.criteria_json).where(
        or_(Search.followed_plate.is_not(None), Search.criteria_json.not_like('%"plate": null%'))
    )
    searches: list[str] = []
    for search_id, followed, raw in session.execute(naming).all():
        criteria = SearchCriteria.from_json(raw)
        plates = protected(followed, criteria.plate)
        if not plates:
            continue
        search = session.get_one(Search, search_id)
        search.criteria_json = replace(criteria, plate=None, protected_request=request.id).to_json()
        search.protected_request_id = request.id
        if followed is not None and followed in plates:
            search.followed_plate, search.followed_plate_hmac = None, digest_of(followed)
        named = {plate.replace("%", "") for plate in plates}
        search.purpose = withhold_plates(search.purpose, named)
        if search.exigent_statement:
            search.exigent_statement = withhold_plates(search.exigent_statement, named)
        searches.append(str(search_id))
    performed = session.scalars(
        select(AuditEntry.id).where(
            AuditEntry.action == AuditAction.SEARCH_PERFORMED.value,
            AuditEntry.subject_type == Search.__tablename__,
            AuditEntry.subject_id.in_(searches),
        )
    ).all()
    refusals = session.execute(
        select(AuditEntry.id, AuditDetail.details_json)
        .join(AuditDetail, AuditDetail.entry_id == AuditEntry.id)
        .where(
            AuditEntry.action == AuditAction.SEARCH_REFUSED.value,
            AuditDetail.redacted_at.is_(None),
        )
    ).all()
    refused = [
        entry_id
        for entry_id, raw in refusals
        if protected(json.loads(raw or "{}").get("criteria", {}).get("plate"))
    ]
    redact_many(session, actor, [*performed, *refused], PROTECTED_REASON)


def searches_of_case(session: Session, investigation: Investigation) -> tuple[int, list[Search]]:
    """The searches made for a case (by its record or its number), newest first."""
    stmt = (
        select(Search)
        .options(joinedload(Search.user))
        .where(
            or_(
                Search.investigation_id == investigation.id,
                Search.case_number == investigation.case_number,
            )
        )
    )
    return count_and_newest(session, stmt, Search.created_at.desc(), Search.id.desc())
