"""Hotlists (policy 425.4.1(b)): loading the Minnesota license plate data file, matching reads.

Accepted file: CSV, UTF-8 (a BOM is tolerated), with a header row naming the columns. Columns
are matched case-insensitively, spaces and dashes read as underscores:

==============  ==========================================================================
column          accepted header names
==============  ==========================================================================
plate           ``plate``, ``plate_number``, ``license_plate``, ``licence_plate``, ``tag``
category        ``category``, ``type``, ``hit_type``
reference       ``reference``, ``ref``, ``record_id``, ``ncic_number`` (optional column)
==============  ==========================================================================

Categories: ``stolen_vehicle``, ``stolen_plate``, ``warrant``, ``suspended_revoked``,
``investigative`` (also written with spaces or dashes, any case, or ``suspended`` /
``revoked``). Other columns are ignored. Plates are normalised as at ingest (upper case,
spaces and dashes dropped, 1–10 letters and digits). A file with any bad row is refused whole,
naming the lines, and nothing is loaded.

A load replaces the previous load of the same source in one transaction (delete, bulk insert,
source row, audit entry), so matching sees either the old list or the new one, never a mix.
The state file is the source named ``mn_plate_file``; any other source may be loaded only
for an active criminal investigation, named by its case number. On PostgreSQL the entries go
in with ``COPY`` (a million rows in seconds); elsewhere with an executemany insert.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, or_, select
from sqlalchemy.orm import Session

from app.audit.actions import AuditAction
from app.audit.services import PendingEntry, record, record_many
from app.db import utcnow
from app.investigations.models import Investigation, InvestigationStatus
from app.investigations.services import investigation_by_case_number
from app.reads.bulk import text_in
from app.reads.models import Hit, HotlistCategory, HotlistEntry, HotlistSource, HotlistSourceKind
from app.reads.plates import FieldError, normalise_plate

MN_PLATE_FILE = HotlistSourceKind.MN_PLATE_FILE.value
COLUMN_ALIASES = {
    "plate": ("plate", "plate_number", "license_plate", "licence_plate", "tag"),
    "category": ("category", "type", "hit_type"),
    "reference": ("reference", "ref", "record_id", "ncic_number"),
}
CATEGORY_ALIASES = {
    **{c.value: c.value for c in HotlistCategory},
    "suspended": HotlistCategory.SUSPENDED_REVOKED.value,
    "revoked": HotlistCategory.SUSPENDED_REVOKED.value,
}
REFERENCE_MAX = 64
#: How many bad lines an error message names before summarising the rest.
ERRORS_SHOWN = 20
#: Categories the log of use counts together (425.5.1(c)): stolen vehicle or plate is one.
LOG_CATEGORY = {
    HotlistCategory.STOLEN_VEHICLE.value: "stolen",
    HotlistCategory.STOLEN_PLATE.value: "stolen",
    HotlistCategory.WARRANT.value: "warrant",
    HotlistCategory.SUSPENDED_REVOKED.value: "suspended_revoked",
    HotlistCategory.INVESTIGATIVE.value: "investigative",
}


class HotlistError(ValueError):
    """The file or the source is refused; the message says why (and which lines)."""


class HotlistSourceRefused(HotlistError):
    """The source may not be loaded: no active investigation names it (425.4.1(b))."""


@dataclass(frozen=True)
class HotlistLoad:
    """What a load did, for the page or the CLI to report."""

    source: HotlistSource
    entries: int
    replaced: int
    by_category: dict[str, int]
    sha256: str


def _key(header: str) -> str:
    return header.strip().lower().replace(" ", "_").replace("-", "_")


def _columns(header: Sequence[str]) -> dict[str, int]:
    keys = [_key(h) for h in header]
    found: dict[str, int] = {}
    for column, aliases in COLUMN_ALIASES.items():
        for index, key in enumerate(keys):
            if key in aliases:
                found[column] = index
                break
    missing = [c for c in ("plate", "category") if c not in found]
    if missing:
        raise HotlistError(
            f"The header row must name the {' and '.join(missing)} column(s); "
            f"found: {', '.join(h.strip() for h in header) or 'nothing'}."
        )
    return found


def parse_hotlist(data: bytes) -> list[tuple[str, str, str | None]]:
    """(plate, category, reference) per row; any bad row refuses the whole file."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HotlistError("The file is not UTF-8 text.") from exc
    reader = csv.reader(io.StringIO(text))
    try:
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise HotlistError(
            f"Nothing was loaded: line {reader.line_num} is not valid CSV ({exc}); "
            "an unclosed quote is the usual cause."
        ) from None
    if not rows or not rows[0][1]:
        raise HotlistError("The file is empty: it needs a header row and at least one entry.")
    columns = _columns(rows[0][1])
    width = max(columns.values()) + 1
    entries: list[tuple[str, str, str | None]] = []
    errors: list[str] = []
    for line, row in rows[1:]:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < width:
            errors.append(f"line {line}: expected at least {width} columns, found {len(row)}")
            continue
        try:
            plate = normalise_plate(row[columns["plate"]])
        except FieldError as exc:
            errors.append(f"line {line}: plate {exc.message}")
            continue
        category = CATEGORY_ALIASES.get(_key(row[columns["category"]]))
        if category is None:
            errors.append(f"line {line}: unknown category {row[columns['category']].strip()!r}")
            continue
        reference = row[columns["reference"]].strip() if "reference" in columns else ""
        if len(reference) > REFERENCE_MAX:
            errors.append(f"line {line}: reference longer than {REFERENCE_MAX} characters")
            continue
        entries.append((plate, category, reference or None))
    if errors:
        more = f" (and {len(errors) - ERRORS_SHOWN} more)" if len(errors) > ERRORS_SHOWN else ""
        raise HotlistError(
            "Nothing was loaded; fix these lines: " + "; ".join(errors[:ERRORS_SHOWN]) + more
        )
    if not entries:
        raise HotlistError("The file has a header but no entries; nothing was loaded.")
    return entries


def _investigation_for(session: Session, case_number: str | None) -> Investigation:
    case_number = (case_number or "").strip()
    if not case_number:
        raise HotlistSourceRefused(
            "A hotlist other than the Minnesota license plate data file may be loaded only for "
            "an active criminal investigation (policy 425.4.1(b)): give its case number."
        )
    investigation = investigation_by_case_number(session, case_number)
    if investigation is None:
        raise HotlistSourceRefused(f"No investigation with case number {case_number!r}.")
    if investigation.status != InvestigationStatus.ACTIVE.value:
        raise HotlistSourceRefused(
            f"Investigation {case_number} is {investigation.status}; only an active criminal "
            "investigation allows another hotlist source (policy 425.4.1(b))."
        )
    return investigation


def _source_for(
    session: Session, source_name: str, case_number: str | None
) -> tuple[HotlistSource, Investigation | None]:
    source_name = source_name.strip()
    if not source_name or len(source_name) > 120:
        raise HotlistSourceRefused("A source name is 1 to 120 characters.")
    investigation = (
        None if source_name == MN_PLATE_FILE else _investigation_for(session, case_number)
    )
    source = session.scalars(
        select(HotlistSource).where(HotlistSource.name == source_name).with_for_update()
    ).first()
    if source is None:
        source = HotlistSource(
            name=source_name,
            kind=MN_PLATE_FILE if investigation is None else HotlistSourceKind.INVESTIGATION.value,
            investigation_id=investigation.id if investigation else None,
            entry_count=0,
        )
        session.add(source)
        session.flush()
    elif investigation is not None:
        source.investigation_id = investigation.id
    return source, investigation


def _bulk_insert(session: Session, source_id: int, rows: list[tuple[str, str, str | None]]) -> None:
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        with (
            driver.cursor() as cursor,
            cursor.copy(
                "COPY hotlist_entries (source_id, plate, category, reference) FROM STDIN"
            ) as copy,
        ):
            for plate, category, reference in rows:
                copy.write_row((source_id, plate, category, reference))
        # Fresh statistics, so the per-batch lookup keeps probing the plate index.
        connection.exec_driver_sql("ANALYZE hotlist_entries")
        return
    session.execute(
        insert(HotlistEntry),
        [{"source_id": source_id, "plate": p, "category": c, "reference": r} for p, c, r in rows],
    )


def load_hotlist(
    session: Session,
    actor: Any,
    data: bytes,
    *,
    source_name: str = MN_PLATE_FILE,
    case_number: str | None = None,
) -> HotlistLoad:
    """Replace a source's entries with the file's, atomically, and audit the load (425.4.1(b)).

    The whole file is checked before anything is touched; a refused file leaves the previous
    load in force. Raises :class:`HotlistError` with the reason (bad lines, no active
    investigation for a non-state source). Flushes; the caller commits.
    """
    rows = parse_hotlist(data)
    source, investigation = _source_for(session, source_name, case_number)
    replaced = source.entry_count
    session.execute(delete(HotlistEntry).where(HotlistEntry.source_id == source.id))
    _bulk_insert(session, source.id, rows)
    digest = hashlib.sha256(data).hexdigest()
    by_category = dict(sorted(Counter(category for _, category, _ in rows).items()))
    source.entry_count = len(rows)
    source.file_sha256 = digest
    source.loaded_at = utcnow()
    source.loaded_by_id = getattr(actor, "id", None)
    session.flush()
    record(
        session,
        actor,
        AuditAction.HOTLIST_LOADED,
        source,
        {
            "source": source.name,
            "kind": source.kind,
            "case_number": investigation.case_number if investigation else None,
            "entries": len(rows),
            "replaced_entries": replaced,
            "by_category": by_category,
            "file_sha256": digest,
        },
    )
    return HotlistLoad(source, len(rows), replaced, by_category, digest)


def sources_in_force(session: Session) -> dict[int, str]:
    """Lists reads may be matched with now, id to name: the state file, or an active case's.

    A list whose investigation has closed stops being matched at once (425.4.1(b)).
    """
    rows = session.execute(
        select(HotlistSource.id, HotlistSource.name)
        .outerjoin(Investigation, Investigation.id == HotlistSource.investigation_id)
        .where(
            HotlistSource.loaded_at.is_not(None),
            or_(
                HotlistSource.kind == MN_PLATE_FILE,
                Investigation.status == InvestigationStatus.ACTIVE.value,
            ),
        )
    )
    return dict(rows.tuples().all())


@dataclass(frozen=True)
class HotlistMatch:
    """One read's plate found on one source's list in one category."""

    read_id: int
    read_captured_at: datetime
    source_id: int
    source_name: str
    category: str
    reference: str | None


def find_matches(
    session: Session,
    reads: Iterable[tuple[int, datetime, str]],
    sources: dict[int, str] | None = None,
) -> list[HotlistMatch]:
    """Match (read id, captured at, plate) triples with the lists in force: ONE lookup.

    `sources` is :func:`sources_in_force` when the caller already has it. A plate listed twice
    in one category of one source gives one match.
    """
    by_plate: dict[str, list[tuple[int, datetime]]] = {}
    for read_id, captured_at, plate in reads:
        by_plate.setdefault(plate, []).append((read_id, captured_at))
    sources = sources_in_force(session) if sources is None else sources
    if not by_plate or not sources:
        return []
    rows = session.execute(
        select(
            HotlistEntry.plate,
            HotlistEntry.source_id,
            HotlistEntry.category,
            HotlistEntry.reference,
        )
        .where(
            text_in(session, HotlistEntry.plate, by_plate),
            HotlistEntry.source_id.in_(list(sources)),
        )
        .order_by(HotlistEntry.id)
    )
    matches: dict[tuple[int, int, str], HotlistMatch] = {}
    for plate, source_id, category, reference in rows:
        for read_id, captured_at in by_plate[plate]:
            matches.setdefault(
                (read_id, source_id, category),
                HotlistMatch(
                    read_id, captured_at, source_id, sources[source_id], category, reference
                ),
            )
    return list(matches.values())


def create_hits(
    session: Session, actor: Any, matches: Sequence[HotlistMatch]
) -> tuple[set[tuple[int, str]], list[PendingEntry]]:
    """Insert one Hit per match; returns the log-of-use pairs and the hits' audit entries.

    The pairs are (read id, log category), categories being stolen, warrant, suspended_revoked
    and investigative (425.5.1(c)): the log counts plates, not hits, so a read on two stolen
    lists is one stolen plate. The HIT_CREATED entries (one per hit, so each alert stays
    traceable) are returned for the caller to append with its own in one
    :func:`app.audit.services.record_many`; :func:`record_hits` appends them at once.
    """
    if not matches:
        return set(), []
    ids = session.scalars(
        insert(Hit).returning(Hit.id, sort_by_parameter_order=True),
        [
            {
                "read_id": m.read_id,
                "read_captured_at": m.read_captured_at,
                "source_id": m.source_id,
                "category": m.category,
                "hotlist_reference": m.reference,
            }
            for m in matches
        ],
    ).all()
    entries = [
        PendingEntry(
            actor,
            AuditAction.HIT_CREATED,
            ("hits", hit_id),
            {
                "read_id": match.read_id,
                "source": match.source_name,
                "category": match.category,
                "reference": match.reference,
            },
        )
        for hit_id, match in zip(ids, matches, strict=True)
    ]
    return {(m.read_id, category) for m, category in log_hits(matches)}, entries


def record_hits(
    session: Session, actor: Any, matches: Sequence[HotlistMatch]
) -> set[tuple[int, str]]:
    """Create the hits of `matches` and append their HIT_CREATED entries (:func:`create_hits`)."""
    pairs, entries = create_hits(session, actor, matches)
    record_many(session, entries)
    return pairs


def log_hits(matches: Iterable[HotlistMatch]) -> list[tuple[HotlistMatch, str]]:
    """The matches the log of use counts, each with its log category (425.5.1(c)).

    The log counts plates, not list entries: a read on two stolen lists is one stolen plate.
    """
    counted: dict[tuple[int, str], HotlistMatch] = {}
    for match in matches:
        counted.setdefault((match.read_id, LOG_CATEGORY[match.category]), match)
    return [(match, category) for (_, category), match in counted.items()]


def hotlist_sources(session: Session) -> list[tuple[HotlistSource, Investigation | None]]:
    """Every source with its last load and investigation, for the administrators' page."""
    rows = session.execute(
        select(HotlistSource, Investigation)
        .outerjoin(Investigation, Investigation.id == HotlistSource.investigation_id)
        .order_by(HotlistSource.name)
    )
    return [(source, investigation) for source, investigation in rows]


def sources_json(names: Iterable[str]) -> str:
    """The stored form of a period's compared sources: sorted, unique, JSON."""
    return json.dumps(sorted(set(names)))
