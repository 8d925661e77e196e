"""Ingest throughput through POST /api/v1/reads under gunicorn, beside a raw COPY; search latency.

What it does, on a PostgreSQL database it creates (and drops at the end):

1. builds the schema (`alembic upgrade head`), loads a hotlist of --hotlist entries through the
   real loader (COPY), registers --devices cameras through the real service;
2. starts gunicorn (--workers) with the app and posts --reads reads in batches of --batch from
   --threads client threads (httpx), every body serialised before the clock starts;
3. COPYs the same rows (under another device id) into the same reads table: the baseline;
4. tops the table up to --search-reads reads with generate_series, ANALYZEs, and times the
   plate searches the search page runs: exact (`plate = :p`) and prefix (`plate LIKE 'AB1%'`),
   newest first, 50 a page, within the retention window.

Run at full size on a quiet machine:
    .venv/bin/python bench/ingest.py
Modest size while others share the machine:
    .venv/bin/python bench/ingest.py --reads 40000 --hotlist 200000 --search-reads 1000000
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_ADMIN_URL = os.environ.get(
    "BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
DIGITS = "0123456789"


def machine_info(engine) -> str:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except OSError:
        mem_kb = 0
    with engine.connect() as conn:
        pg = conn.execute(text("SHOW server_version")).scalar()
    load = os.getloadavg()
    return (
        f"date {datetime.now(UTC):%Y-%m-%d %H:%M UTC}; {platform.node()}; {cpu}; "
        f"nproc {os.cpu_count()}; {mem_kb / 1048576:.1f} GiB RAM; PostgreSQL {pg}; "
        f"Python {platform.python_version()}; "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )


def plate(rng: random.Random) -> str:
    return "".join(rng.choice(LETTERS) for _ in range(3)) + "".join(
        rng.choice(DIGITS) for _ in range(4)
    )


def create_database() -> tuple[str, str]:
    name = f"alpr_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_database(name: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def migrate(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["database_url"] = url
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")


def prepare(url: str, instance: Path, args, rng: random.Random, listed: list[str]):
    """Hotlist and devices through the real services; returns (tokens, device ids, timings)."""
    from app import create_app
    from app.alpr.devices import create_device
    from app.alpr.hotlists import load_hotlist
    from app.db import unit_of_work

    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(instance), "REDIS_URL": None})
    categories = ["stolen_vehicle", "stolen_plate", "warrant", "suspended_revoked"]
    buffer = io.StringIO()
    buffer.write("plate,category,reference\n")
    for i in range(args.hotlist):
        p = listed[i] if i < len(listed) else plate(rng)
        buffer.write(f"{p},{categories[i % 4]},REF{i}\n")
    data = buffer.getvalue().encode()
    with app.app_context():
        started = time.perf_counter()
        with unit_of_work() as session:
            load_hotlist(session, "bench", data)
        hotlist_seconds = time.perf_counter() - started
        tokens, ids = [], []
        with unit_of_work() as session:
            for n in range(args.devices + 1):
                device, token = create_device(session, "bench", serial=f"BENCH-{n}", kind="mobile")
                session.flush()
                tokens.append(token)
                ids.append(device.id)
    app.extensions["alpr_engine"].dispose()
    return tokens, ids, hotlist_seconds


def make_rows(args, rng: random.Random, listed: list[str]) -> list[dict]:
    """The reads to send: unique times in order, ending a minute ago; ~0.5% listed plates."""
    start = datetime.now(UTC) - timedelta(minutes=1, milliseconds=37 * args.reads)
    rows = []
    for i in range(args.reads):
        listed_plate = listed and rng.random() < 0.005
        rows.append(
            {
                "plate": rng.choice(listed) if listed_plate else plate(rng),
                "captured_at": (start + timedelta(milliseconds=37 * i)).isoformat(),
                "latitude": round(44.05 + rng.uniform(-0.05, 0.05), 6),
                "longitude": round(-91.64 + rng.uniform(-0.05, 0.05), 6),
                "client_read_id": f"r{i}",
            }
        )
    return rows


def start_gunicorn(
    url: str,
    instance: Path,
    workers: int,
    port: int,
    extra_env: dict[str, str] | None = None,
    nice: int = 0,
) -> subprocess.Popen:
    """gunicorn serving the app; jobs in-process unless `extra_env` names a REDIS_URL.

    `nice` lowers the pool's CPU priority (a device pool yields the cores to the staff's).
    """
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "ALPR_INSTANCE_PATH": str(instance),
        "REDIS_URL": "",
        "ALPR_INGEST_MAX_BATCH": "1000",
        **(extra_env or {}),
    }
    process = subprocess.Popen(
        [
            *(["nice", "-n", str(nice)] if nice else []),
            str(Path(sys.executable).parent / "gunicorn"),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--preload",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.3)
    process.terminate()
    raise SystemExit("gunicorn did not come up")


def warm_up(port: int, token: str, workers: int) -> None:
    """Open every worker's database connection before the clock starts (an empty batch: 422)."""

    def hit() -> None:
        for _ in range(3):
            httpx.post(
                f"http://127.0.0.1:{port}/api/v1/reads",
                json={"reads": []},
                headers={"Authorization": f"Bearer {token}"},
                timeout=60,
            )

    pool = [threading.Thread(target=hit) for _ in range(workers * 2)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()


def post_all(port: int, tokens: list[str], bodies: list[bytes], threads: int) -> tuple[float, int]:
    """Post every pre-serialised batch; device = batch number modulo the devices."""
    cursor = iter(range(len(bodies)))
    lock = threading.Lock()
    stored = [0]
    failures: list[str] = []

    def worker() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            while True:
                with lock:
                    n = next(cursor, None)
                if n is None:
                    return
                response = client.post(
                    "/api/v1/reads",
                    content=bodies[n],
                    headers={
                        "Authorization": f"Bearer {tokens[n % len(tokens)]}",
                        "Content-Type": "application/json",
                    },
                )
                if response.status_code != 200:
                    failures.append(f"{response.status_code} {response.text[:200]}")
                    return
                with lock:
                    stored[0] += response.json()["stored"]

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    started = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise SystemExit(f"ingest failed: {failures[0]}")
    return elapsed, stored[0]


def copy_baseline(url: str, rows: list[dict], device_id: int) -> float:
    """The same rows COPYed raw into the same table (another device, so no key collides)."""
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    now = datetime.now(UTC)
    with psycopg.connect(dsn) as conn:
        started = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY reads (device_id, plate, captured_at, latitude, longitude, client_read_id, "
                "plate_status, received_at) FROM STDIN"
            ) as copy,
        ):
            for r in rows:
                copy.write_row(
                    (
                        device_id,
                        r["plate"],
                        r["captured_at"],
                        r["latitude"],
                        r["longitude"],
                        r["client_read_id"],
                        "reported",
                        now,
                    )
                )
        conn.commit()
        return time.perf_counter() - started


def top_up(url: str, device_id: int, total: int) -> tuple[int, float]:
    """Generate reads server-side up to `total`: ~3 reads per plate over 58 days."""
    engine = create_engine(url)
    with engine.begin() as conn:
        have = conn.execute(text("SELECT count(*) FROM reads")).scalar()
        missing = max(0, total - have)
        started = time.perf_counter()
        if missing:
            conn.execute(
                text(
                    """
                    INSERT INTO reads (device_id, plate, captured_at, latitude, longitude,
                                       plate_status, received_at)
                    SELECT :device,
                           upper(substr(md5((i % (:n / 3 + 1))::text), 1, 7)),
                           now() - (random() * interval '58 days'),
                           44.05 + random() / 10, -91.64 + random() / 10,
                           'reported', now()
                    FROM generate_series(1, :n) AS i
                    """
                ),
                {"device": device_id, "n": missing},
            )
        conn.execute(text("ANALYZE reads"))
    seconds = time.perf_counter() - started
    engine.dispose()
    return missing, seconds


def search_latency(url: str, queries: int) -> dict[str, tuple[float, float, float]]:
    """p50/p95/max in ms of the search page's own result query, one connection, warm cache.

    The statements are the app's (:func:`app.alpr.search.results_query`), compiled for this
    database, so the figures are those of the page.
    """
    from sqlalchemy.orm import Session

    from app.alpr.search import PAGE_SIZE, SearchCriteria, results_query

    engine = create_engine(url)
    out = {}
    with Session(engine) as session:
        plates = list(
            session.scalars(
                text("SELECT plate FROM reads TABLESAMPLE SYSTEM (1) LIMIT :n"), {"n": queries}
            )
        )
        end = datetime.now(UTC)
        start = end - timedelta(days=60)
        shapes = {
            "exact  plate = :p": plates,
            "prefix plate LIKE 'AB1%'": [p[:3] + "%" for p in plates],
        }
        for label, values in shapes.items():

            def page(value: str):
                criteria = SearchCriteria(start=start, end=end, plate=value)
                return results_query(session, criteria).limit(PAGE_SIZE)

            for value in values[:20]:  # warm-up
                session.execute(page(value)).all()
            times = []
            for value in values:
                t0 = time.perf_counter()
                session.execute(page(value)).all()
                times.append((time.perf_counter() - t0) * 1000)
            times.sort()
            out[label] = (
                statistics.median(times),
                times[int(len(times) * 0.95) - 1],
                times[-1],
            )
        compiled = page(plates[0][:3] + "%").compile(engine, compile_kwargs={"literal_binds": True})
        plan = session.execute(text(f"EXPLAIN {compiled}")).all()
        out["plan"] = " | ".join(row[0].strip() for row in plan[:4])  # type: ignore[assignment]
    engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--reads", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2 + 1)
    parser.add_argument("--devices", type=int, default=1, help="cameras the batches rotate over")
    parser.add_argument("--hotlist", type=int, default=1_000_000)
    parser.add_argument("--search-reads", type=int, default=5_000_000)
    parser.add_argument("--search-queries", type=int, default=2000)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    args = parser.parse_args()

    rng = random.Random(425)
    name, url = create_database()
    instance = Path(tempfile.mkdtemp(prefix="alpr-bench-"))
    (instance / "secret_key").write_text("bench-secret-" + "x" * 40)
    (instance / "acp_hmac_key").write_text("bench-acp-" + "y" * 40)
    server = None
    try:
        engine = create_engine(url)
        print(machine_info(engine))
        engine.dispose()
        migrate(url)
        listed = [plate(rng) for _ in range(min(2000, args.hotlist))]
        tokens, ids, hotlist_seconds = prepare(url, instance, args, rng, listed)
        print(
            f"hotlist: {args.hotlist:,} entries loaded in {hotlist_seconds:.1f} s "
            "(COPY, one transaction)"
        )
        rows = make_rows(args, rng, listed)
        import json

        bodies = [
            json.dumps({"reads": rows[i : i + args.batch]}).encode()
            for i in range(0, len(rows), args.batch)
        ]
        server = start_gunicorn(url, instance, args.workers, args.port)
        warm_up(args.port, tokens[0], args.workers)
        elapsed, stored = post_all(args.port, tokens[: args.devices], bodies, args.threads)
        if stored != len(rows):
            raise SystemExit(f"stored {stored} of {len(rows)} reads")
        api_rate = len(rows) / elapsed
        print(
            f"ingest: {len(rows):,} reads in {len(bodies)} batches of {args.batch}, "
            f"{args.threads} client threads, {args.workers} gunicorn workers, "
            f"{args.devices} device(s): "
            f"{elapsed:.1f} s = {api_rate:,.0f} reads/s"
        )
        server.terminate()
        server.wait(timeout=30)
        server = None
        copy_seconds = copy_baseline(url, rows, ids[-1])
        copy_rate = len(rows) / copy_seconds
        print(
            f"COPY baseline: {len(rows):,} rows in {copy_seconds:.1f} s = {copy_rate:,.0f} rows/s"
        )
        print(
            f"ratio: API {api_rate / copy_rate:.0%} of COPY "
            f"(targets: >= 10,000 reads/s and >= 25% of COPY)"
        )
        added, top_seconds = top_up(url, ids[-1], args.search_reads)
        print(
            f"search table: {args.search_reads:,} reads "
            f"({added:,} generated in {top_seconds:.0f} s)"
        )
        latency = search_latency(url, args.search_queries)
        plan = latency.pop("plan")
        for label, (p50, p95, worst) in latency.items():
            print(
                f"search {label}: p50 {p50:.2f} ms, p95 {p95:.2f} ms, max {worst:.1f} ms "
                "(target p95 < 20 ms)"
            )
        print(f"prefix plan: {plan}")
    finally:
        if server is not None:
            server.terminate()
        if not args.keep:
            drop_database(name)
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
