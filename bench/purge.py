"""Benchmark the retention purge on PostgreSQL against the cheapest bulk delete of the same rows.

Run: .venv/bin/python bench/purge.py [--sizes 2500000,5000000] [--expired 1000000]
     [--held 0.01] [--images 0] [--hits 0] [--batch-size 50000]
     [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test]

For each table size it creates a fresh database (dropped at the end), builds the schema with
`alembic upgrade head`, gives every collection day of the data its partition (as the daily
purge would have made them ahead of time), fills `reads` with `generate_series` (the expired
rows spread over 61-90 days old, the rest over the last 59 days; `--held` of the expired rows
come from a device an active investigation's hold covers; `--images` and `--hits` of all
reads get a picture row and a hit), then times `destroy_expired_reads` (the real service: day
swaps, row batches, audit entries, tombstone bookkeeping) with the time spent in each kind of
statement (the rest is Python). Then it refills the same rows and times the baseline, one
`DELETE FROM reads WHERE captured_at < cutoff AND device_id <> held device`, and once more with
the foreign-key triggers switched off (a bench-only reference showing what the row-by-row
ON DELETE CASCADE triggers cost). Prints one block per size; the cost that matters is seconds
per million expired reads and whether it stays flat as the table grows.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402

from app.reads.partitions import create_day_partitions  # noqa: E402
from app.retention.policy import retention_cutoff  # noqa: E402
from app.retention.purge import destroy_expired_reads  # noqa: E402

FILL = """
INSERT INTO reads (device_id, plate, captured_at, latitude, longitude, plate_status, received_at)
SELECT CASE WHEN i <= :expired AND i % :held_every = 0 THEN :held_device ELSE :device END,
       'B' || i,
       CASE WHEN i <= :expired
            THEN :now - interval '61 days' - (i::float / :expired) * interval '29 days'
            ELSE :now - ((i - :expired)::float / (:total - :expired)) * interval '59 days' END,
       44.05, -91.64, 'reported', :now
FROM generate_series(1, :total) AS i
"""


FILL_IMAGES = """
INSERT INTO read_images (read_id, read_captured_at, kind, sha256, content_type, byte_size,
                         width, height, created_at)
SELECT id, captured_at, 'plate', md5(id::text) || md5(id::text), 'image/jpeg', 1, 1, 1, :now
FROM reads WHERE id % :every = 0
"""
FILL_HITS = """
INSERT INTO hits (read_id, read_captured_at, source_id, category, status, created_at, updated_at)
SELECT id, captured_at, :source, 'warrant', 'new', :now, :now FROM reads WHERE id % :every = 0
"""


def statement_kind(statement: str) -> str:
    """Bucket a statement by verb and table ("DELETE reads", "SELECT reads", ...)."""
    words = statement.split()
    verb = words[0].upper() if words else "?"
    for table in ("purge_runs", "image_tomb", "audit", "holds", "hits", "read_images", "reads"):
        if table in statement.split("WHERE")[0]:
            return f"{verb} {table}"
    return f"{verb} other"


def time_statements(engine: Engine) -> dict[str, float]:
    """Seconds spent in the database per statement kind (the rest of a run is Python)."""
    spent: dict[str, float] = defaultdict(float)

    @event.listens_for(engine, "before_cursor_execute")
    def before(conn, cursor, statement, params, context, many):
        conn.info["bench_started"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def after(conn, cursor, statement, params, context, many):
        spent[statement_kind(statement)] += time.perf_counter() - conn.info["bench_started"]

    return spent


def migrate(url: str) -> None:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["database_url"] = url
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")


def run_size(
    admin_url: str, total: int, expired: int, held: float, images: float, hits: float, batch: int
) -> str:
    """Fill a fresh database of `total` reads, time the purge and the baselines on it."""
    name = f"alpr_bench_purge_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        migrate(url)
        from app import create_app

        app = create_app({"DATABASE_URL": url, "REDIS_URL": None})
        engine = app.extensions["alpr_engine"]
        sessions = app.extensions["alpr_sessionmaker"]
        now = datetime.now(UTC)
        cutoff = retention_cutoff(now, 60)
        with engine.begin() as conn:
            device, held_device = (
                conn.execute(
                    text(
                        "INSERT INTO devices (serial, kind, status, description, created_at) "
                        "VALUES (:s, 'mobile', 'active', '', :now) RETURNING id"
                    ),
                    {"s": serial, "now": now},
                ).scalar_one()
                for serial in ("BENCH-1", "BENCH-HELD")
            )
            source = conn.execute(
                text(
                    "INSERT INTO hotlist_sources (name, kind, entry_count, created_at) "
                    "VALUES ('mn', 'mn_plate_file', 0, :now) RETURNING id"
                ),
                {"now": now},
            ).scalar_one()
            case = conn.execute(
                text(
                    "INSERT INTO investigations (case_number, title, status, opened_on, "
                    "created_at) VALUES ('B-1', 'bench', 'active', :d, :now) RETURNING id"
                ),
                {"d": date(2026, 1, 1), "now": now},
            ).scalar_one()
            hold = conn.execute(
                text(
                    "INSERT INTO holds (kind, investigation_id, window_start, window_end, "
                    "description, created_at) VALUES ('investigation', :c, :s, :e, '', :now) "
                    "RETURNING id"
                ),
                {
                    "c": case,
                    "s": now - timedelta(days=100),
                    "e": now - timedelta(days=60),
                    "now": now,
                },
            ).scalar_one()
            conn.execute(
                text("INSERT INTO hold_devices (hold_id, device_id) VALUES (:h, :d)"),
                {"h": hold, "d": held_device},
            )
        params = {
            "expired": expired,
            "held_every": round(1 / held),
            "held_device": held_device,
            "device": device,
            "now": now,
            "total": total,
        }

        def fill() -> float:
            """The rows, in day partitions made beforehand, as a running system has them."""
            with sessions() as session:
                today = now.date()
                create_day_partitions(session, (today - timedelta(days=n) for n in range(92)))
                session.commit()
            started = time.perf_counter()
            with engine.begin() as conn:
                conn.execute(text(FILL), params)
                if images:
                    conn.execute(text(FILL_IMAGES), {"now": now, "every": round(1 / images)})
                if hits:
                    conn.execute(
                        text(FILL_HITS), {"now": now, "every": round(1 / hits), "source": source}
                    )
                conn.execute(text("ANALYZE reads"))
                conn.execute(text("ANALYZE read_images"))
                conn.execute(text("ANALYZE hits"))
            return time.perf_counter() - started

        fill_s = fill()
        spent = time_statements(engine)
        with app.app_context():
            started = time.perf_counter()
            result = destroy_expired_reads(sessions, "bench:purge", now, batch, retention_days=60)
            purge_s = time.perf_counter() - started
        spent = dict(spent)  # the baselines below run on the same engine
        baselines = []
        for label, setup in (
            ("single DELETE", None),
            # Bench-only reference: the same DELETE with the FK triggers switched off shows what
            # the row-by-row ON DELETE CASCADE triggers cost (never done by the application).
            ("same DELETE without FK triggers", "SET LOCAL session_replication_role = replica"),
        ):
            with engine.begin() as conn:
                conn.execute(text("TRUNCATE reads, read_images, hits"))
            fill()
            with engine.begin() as conn:
                if setup:
                    conn.execute(text(setup))
                started = time.perf_counter()
                rows = conn.execute(
                    text("DELETE FROM reads WHERE captured_at < :c AND device_id <> :h"),
                    {"c": cutoff, "h": held_device},
                ).rowcount
                baselines.append(f"{label} {rows:,} rows in {time.perf_counter() - started:6.2f} s")
        engine.dispose()
        per_m = purge_s / (result.reads_destroyed / 1e6) if result.reads_destroyed else 0.0
        in_db = sum(spent.values())
        breakdown = ", ".join(
            f"{kind} {seconds:.2f}"
            for kind, seconds in sorted(spent.items(), key=lambda i: -i[1])
            if seconds >= 0.01
        )
        return (
            f"total {total:>9,} expired {expired:>9,} held {expired // round(1 / held):>7,} "
            f"images {images:.0%} hits {hits:.1%}: fill {fill_s:6.1f} s | purge "
            f"{result.reads_destroyed:,} reads, {result.images_destroyed:,} pictures in "
            f"{purge_s:6.2f} s ({per_m:.2f} s per million; {result.days} days swapped, "
            f"{result.batches - result.days} row batches) | baseline "
            + " | ".join(baselines)
            + f"\n    purge time in SQL {in_db:.2f} s ({breakdown}); Python {purge_s - in_db:.2f} s"
        )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    """Parse the sizes, run each on its own fresh database, print one block per size."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="2500000,5000000")
    parser.add_argument("--expired", type=int, default=1_000_000)
    parser.add_argument("--held", type=float, default=0.01)
    parser.add_argument("--images", type=float, default=0.0, help="share of reads with a picture")
    parser.add_argument("--hits", type=float, default=0.0, help="share of reads with a hit")
    parser.add_argument("--batch-size", type=int, default=50_000)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    for total in (int(s) for s in args.sizes.split(",")):
        print(
            run_size(
                args.pg,
                total,
                args.expired,
                args.held,
                args.images,
                args.hits,
                args.batch_size,
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
