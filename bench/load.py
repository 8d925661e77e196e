"""Mixed load on the production shape, on loopback, for a bounded time.

What it does, on a PostgreSQL database it creates (and drops at the end) and a private
`redis-server` on a free port (stopped at the end):

1. builds the schema, seeds the demo accounts (the operator searches, the Deputy Chief polls),
   registers --devices cameras, loads a hotlist and tops the reads table up to --search-reads;
2. starts gunicorn (--workers, `wsgi:app`, through bench/ingest.py's `start_gunicorn`) and
   --rq-workers `rq worker` processes on the app's queue;
3. for --seconds runs, all at once: --ingest-threads cameras posting pre-serialised batches of
   --batch reads; one camera uploading a plate picture without a plate every --image-every
   seconds (its OCR runs on the RQ workers); --operators signed-in operators (requests.Session,
   CSRF from the form) searching a plate and opening the results; --pollers Deputy Chiefs
   polling the home page and the approval queue (/requests) once a second each;
4. waits (bounded) for the OCR jobs to finish, then verifies the audit chain with
   `flask --app wsgi audit verify`.

It prints throughput and p50/p95/p99 per route, every error, and the verdict against the
target: ingest >= 10,000 reads/s, search p95 < 50 ms, zero errors, the chain verifies.

    .venv/bin/python bench/load.py                 # 60 s
    .venv/bin/python bench/load.py --seconds 20    # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from sqlalchemy import create_engine, func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import (  # noqa: E402
    create_database,
    drop_database,
    machine_info,
    migrate,
    plate,
    start_gunicorn,
    top_up,
)

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
OPERATOR = "operator@demo.alpr"
CHIEF = "chief@demo.alpr"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis(port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
    )
    from redis import Redis

    deadline = time.time() + 10
    while True:
        try:
            Redis(port=port).ping()
            return process
        except Exception:
            if time.time() > deadline:
                process.kill()
                raise
            time.sleep(0.05)


def prepare(url: str, instance: Path, args, rng: random.Random):
    """Accounts, cameras and a hotlist through the real services.

    Returns the cameras' tokens, the last camera's id (the top-up's reads) and the listed plates.
    """
    import io

    from app import create_app
    from app.alpr.devices import create_device
    from app.alpr.hotlists import load_hotlist
    from app.db import unit_of_work
    from app.demo.accounts import seed_accounts

    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(instance), "REDIS_URL": None})
    listed = [plate(rng) for _ in range(args.hotlist)]
    buffer = io.StringIO("plate,category,reference\n")
    buffer.seek(0, io.SEEK_END)
    for n, p in enumerate(listed):
        buffer.write(f"{p},stolen_vehicle,REF{n}\n")
    with app.app_context():
        with unit_of_work() as session:
            seed_accounts(session, password_must_change=False)
            load_hotlist(session, "bench", buffer.getvalue().encode())
        tokens = []
        with unit_of_work() as session:
            for n in range(args.devices + 1):
                device, token = create_device(session, "bench", serial=f"LOAD-{n}", kind="mobile")
                session.flush()
                tokens.append(token)
            last = device.id
    app.extensions["alpr_engine"].dispose()
    return tokens, last, listed


def make_bodies(args, rng: random.Random, listed: list[str]) -> list[bytes]:
    """Enough batches for the run at 2.5 times the target, each read unique, ~0.5% listed plates.

    Cameras that ran out of batches would leave the searches' last seconds without ingest
    (the report says so if it happens).
    """
    count = max(1, int(args.seconds * 25_000 / args.batch))
    start = datetime.now(UTC) - timedelta(minutes=30)
    bodies = []
    for b in range(count):
        reads = []
        for i in range(args.batch):
            n = b * args.batch + i
            reads.append(
                {
                    "plate": rng.choice(listed) if rng.random() < 0.005 else plate(rng),
                    "captured_at": (start + timedelta(microseconds=1000 * n)).isoformat(),
                    "latitude": round(44.05 + rng.uniform(-0.05, 0.05), 6),
                    "longitude": round(-91.64 + rng.uniform(-0.05, 0.05), 6),
                    "client_read_id": f"L{n}",
                }
            )
        bodies.append(json.dumps({"reads": reads}).encode())
    return bodies


class Recorder:
    """Latencies and errors per route, from every thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []
        self.reads = 0
        self.ran_out = False

    def timed(self, route: str, call, ok=(200,)):
        started = time.perf_counter()
        try:
            response = call()
        except requests.RequestException as exc:
            with self.lock:
                self.errors.append(f"{route}: {type(exc).__name__}")
            return None
        elapsed = (time.perf_counter() - started) * 1000
        with self.lock:
            self.times[route].append(elapsed)
            if response.status_code not in ok:
                self.errors.append(f"{route}: {response.status_code} {response.text[:160]!r}")
        return response


def signed_in(base: str, email: str) -> requests.Session:
    from app.demo.accounts import demo_password

    http = requests.Session()
    token = CSRF.search(http.get(f"{base}/login").text).group(1)
    answer = http.post(
        f"{base}/login",
        data={"email": email, "password": demo_password(email), "csrf_token": token},
        allow_redirects=False,
    )
    if answer.status_code != 302:
        raise SystemExit(f"sign-in of {email} failed: {answer.status_code}")
    return http


def local(moment: datetime) -> str:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo("America/Chicago")).strftime("%Y-%m-%dT%H:%M")


def run_traffic(
    base: str, device_base: str, args, tokens, bodies, plates, pictures, rec: Recorder, started
) -> float:
    stop = threading.Event()
    cursor = iter(range(len(bodies)))
    lock = threading.Lock()

    def camera(token: str) -> None:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        with requests.Session() as http:
            while not stop.is_set():
                with lock:
                    n = next(cursor, None)
                if n is None:
                    rec.ran_out = True
                    return
                answer = rec.timed(
                    "POST /api/v1/reads",
                    lambda n=n: http.post(
                        f"{device_base}/api/v1/reads", data=bodies[n], headers=headers
                    ),
                )
                if answer is not None and answer.status_code == 200:
                    with rec.lock:
                        rec.reads += answer.json()["stored"]

    def uploader(token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        n = 0
        with requests.Session() as http:
            while not stop.wait(args.image_every):
                fields = {
                    "captured_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
                    "latitude": "44.05",
                    "longitude": "-91.64",
                    "client_read_id": f"IMG{n}",
                }
                picture = pictures[n % len(pictures)]
                rec.timed(
                    "POST /api/v1/reads/image",
                    lambda f=fields, p=picture: http.post(
                        f"{device_base}/api/v1/reads/image",
                        data=f,
                        files={"plate": ("p.png", p, "image/png")},
                        headers=headers,
                    ),
                    ok=(201,),
                )
                n += 1

    def operator(http: requests.Session) -> None:
        token = CSRF.search(http.get(f"{base}/alpr/search").text).group(1)
        rng = random.Random(threading.get_ident())
        while not stop.is_set():
            end = datetime.now(UTC) + timedelta(minutes=1)
            p = rng.choice(plates)
            data = {
                "csrf_token": token,
                "purpose_category": "stolen_or_wanted_vehicle",
                "purpose": "Stolen vehicle investigation",
                "case_number": "24-000100",
                "start": local(end - timedelta(hours=2)),
                "end": local(end),
                "device_id": "0",
                "deployment_id": "0",
                "plate": p if rng.random() < 0.5 else p[:3] + "*",
            }
            answer = rec.timed(
                "POST /alpr/search",
                lambda d=data: http.post(f"{base}/alpr/search", data=d, allow_redirects=False),
                ok=(302, 303),
            )
            if answer is not None and answer.status_code in (302, 303):
                target = answer.headers["Location"]
                rec.timed(
                    "GET /alpr/searches/<id>",
                    lambda t=target: http.get(t if t.startswith("http") else base + t),
                )
            stop.wait(args.think)

    def poller(http: requests.Session) -> None:
        while not stop.wait(1.0):
            rec.timed("GET / (home)", lambda: http.get(f"{base}/"))
            rec.timed("GET /requests (approval queue)", lambda: http.get(f"{base}/requests"))

    threads = [
        threading.Thread(target=camera, args=(tokens[n % args.devices],))
        for n in range(args.ingest_threads)
    ]
    threads.append(threading.Thread(target=uploader, args=(tokens[-1],)))
    # Sign everyone in before the clock starts.
    threads += [
        threading.Thread(target=operator, args=(signed_in(base, OPERATOR),))
        for _ in range(args.operators)
    ]
    threads += [
        threading.Thread(target=poller, args=(signed_in(base, CHIEF),)) for _ in range(args.pollers)
    ]
    started()  # every connection is open now: measure from here
    clock = time.perf_counter()
    for t in threads:
        t.start()
    stop.wait(args.seconds)
    stop.set()
    for t in threads:
        t.join()
    return time.perf_counter() - clock


def cpu_seconds(pid: int) -> float:
    """CPU time a process and its reaped children used (RQ's work horses are its children)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def process_groups(url: str, pools: list[subprocess.Popen], workers: list[subprocess.Popen]):
    """The processes whose CPU time the report splits: web, jobs, this database's backends."""
    from sqlalchemy import text

    children = [
        child
        for pool in pools
        for child in Path(f"/proc/{pool.pid}/task/{pool.pid}/children").read_text().split()
    ]
    engine = create_engine(url)
    with engine.connect() as conn:
        backends = list(
            conn.scalars(
                text(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        )
    engine.dispose()
    return {
        "gunicorn workers": [int(c) for c in children],
        "RQ workers and their horses": [w.pid for w in workers],
        "PostgreSQL backends of this database": backends,
        "load clients (this process)": [os.getpid()],
    }


def cpu_since(groups: dict[str, list[int]], before: dict[int, float]) -> dict[str, float]:
    """CPU seconds per group since `before` (a process that came later counts from 0)."""
    return {
        name: sum(cpu_seconds(pid) - before.get(pid, 0.0) for pid in pids)
        for name, pids in groups.items()
    }


def drain(url: str, timeout: float) -> tuple[int, int, float]:
    """Wait for the OCR jobs: (runs not done, reads still pending OCR, seconds waited)."""
    from app.jobs.models import JobRun, JobStatus
    from app.reads.models import PlateStatus, Read

    engine = create_engine(url)
    started = time.perf_counter()
    while True:
        with engine.connect() as conn:
            unfinished = conn.scalar(
                select(func.count())
                .select_from(JobRun)
                .where(JobRun.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value]))
            )
            pending = conn.scalar(
                select(func.count())
                .select_from(Read)
                .where(Read.plate_status == PlateStatus.PENDING_OCR.value)
            )
        waited = time.perf_counter() - started
        if (unfinished == 0 and pending == 0) or waited > timeout:
            engine.dispose()
            return unfinished, pending, waited
        time.sleep(1)


FLASK = ("-m", "flask", "--app", "wsgi")


def percentile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(len(values) * q))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2 + 1)
    parser.add_argument("--rq-workers", type=int, default=2)
    parser.add_argument(
        "--worker-class",
        default="rq.worker.SimpleWorker",
        help="rq.worker.Worker forks a work horse per job; rq.worker.SimpleWorker does not",
    )
    parser.add_argument("--ingest-threads", type=int, default=6)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--devices", type=int, default=8)
    parser.add_argument("--image-every", type=float, default=0.5, help="seconds between uploads")
    parser.add_argument("--operators", type=int, default=2)
    parser.add_argument("--think", type=float, default=0.5, help="operator pause, seconds")
    parser.add_argument("--pollers", type=int, default=2)
    parser.add_argument("--hotlist", type=int, default=20_000)
    parser.add_argument("--search-reads", type=int, default=1_000_000)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument(
        "--device-workers",
        type=int,
        default=0,
        help="a second gunicorn of this many workers for the device API (0: one pool for all)",
    )
    parser.add_argument(
        "--sequencer",
        choices=("", "process"),
        default="",
        help="process: ALPR_AUDIT_SEQUENCER=process and one `audit sequence --follow` process",
    )
    parser.add_argument(
        "--background-nice",
        type=int,
        default=10,
        help="nice of the device pool and the RQ workers when --device-workers is given",
    )
    args = parser.parse_args()

    rng = random.Random(425)
    name, url = create_database()
    instance = Path(tempfile.mkdtemp(prefix="alpr-load-"))
    (instance / "secret_key").write_text("load-secret-" + "x" * 40)
    (instance / "acp_hmac_key").write_text("load-acp-" + "y" * 40)
    redis_port = free_port()
    processes: list[subprocess.Popen] = []
    try:
        engine = create_engine(url)
        print(machine_info(engine))
        engine.dispose()
        migrate(url)
        tokens, last_device, listed = prepare(url, instance, args, rng)
        added, _ = top_up(url, last_device, args.search_reads)
        print(f"reads table topped up with {added:,} reads; hotlist {args.hotlist:,} plates")
        bodies = make_bodies(args, rng, listed)
        from app.demo.images import demo_pictures

        pictures = demo_pictures()
        processes.append(start_redis(redis_port))
        redis_url = f"redis://127.0.0.1:{redis_port}/0"
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "ALPR_INSTANCE_PATH": str(instance),
            "REDIS_URL": redis_url,
            "ALPR_AUDIT_SEQUENCER": args.sequencer,
        }
        from workers.queue import QUEUES

        background = ["nice", "-n", str(args.background_nice)] if args.device_workers else []
        for _ in range(args.rq_workers):
            processes.append(
                subprocess.Popen(
                    [
                        *background,
                        sys.executable,
                        "-m",
                        "rq.cli",
                        "worker",
                        "-q",
                        "--worker-class",
                        args.worker_class,
                        "--url",
                        redis_url,
                        *QUEUES,
                    ],
                    cwd=ROOT,
                    env=env,
                )
            )
        if args.sequencer == "process":
            processes.append(
                subprocess.Popen(
                    [*background, sys.executable, *FLASK, "audit", "sequence", "--follow"],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                )
            )
        workers = processes[1:]
        served = {"REDIS_URL": redis_url, "ALPR_AUDIT_SEQUENCER": args.sequencer}
        gunicorn = start_gunicorn(url, instance, args.workers, args.port, served)
        processes.append(gunicorn)
        pools = [gunicorn]
        base = device_base = f"http://127.0.0.1:{args.port}"
        if args.device_workers:
            device_pool = start_gunicorn(
                url,
                instance,
                args.device_workers,
                args.port + 1,
                served,
                nice=args.background_nice,
            )
            processes.append(device_pool)
            pools.append(device_pool)
            device_base = f"http://127.0.0.1:{args.port + 1}"
        rec = Recorder()
        before: dict[int, float] = {}

        def started() -> None:
            for pids in process_groups(url, pools, workers).values():
                before.update((pid, cpu_seconds(pid)) for pid in pids)

        elapsed = run_traffic(
            base, device_base, args, tokens, bodies, listed, pictures, rec, started
        )
        used = cpu_since(process_groups(url, pools, workers), before)
        print(f"CPU seconds during the traffic ({elapsed:.0f} s x {os.cpu_count()} cores):")
        for name, seconds in used.items():
            print(f"  {name}: {seconds:.1f} s")
        share = sum(used.values()) / (elapsed * (os.cpu_count() or 1))
        load = os.getloadavg()[0]
        print(f"  together {share:.0%} of the machine; load average now {load:.1f}")
        unfinished, pending, waited = drain(url, 120)
        verified = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "audit", "verify"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        report(args, rec, elapsed, unfinished, pending, waited, verified)
    finally:
        for process in reversed(processes):  # gunicorn, the workers, then Redis
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        drop_database(name)
        shutil.rmtree(instance, ignore_errors=True)


def report(args, rec: Recorder, elapsed, unfinished, pending, waited, verified) -> None:
    print(
        f"{elapsed:.1f} s of mixed traffic: {args.workers} gunicorn workers"
        + (
            f" and a device pool of {args.device_workers} at nice {args.background_nice}, "
            if args.device_workers
            else ", "
        )
        + f"{args.rq_workers} RQ workers ({args.worker_class}), {args.ingest_threads} camera "
        f"threads (batches of {args.batch}), an image upload every {args.image_every} s, "
        f"{args.operators} operators, {args.pollers} pollers"
        + (", audit sequencer process" if args.sequencer else "")
    )
    print(f"{'route':34} {'requests':>8} {'per s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for route, times in sorted(rec.times.items()):
        times.sort()
        print(
            f"{route:34} {len(times):8d} {len(times) / elapsed:7.1f} "
            f"{statistics.median(times):8.1f} {percentile(times, 0.95):8.1f} "
            f"{percentile(times, 0.99):8.1f}"
        )
    rate = rec.reads / elapsed
    print(f"ingest: {rec.reads:,} reads stored = {rate:,.0f} reads/s")
    if rec.ran_out:
        print(
            "  the cameras sent every prepared batch before the end: the rate is a lower bound"
            " and the last seconds' latencies were measured without ingest"
        )
    print(f"errors: {len(rec.errors)}")
    for error in rec.errors[:10]:
        print(f"  {error}")
    print(
        f"after the run: {unfinished} job runs unfinished, {pending} reads pending OCR "
        f"(waited {waited:.0f} s)"
    )
    chain = (verified.stdout + verified.stderr).strip().splitlines()
    print(f"audit verify (exit {verified.returncode}): {chain[-1] if chain else ''}")
    searches = sorted(
        rec.times.get("POST /alpr/search", []) + rec.times.get("GET /alpr/searches/<id>", [])
    )
    search_p95 = percentile(searches, 0.95) if searches else float("nan")
    verdict = {
        "ingest >= 10,000 reads/s": rate >= 10_000,
        f"search p95 < 50 ms ({search_p95:.1f} ms)": search_p95 < 50,
        "zero errors": not rec.errors,
        "chain verifies": verified.returncode == 0,
        "every OCR job done": unfinished == 0 and pending == 0,
    }
    print("verdict: " + "; ".join(f"{k}: {'met' if v else 'NOT met'}" for k, v in verdict.items()))


if __name__ == "__main__":
    main()
