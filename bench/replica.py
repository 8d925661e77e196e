"""Search latency on the primary and on a streaming replica of it, on the same machine.

Creates a PostgreSQL database (dropped at the end), tops its reads table up to --reads rows
(bench/ingest.py's generator: ~3 reads per plate over 58 days), starts a hot standby of the
cluster (tests/pg_replica.py: pg_basebackup on a free loopback port), waits until it has
replayed everything, then times the search page's own result query (bench/ingest.py's
search_latency: exact and prefix plates, 50 a page) on each.

    BENCH_PG_ADMIN_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/replica.py --reads 1000000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import (  # noqa: E402
    PG_ADMIN_URL,
    create_database,
    drop_database,
    migrate,
    search_latency,
    top_up,
)
from tests.pg_replica import replayed, streaming_replica, wait_for  # noqa: E402


def bench_device(url: str) -> int:
    from app import create_app
    from app.alpr.devices import create_device
    from app.db import unit_of_work

    with tempfile.TemporaryDirectory() as instance:
        app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": instance, "REDIS_URL": None})
        with app.app_context(), unit_of_work() as session:
            device, _ = create_device(session, "bench", serial="BENCH-REPLICA", kind="mobile")
            session.flush()
            device_id = device.id
        app.extensions["alpr_engine"].dispose()
    return device_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reads", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    name, url = create_database()
    try:
        migrate(url)
        rows, seconds = top_up(url, bench_device(url), args.reads)
        print(f"reads: {rows:,} generated in {seconds:.1f} s")
        with streaming_replica(PG_ADMIN_URL) as (port, replica_admin):
            primary = create_engine(PG_ADMIN_URL)
            wait_for(replayed(primary, replica_admin), "the replica to catch up", seconds=900)
            primary.dispose()
            replica_url = make_url(url).set(port=port).render_as_string(hide_password=False)
            for label, target in (("primary", url), ("replica", replica_url)):
                for shape, value in search_latency(target, args.queries).items():
                    if shape != "plan":
                        p50, p95, worst = value
                        print(
                            f"{label:8} {shape:28} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  "
                            f"max {worst:6.2f} ms"
                        )
    finally:
        drop_database(name)


if __name__ == "__main__":
    main()
