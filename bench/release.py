"""Benchmark building a release package (425.7) of 1,000,000 reads with bounded memory.

Run: .venv/bin/python bench/release.py [--reads 1000000] [--pictures 1000] [--batch-size 5000]
     [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

It creates a fresh PostgreSQL database (dropped at the end), builds the schema with `alembic
upgrade head`, gives the last days their partitions, and fills `reads` with `generate_series`:
`--reads` reads of one device over the last two days, each with a picture row (`--pictures`
distinct picture files written to a scratch image store, shared round-robin). An agency with a
profile and a user, and an approved request whose scope is that device over those two days,
are made through the ORM.

Then a child process (so its peak RSS is the build's alone) builds the package with the real
service (`app.requests.packages.build_package`, WeasyPrint cover letter, progress committed
after each batch as the job does) and reports wall time, the CSV phase's rate (reads written
into the CSV per second, from the first to the last batch), and its peak RSS (`ru_maxrss`),
also measured right before the build (imports and app). The baseline in the same run is
PostgreSQL's own `COPY (SELECT ...) TO STDOUT WITH CSV` of the same rows (the fastest way to
get them out as CSV), streamed to a file. Targets: peak RSS < 200 MB, >= 50,000 reads/s.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402

FILL_READS = """
INSERT INTO reads (device_id, plate, captured_at, latitude, longitude, plate_status, received_at)
SELECT :device, 'B' || i, :start + (i::float / :total) * interval '47 hours',
       44.05, -91.64, 'reported', :now
FROM generate_series(1, :total) AS i
"""
FILL_PICTURES = """
INSERT INTO read_images (read_id, read_captured_at, kind, sha256, content_type, byte_size,
                         width, height, created_at)
SELECT r.id, r.captured_at, 'plate', d.digests[1 + r.id % :count], 'image/jpeg', :size,
       520, 260, :now
FROM reads r CROSS JOIN (SELECT CAST(:digests AS text[]) AS digests) d
"""
BASELINE = (
    "COPY (SELECT id, captured_at, plate, latitude, longitude, device_id FROM reads "
    "WHERE device_id = {device} ORDER BY captured_at, id) TO STDOUT WITH CSV HEADER"
)


def migrate(url: str) -> None:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["database_url"] = url
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")


def settings(url: str, scratch: Path) -> dict:
    return {
        "DATABASE_URL": url,
        "REDIS_URL": None,
        "IMAGE_STORE": str(scratch / "images"),
        "DOCUMENT_STORE": str(scratch / "documents"),
        "RELEASE_STORE": str(scratch / "releases"),
    }


def write_pictures(store: Path, count: int) -> tuple[list[str], int]:
    """`count` distinct picture files of 3 KiB in the content-addressed store; their digests."""
    from app.core.storage import content_path

    digests = []
    for n in range(count):
        data = hashlib.sha256(str(n).encode()).digest() * 96  # 3 KiB, distinct per n
        digest = hashlib.sha256(data).hexdigest()
        path = content_path(store, digest)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        digests.append(digest)
    return digests, 3072


def fill(url: str, scratch: Path, reads: int, pictures: int) -> tuple[int, int]:
    """The reads, their picture rows, and an approved request over them; (package id, device)."""
    from app import create_app
    from app.auth.models import Agency, Role, User, UserRole
    from app.jobs.services import create_run
    from app.reads.models import Device
    from app.reads.partitions import create_day_partitions
    from app.requests.models import (
        AgencyProfile,
        AgencyRequest,
        AgencyRequestDevice,
        ReleasePackage,
    )
    from app.retention.models import StoredDocument

    app = create_app(settings(url, scratch))
    now = datetime.now(UTC)
    start = now - timedelta(hours=48)
    with app.app_context():
        session = app.extensions["alpr_sessionmaker"]()
        create_day_partitions(session, (now.date() - timedelta(days=n) for n in range(-1, 4)))
        device = Device(serial="BENCH-CAM", kind="mobile")
        agency = Agency(name="Bench County Sheriff")
        session.add_all([device, agency])
        session.flush()
        chief = User(
            email="chief@bench.example.com",
            name="Deputy Chief",
            password_hash="x",
            role_rows=[UserRole(role=Role.DEPUTY_CHIEF.value)],
        )
        requester = User(
            email="det@bench.example.com",
            name="Detective",
            password_hash="x",
            agency_id=agency.id,
            role_rows=[UserRole(role=Role.AGENCY.value)],
        )
        letter = StoredDocument(
            sha256="0" * 64, content_type="application/pdf", byte_size=1, original_name="l.pdf"
        )
        session.add_all(
            [
                chief,
                requester,
                letter,
                AgencyProfile(agency_id=agency.id, kind="law_enforcement", head_name="Sheriff"),
            ]
        )
        session.flush()
        request = AgencyRequest(
            status="approved",
            agency_id=agency.id,
            submitted_by_id=requester.id,
            requester_name="Detective",
            purpose="Bench",
            factual_basis="Bench",
            case_number="BENCH-1",
            authorised_by_name="Sheriff",
            authorised_by_role="head",
            letter_sha256=letter.sha256,
            window_start=start - timedelta(hours=1),
            window_end=now,
            devices=[AgencyRequestDevice(device_id=device.id)],
            finding="Bench finding of reasonable suspicion that the data is pertinent.",
            active_investigation="BENCH-1",
            decided_by_id=chief.id,
            decided_at=now,
        )
        session.add(request)
        session.flush()
        run = create_run(session, "build_release_package", chief.id)
        package = ReleasePackage(request_id=request.id, job_run_id=run.id, requested_by_id=chief.id)
        session.add(package)
        session.commit()
        digests, size = write_pictures(Path(app.config["IMAGE_STORE"]), pictures)
        began = time.perf_counter()
        session.execute(
            text(FILL_READS),
            {"device": device.id, "start": start, "total": reads, "now": now - timedelta(hours=1)},
        )
        session.execute(
            text(FILL_PICTURES),
            {"digests": digests, "count": len(digests), "size": size, "now": now},
        )
        session.commit()
        session.execute(text("ANALYZE"))
        print(
            f"filled {reads:,} reads with a picture row each in {time.perf_counter() - began:.0f} s"
        )
        ids = (package.id, device.id)
        session.close()
    app.extensions["alpr_engine"].dispose()
    return ids


def memory_kib() -> tuple[int, int]:
    """(current RSS, peak RSS) of this process in KiB, from /proc/self/status."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def child(url: str, scratch: Path, package_id: int, batch: int, mode: str) -> None:
    """Build the package here and print what it took (JSON on the last line).

    `mode` "worker": inside the whole app, as the RQ worker runs it (the app's imports
    included: OCR's OpenCV among them). "service": the service alone, with a session that
    carries its settings, to show what the build needs.
    """
    from app.jobs.models import JobRun
    from app.requests import packages
    from app.requests.cover_letter import cover_letter_pdf
    from app.requests.models import ReleasePackage

    config = settings(url, scratch)
    if mode == "worker":
        from app import create_app

        app = create_app(config)
        context = app.app_context()
        context.push()
        session = app.extensions["alpr_sessionmaker"]()
    else:
        from sqlalchemy.orm import sessionmaker

        from app.config import load_settings
        from app.db import ServiceSettings, make_engine

        keys = load_settings()
        service = ServiceSettings.from_config({**keys, **config})
        session = sessionmaker(
            bind=make_engine(url), expire_on_commit=False, info={"settings": service}
        )()
    package = session.get(ReleasePackage, package_id)
    run = session.get(JobRun, package.job_run_id)
    rss_before, _ = memory_kib()
    csv_done: list[float] = []
    add_stream = packages._Archive.add_stream

    def timed_add_stream(self, name, source, *, compress):
        if name == "reads.csv":
            csv_done.append(time.perf_counter())
        return add_stream(self, name, source, compress=compress)

    packages._Archive.add_stream = timed_add_stream

    def progress(percent: int) -> None:
        run.progress = percent
        session.commit()

    began = time.perf_counter()
    packages.build_package(
        session,
        package,
        store=config["RELEASE_STORE"],
        link_days=7,
        cover_letter=cover_letter_pdf,
        progress=progress,
        batch_size=batch,
    )
    session.commit()
    seconds = time.perf_counter() - began
    rss_after, rss_peak = memory_kib()
    print(
        json.dumps(
            {
                "reads": package.read_count,
                "images": package.image_count,
                "bytes": package.byte_size,
                "file": str(Path(config["RELEASE_STORE"]) / package.file_name),
                "seconds": seconds,
                "csv_seconds": csv_done[0] - began,
                "rss_before_kib": rss_before,
                "rss_after_kib": rss_after,
                "rss_peak_kib": rss_peak,
            }
        )
    )


def reset_package(url: str, package_id: int) -> None:
    """Let the same package be built again: the request approved, the package not built."""
    engine = create_engine(url)
    with engine.begin() as conn:
        request_id = conn.scalar(
            text("SELECT request_id FROM release_packages WHERE id = :p"), {"p": package_id}
        )
        conn.execute(
            text(
                "UPDATE release_packages SET built_at = NULL, file_name = NULL, sha256 = NULL, "
                "byte_size = NULL, read_count = NULL, image_count = NULL, expires_at = NULL "
                "WHERE id = :p"
            ),
            {"p": package_id},
        )
        conn.execute(
            text("UPDATE agency_requests SET status = 'approved' WHERE id = :r"),
            {"r": request_id},
        )
    engine.dispose()


def baseline(url: str, device: int, target: Path) -> float:
    """PostgreSQL's own COPY of the same rows to CSV, streamed to a file; seconds."""
    import psycopg

    began = time.perf_counter()
    connection = psycopg.connect(url.replace("postgresql+psycopg", "postgresql"))
    cursor = connection.cursor()
    query = BASELINE.format(device=int(device))
    with connection, cursor, target.open("wb") as out, cursor.copy(query) as copy:
        for chunk in copy:
            out.write(chunk)
    return time.perf_counter() - began


def verify(path: Path) -> int:
    """Read the ZIP back: every file's SHA-256 against the manifest; returns files checked."""
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        for entry in manifest["files"]:
            digest = hashlib.sha256()
            with archive.open(entry["name"]) as handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
            assert digest.hexdigest() == entry["sha256"], entry["name"]
        return len(manifest["files"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reads", type=int, default=1_000_000)
    parser.add_argument("--pictures", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--child", nargs=4, metavar=("URL", "SCRATCH", "PACKAGE", "MODE"))
    args = parser.parse_args()
    if args.child:
        url, scratch, package_id, mode = args.child
        child(url, Path(scratch), int(package_id), args.batch_size, mode)
        return

    name = f"alpr_bench_release_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = args.pg.rsplit("/", 1)[0] + f"/{name}"
    scratch = Path(tempfile.mkdtemp(prefix="alpr-bench-release-"))
    os.environ["ALPR_INSTANCE_PATH"] = str(scratch / "instance")
    load = os.getloadavg()[0]
    try:
        migrate(url)
        package_id, device = fill(url, scratch, args.reads, args.pictures)
        results = {}
        for mode in ("service", "worker"):
            if mode == "worker":
                reset_package(url, package_id)
            built = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--batch-size",
                    str(args.batch_size),
                    "--child",
                    url,
                    str(scratch),
                    str(package_id),
                    mode,
                ],
                capture_output=True,
                text=True,
                check=False,
                env={**os.environ},
            )
            if built.returncode != 0:
                raise SystemExit(built.stderr[-3000:])
            results[mode] = json.loads(built.stdout.strip().splitlines()[-1])
        copy_seconds = baseline(url, device, scratch / "baseline.csv")
        print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {load:.2f} at the start")
        for mode, result in results.items():
            checked = verify(Path(result["file"]))
            reads = result["reads"]
            print(
                f"[{mode}] package: {reads:,} reads, {result['images']:,} distinct pictures "
                f"({args.reads:,} picture rows), ZIP {result['bytes'] / 1048576:,.1f} MiB, "
                f"{checked:,} files verified against the manifest"
            )
            print(
                f"[{mode}] build: {result['seconds']:.1f} s in all; CSV written in "
                f"{result['csv_seconds']:.1f} s = {reads / result['csv_seconds']:,.0f} reads/s "
                f"(whole build, cover letter and ZIP included: "
                f"{reads / result['seconds']:,.0f} reads/s)"
            )
            print(
                f"[{mode}] RSS: peak {result['rss_peak_kib'] / 1024:.0f} MB; "
                f"{result['rss_before_kib'] / 1024:.0f} MB before the build, "
                f"{result['rss_after_kib'] / 1024:.0f} MB after"
            )
        reads = results["service"]["reads"]
        print(
            f"baseline: COPY ... TO STDOUT WITH CSV of the same rows {copy_seconds:.1f} s = "
            f"{reads / copy_seconds:,.0f} rows/s"
        )
        print("targets: peak RSS < 200 MB, >= 50,000 reads/s into the CSV")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        subprocess.run(["rm", "-rf", str(scratch)], check=False)


if __name__ == "__main__":
    main()
