"""Release packages (425.7): an approved request's data, built by a job into a ZIP on disk.

The ZIP is streamed to a file, never held in memory: the reads go in batches (keyset order on
``(captured_at, id)``) into a CSV spooled on disk beside it, each picture is copied into the
archive once (content-addressed, ``images/<sha256>.<ext>``), then the CSV, a cover letter PDF
naming the request, the approval and the finding, and ``manifest.json`` with the SHA-256 and size
of every other file. Memory grows with the pictures named (one archive entry each), not with
the reads.

It holds what existed when the build started: reads received later are not added, reads
destroyed meanwhile are gone from their batch, and what the release rules withhold (ACP,
undecided plates: :mod:`app.requests.scope`) is never read. The building and every download
are audited as dissemination with the read count, on the request's timeline.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import secrets
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import BigInteger, any_, bindparam, func, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from app.audit.actions import AuditAction
from app.audit.services import record
from app.auth.models import Agency, User
from app.core.refusal import Refusal
from app.core.timeutil import format_local
from app.db import utcnow
from app.jobs.models import JobRun, JobStatus
from app.jobs.services import create_run
from app.reads.bulk import on_postgresql
from app.reads.image_store import ImageMissing, ImageStore
from app.reads.images import store_of
from app.reads.models import Device, Read, ReadImage
from app.requests.models import AgencyRequest, ReleasePackage, RequestStatus
from app.requests.notifications import notify_package_ready
from app.requests.permissions import REQUEST_PERMISSIONS, RequestAction
from app.requests.scope import RequestScope, scope_clauses
from app.requests.workflow import (
    AgencyRequestMachine,  # noqa: F401  (declares the machine take_step uses)
)
from app.workflow.step import lock_subject, take_step

JOB_NAME = "build_release_package"
CLEANUP_ACTOR = "system:release-cleanup"
#: Requests whose data may be (re)packaged: approved, or fulfilled by an earlier package.
RELEASABLE = (RequestStatus.APPROVED.value, RequestStatus.FULFILLED.value)
CSV_HEADER = ("read_id", "captured_at_utc", "plate", "latitude", "longitude", "source", "images")
BATCH_SIZE = 5000
CHUNK = 1 << 20
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
#: A build's temporary file left by a crash is removed by the cleanup after this long.
STALE_BUILD = timedelta(days=1)
STATEMENT = (
    "This package holds the ALPR data the department held when it was built: data destroyed "
    "before then (the 60-day retention rule, Address Confidentiality Program requests) is not "
    "in it, and data collected later is not added. ALPR data may be used only for the official "
    "law-enforcement purpose stated in the request (Minn. Stat. § 13.824, policy 425.7)."
)


class PackageError(Refusal):
    """A package that cannot be started or downloaded, with a reason and an HTTP status."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class PackageFile:
    """One file the archive holds, as the manifest lists it."""

    name: str
    sha256: str
    size: int


# --- starting a build ------------------------------------------------------------------------


def building_package(session: Session, request: AgencyRequest) -> ReleasePackage | None:
    """The request's package whose job is queued or running, if any."""
    return session.scalars(
        select(ReleasePackage)
        .join(JobRun, JobRun.id == ReleasePackage.job_run_id)
        .where(
            ReleasePackage.request_id == request.id,
            ReleasePackage.built_at.is_(None),
            JobRun.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value]),
        )
    ).first()


def start_package(
    session: Session, actor: User, request: AgencyRequest
) -> tuple[ReleasePackage, bool]:
    """Record a package to build for an approved request, with its job's tracking row.

    Returns it and whether it is new: the caller commits, then enqueues the job of a new one.
    A build already under way is returned instead (the button pressed twice). Raises
    PackageError for anyone who may not build one, or a request that is not approved.
    """
    if not REQUEST_PERMISSIONS.allows(actor, RequestAction.BUILD_PACKAGE):
        raise PackageError(
            "Only the Deputy Chief, designee or ALPR administrator build a release package.", 403
        )
    lock_subject(session, request)
    if request.status not in RELEASABLE:
        raise PackageError("Only an approved request's data is released (425.7(b)).")
    running = building_package(session, request)
    if running is not None:
        return running, False
    package = ReleasePackage(request_id=request.id, requested_by_id=actor.id)
    session.add(package)
    session.flush()
    run = create_run(session, JOB_NAME, actor.id, request_id=request.id, package_id=package.id)
    package.job_run_id = run.id
    session.flush()
    return package, True


# --- building it -------------------------------------------------------------------------


def _ids_in(session: Session, column: Any, ids: Sequence[int]) -> Any:
    """``column IN ids`` as one array parameter on PostgreSQL (app.reads.bulk explains why)."""
    if on_postgresql(session):
        return column == any_(bindparam(None, list(ids), type_=ARRAY(BigInteger())))
    return column.in_(list(ids))


def _batches(
    session: Session, scope: RequestScope, received_by: datetime, size: int
) -> Iterator[list[Any]]:
    """The scope's reads received by `received_by`, in (captured_at, id) order, `size` a time.

    Each batch is its own short query (keyset, not OFFSET), so the build holds no long
    transaction and a read destroyed before its batch is read is not in the package.
    """
    columns = (
        Read.id,
        Read.captured_at,
        Read.plate,
        Read.latitude,
        Read.longitude,
        Read.device_id,
        Read.source_agency_id,
    )
    where = [*scope_clauses(scope), Read.received_at <= received_by]
    after: tuple[datetime, int] | None = None
    while True:
        query = select(*columns).where(*where)
        if after is not None:
            query = query.where(tuple_(Read.captured_at, Read.id) > tuple_(*after))
        rows = session.execute(query.order_by(Read.captured_at, Read.id).limit(size)).all()
        if not rows:
            return
        yield rows
        after = (rows[-1].captured_at, rows[-1].id)
        if len(rows) < size:
            return


def _pictures(session: Session, rows: Sequence[Any]) -> dict[int, list[tuple[str, str]]]:
    """Each read's pictures as (digest, content type), for one batch of reads."""
    found: dict[int, list[tuple[str, str]]] = {}
    query = select(ReadImage.read_id, ReadImage.sha256, ReadImage.content_type).where(
        _ids_in(session, ReadImage.read_id, [row.id for row in rows]),
        ReadImage.read_captured_at.between(rows[0].captured_at, rows[-1].captured_at),
    )
    for read_id, sha256, content_type in session.execute(query.order_by(ReadImage.kind)):
        found.setdefault(read_id, []).append((sha256, content_type))
    return found


class _Archive:
    """The ZIP being written, and the digest and size of every file put in it."""

    def __init__(self, path: Path, built_at: datetime) -> None:
        self.zip = zipfile.ZipFile(path, "w", allowZip64=True)
        self.stamp = built_at.timetuple()[:6]
        self.files: list[PackageFile] = []

    def add_stream(self, name: str, source: BinaryIO, *, compress: bool) -> PackageFile:
        info = zipfile.ZipInfo(name, date_time=self.stamp)
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        info.external_attr = 0o600 << 16
        digest, size = hashlib.sha256(), 0
        with self.zip.open(info, "w", force_zip64=True) as out:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
        entry = PackageFile(name, digest.hexdigest(), size)
        self.files.append(entry)
        return entry

    def add_bytes(self, name: str, data: bytes, *, compress: bool = True) -> PackageFile:
        return self.add_stream(name, io.BytesIO(data), compress=compress)

    def close(self, manifest: dict[str, Any]) -> None:
        info = zipfile.ZipInfo("manifest.json", date_time=self.stamp)
        info.compress_type = zipfile.ZIP_DEFLATED
        self.zip.writestr(info, json.dumps(manifest, indent=2, ensure_ascii=False))
        self.zip.close()


def _file_digest(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _sources(session: Session) -> tuple[dict[int, str], dict[int, str]]:
    devices = {d: s for d, s in session.execute(select(Device.id, Device.serial))}
    agencies = {a: n for a, n in session.execute(select(Agency.id, Agency.name))}
    return devices, agencies


class _Pictures:
    """Copies each picture into the archive once, by digest; knows which ones it holds."""

    def __init__(self, archive: _Archive, store: ImageStore) -> None:
        self.archive = archive
        self.store = store
        self.packaged: set[str] = set()

    def add(self, name: str) -> bool:
        """Put ``images/<sha256>.<ext>`` in the archive unless there; False if its file is gone.

        A picture destroyed while the package was being built is then listed by no read.
        """
        sha256 = name[7:71]
        if sha256 in self.packaged:
            return True
        try:
            self.archive.add_bytes(name, self.store.get(sha256), compress=False)
        except (ImageMissing, ValueError):
            return False
        self.packaged.add(sha256)
        return True


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def _batched_rows(
    session: Session,
    scope: RequestScope,
    started: datetime,
    spool: BinaryIO,
    pictures: _Pictures,
    progress: Callable[[int, int], None] | None,
    total: int,
    batch_size: int,
) -> int:
    """The CSV rows in keyset batches (any database); returns how many reads were written."""
    devices, agencies = _sources(session)
    text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
    writer = csv.writer(text, lineterminator="\n")
    reads = done = 0
    for rows in _batches(session, scope, started, batch_size):
        named = _pictures(session, rows)
        for row in rows:
            names = [
                name
                for sha256, content_type in named.get(row.id, ())
                if pictures.add(name := f"images/{sha256}.{EXTENSIONS.get(content_type, 'bin')}")
            ]
            source = (
                devices.get(row.device_id, f"device {row.device_id}")
                if row.device_id is not None
                else f"shared by {agencies.get(row.source_agency_id, 'another agency')}"
            )
            writer.writerow(
                (
                    row.id,
                    _utc_text(row.captured_at),
                    row.plate,
                    row.latitude,
                    row.longitude,
                    source,
                    ";".join(names),
                )
            )
            reads += 1
        done += len(rows)
        if progress is not None:
            progress(done, total)
    text.flush()
    text.detach()
    return reads


#: PostgreSQL writes the CSV rows itself (COPY), the pictures' names aggregated per read.
COPY_ROWS = """
COPY (
  SELECT r.id,
         to_char(r.captured_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'),
         r.plate, r.latitude, r.longitude,
         regexp_replace(COALESCE(d.serial, 'shared by ' || COALESCE(a.name, 'another agency')),
                        '[\r\n]+', ' ', 'g'),
         (SELECT string_agg('images/' || i.sha256 || '.' || CASE i.content_type
                              WHEN 'image/jpeg' THEN 'jpg' WHEN 'image/png' THEN 'png'
                              WHEN 'image/webp' THEN 'webp' ELSE 'bin' END, ';' ORDER BY i.kind)
            FROM read_images i
           WHERE i.read_id = r.id AND i.read_captured_at = r.captured_at)
    FROM ({reads}) AS r
    LEFT JOIN devices d ON d.id = r.device_id
    LEFT JOIN agencies a ON a.id = r.source_agency_id
   ORDER BY r.captured_at, r.id
) TO STDOUT WITH (FORMAT csv)
"""
#: Progress is told every this many rows of the COPY.
COPY_PROGRESS_EVERY = 50_000


def _copy_rows(
    session: Session,
    scope: RequestScope,
    started: datetime,
    spool: BinaryIO,
    pictures: _Pictures,
    progress: Callable[[int, int], None] | None,
    total: int,
    batch_size: int,
) -> int:
    """The CSV rows as PostgreSQL's COPY writes them (one statement, one snapshot).

    Python only reads each line's pictures' names (copied into the archive once; one whose
    file is gone is taken off its line). The COPY runs on a connection
    of its own, so the job's session can commit the progress meanwhile.
    """
    reads_query = select(
        Read.id,
        Read.captured_at,
        Read.plate,
        Read.latitude,
        Read.longitude,
        Read.device_id,
        Read.source_agency_id,
    ).where(*scope_clauses(scope), Read.received_at <= started)
    compiled = reads_query.compile(
        dialect=session.get_bind().dialect, compile_kwargs={"render_postcompile": True}
    )
    statement = COPY_ROWS.replace("{reads}", str(compiled))
    reads = lines = 0
    report_at = COPY_PROGRESS_EVERY
    tail = b""
    connection = session.get_bind().raw_connection()
    try:
        cursor = connection.driver_connection.cursor()
        with cursor, cursor.copy(statement, compiled.params) as copy:
            for chunk in copy:
                *complete, tail = (tail + bytes(chunk)).split(b"\n")
                for line in complete:
                    reads += _copy_line(line, spool, pictures)
                lines += len(complete)
                if progress is not None and lines >= report_at:
                    progress(lines, total)
                    report_at = lines + COPY_PROGRESS_EVERY
        connection.driver_connection.rollback()
    finally:
        connection.close()
    if tail:
        reads += _copy_line(tail, spool, pictures)
    return reads


def _copy_line(line: bytes, spool: BinaryIO, pictures: _Pictures) -> int:
    """Write one COPY line, its pictures in the archive; 1 (a read written)."""
    head, _, images = line.rpartition(b",")
    if images:
        names = images.decode().split(";")
        kept = [name for name in names if pictures.add(name)]
        if len(kept) != len(names):
            line = head + b"," + ";".join(kept).encode()
    spool.write(line + b"\n")
    return 1


def cover_facts(
    request: AgencyRequest,
    package_id: int,
    *,
    built_at: datetime,
    expires_at: datetime,
    read_count: int,
    image_count: int,
) -> dict[str, Any]:
    """What the cover letter says: the request, the approval, the finding, what is enclosed."""
    return {
        "request": request,
        "package_id": package_id,
        "read_count": read_count,
        "image_count": image_count,
        "approved_by": request.decided_by.name if request.decided_by else "",
        "decided_at": format_local(request.decided_at),
        "submitted_at": format_local(request.submitted_at),
        "window": f"{format_local(request.window_start)} – {format_local(request.window_end)}",
        "built_at": format_local(built_at),
        "expires_at": format_local(expires_at),
        "statement": STATEMENT,
    }


def build_package(
    session: Session,
    package: ReleasePackage,
    *,
    store: str | Path,
    link_days: int,
    cover_letter: Callable[[dict[str, Any]], bytes],
    progress: Callable[[int, int], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> ReleasePackage:
    """Build `package`'s ZIP under `store`, audit it as dissemination, fulfil its request.

    `cover_letter` renders the cover letter's PDF from :func:`cover_facts`; `progress` is told
    how many reads of how many are done after each batch (the job commits it, so the page can
    show it). Nothing is left on disk if the build fails. Flushes; the caller commits.
    """
    request = package.request
    actor = session.get(User, package.requested_by_id) if package.requested_by_id else None
    if request.status not in RELEASABLE:
        raise PackageError("The request is no longer approved: nothing is released.")
    scope = RequestScope.of(request)
    started = utcnow()
    where = [*scope_clauses(scope), Read.received_at <= started]
    total = session.scalar(select(func.count()).select_from(Read).where(*where)) or 0
    folder = Path(store)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    # A build whose worker was killed left its half archive (reads and pictures) behind; the
    # rebuild removes it, so no copy of the data outlives the package's own expiry or a purge.
    for leftover in folder.glob(f".building-{package.id}-*"):
        leftover.unlink(missing_ok=True)
    temporary = folder / f".building-{package.id}-{secrets.token_hex(4)}"
    archive = _Archive(temporary, started)
    try:
        with tempfile.TemporaryFile(dir=folder) as spool:
            pictures = _Pictures(archive, store_of(session))
            spool.write((",".join(CSV_HEADER) + "\n").encode())
            rows = _copy_rows if on_postgresql(session) else _batched_rows
            reads = rows(session, scope, started, spool, pictures, progress, total, batch_size)
            spool.seek(0)
            archive.add_stream("reads.csv", spool, compress=True)
        counts = {"read_count": reads, "image_count": len(pictures.packaged)}
        expires = started + timedelta(days=link_days)
        facts = cover_facts(request, package.id, built_at=started, expires_at=expires, **counts)
        archive.add_bytes("cover-letter.pdf", cover_letter(facts))
        archive.close(_manifest(request, package.id, scope, started, counts, archive.files))
        digest, size = _file_digest(temporary)
        name = f"alpr-release-request-{request.id}-package-{package.id}.zip"
        os.replace(temporary, folder / name)
    except BaseException:
        archive.zip.close()
        temporary.unlink(missing_ok=True)
        raise
    package.built_at, package.expires_at = started, expires
    package.read_count, package.image_count = reads, len(pictures.packaged)
    package.file_name, package.sha256, package.byte_size = name, digest, size
    session.flush()
    record(
        session,
        actor or "system:release",
        AuditAction.RELEASE_PACKAGE_BUILT,
        request,
        {
            "dissemination": True,
            "package_id": package.id,
            "agency_id": request.agency_id,
            "read_count": reads,
            "image_count": len(pictures.packaged),
            "sha256": digest,
            "expires_at": package.expires_at.isoformat(),
        },
    )
    if request.status == RequestStatus.APPROVED.value:
        take_step(
            session,
            actor,
            request,
            "fulfil",
            audit_action=AuditAction.AGENCY_REQUEST_FULFILLED,
            changes={"fulfilled_at": started},
            details={"package_id": package.id},
            package_sha256=digest,
        )
    notify_package_ready(session, package)
    return package


def _manifest(
    request: AgencyRequest,
    package_id: int,
    scope: RequestScope,
    built_at: datetime,
    counts: dict[str, int],
    files: Sequence[PackageFile],
) -> dict[str, Any]:
    return {
        "request": request.id,
        "package": package_id,
        "agency": request.agency.name,
        "case_number": request.case_number,
        "built_at": built_at.isoformat(),
        "statement": STATEMENT,
        "scope": scope.summary(),
        **counts,
        "files": [{"name": f.name, "sha256": f.sha256, "bytes": f.size} for f in files],
    }


# --- downloading and expiring --------------------------------------------------------------


def package_file(store: str | Path, package: ReleasePackage) -> Path:
    """Where a built package's ZIP lives."""
    return Path(store) / (package.file_name or "")


def download_package(
    session: Session, actor: User, package_id: int, now: datetime
) -> ReleasePackage:
    """Hand a built package to a user of the requesting agency, audited as dissemination.

    Raises PackageError (404) for a package that does not exist, is not built, or is another
    agency's, and (410) for one whose link has expired; a refusal of an existing package is
    audited (the caller commits it).
    """
    package = session.get(ReleasePackage, package_id)
    if package is None or package.built_at is None:
        raise PackageError("No such release package.", 404)
    mine = REQUEST_PERMISSIONS.allows(actor, RequestAction.DOWNLOAD) and (
        actor.agency_id == package.request.agency_id
    )
    if not mine or not package.is_downloadable(now):
        reason = "another agency's package" if not mine else "the link has expired"
        record(
            session,
            actor,
            AuditAction.RELEASE_DOWNLOAD_REFUSED,
            package.request,
            {"package_id": package.id, "reason": reason},
        )
        if not mine:
            raise PackageError("No such release package.", 404)
        raise PackageError(
            f"This download link expired on {format_local(package.expires_at)}. Ask the "
            "department to build the package again if the request is still open.",
            410,
        )
    record(
        session,
        actor,
        AuditAction.RELEASE_PACKAGE_DOWNLOADED,
        package.request,
        {
            "dissemination": True,
            "package_id": package.id,
            "agency_id": package.request.agency_id,
            "read_count": package.read_count,
            "sha256": package.sha256,
        },
    )
    return package


def expire_packages(session: Session, store: str | Path, now: datetime) -> list[Path]:
    """Mark every package past its link's expiry as deleted; returns the files to delete.

    The caller commits, then deletes the files (a crash in between leaves a file the next
    run deletes again, never a row that names a file it lost). Temporary files of builds that
    died are returned too once they are a day old.
    """
    doomed: list[Path] = []
    expired = session.scalars(
        select(ReleasePackage).where(
            ReleasePackage.file_deleted_at.is_(None),
            ReleasePackage.expires_at <= now,
        )
    ).all()
    for package in expired:
        package.file_deleted_at = now
        doomed.append(package_file(store, package))
        record(
            session,
            CLEANUP_ACTOR,
            AuditAction.RELEASE_PACKAGE_EXPIRED,
            package.request,
            {"package_id": package.id, "expired_at": package.expires_at.isoformat()},
        )
    folder = Path(store)
    if folder.is_dir():
        limit = time.time() - STALE_BUILD.total_seconds()
        doomed += [
            path
            for path in folder.glob(".building-*")
            if path.is_file() and path.stat().st_mtime < limit
        ]
    return doomed


def packages_of(session: Session, request: AgencyRequest) -> list[ReleasePackage]:
    """The request's packages, newest first."""
    return list(
        session.scalars(
            select(ReleasePackage)
            .where(ReleasePackage.request_id == request.id)
            .order_by(ReleasePackage.id.desc())
        )
    )
