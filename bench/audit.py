"""Audited actions per second through the one audit append, on PostgreSQL, beside a plain INSERT.

Run: .venv/bin/python bench/audit.py [--writers 8] [--seconds 20] [--repeat 1]

On a PostgreSQL database it creates (and drops at the end), built with `alembic upgrade head`:

1. baseline: --writers processes, each a loop of small transactions that INSERT one row into a
   table with no chain (made here, bench only) and commit, for --seconds;
2. audited, after-commit sequencer (the default): the same processes and loop, each
   transaction calling the real `app.audit.services.record(...)` and committing, the
   after-commit sequencer run included;
3. audited, sequencer process (`ALPR_AUDIT_SEQUENCER=process`): the same, while one more
   process runs the loop of `flask --app wsgi audit sequence --follow` (every 50 ms);
4. after each audited phase, the chain: how many entries were still unchained when the
   writers stopped, the sequencer run that chains them (`sequence`), and `verify` of the
   whole chain, which must hold exactly the committed entries as one line (seq 1..N).

With --repeat N the three phases run N times in turn (baseline, after-commit, process, baseline,
...), and the last lines give the median of each mode's share of the baseline measured beside
it: on a machine shared with other work the load moves within a minute, and a phase's
neighbour is the fairest comparison it has.

Loopback only; every process is its own client on the same cores as the server.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import create_database, drop_database, machine_info, migrate  # noqa: E402

PLAIN_TABLE = """
CREATE TABLE bench_plain (
    id BIGSERIAL PRIMARY KEY,
    occurred_at TIMESTAMPTZ NOT NULL,
    actor_label VARCHAR(200) NOT NULL,
    action VARCHAR(64) NOT NULL,
    details TEXT NOT NULL
)
"""
PLAIN_INSERT = text(
    "INSERT INTO bench_plain (occurred_at, actor_label, action, details) "
    "VALUES (now(), :actor, 'search.performed', :details)"
)


def writer(url: str, mode: str, worker: int, ready, seconds: float, counts) -> None:
    """One writer process: small transactions until the clock runs out; counts its commits."""
    from sqlalchemy.orm import sessionmaker

    import app.models  # noqa: F401  (a spawned process loads the whole schema)
    from app.audit.actions import AuditAction
    from app.audit.services import record
    from app.db import make_engine

    info = {"audit_after_commit": mode != "process"}
    factory = sessionmaker(bind=make_engine(url), expire_on_commit=False, info=info)
    actor = f"bench-writer-{worker}"
    with factory() as session:  # connect before the clock starts
        session.execute(text("SELECT 1"))
    done = 0
    ready.wait()
    began = time.time()
    stop = began + seconds
    while True:
        with factory() as session:
            if mode != "plain":
                record(session, actor, AuditAction.SEARCH_PERFORMED, ("page", "bench"), {"n": done})
            else:
                session.execute(PLAIN_INSERT, {"actor": actor, "details": f'{{"n":{done}}}'})
            session.commit()
        done += 1
        if time.time() >= stop:
            break
    counts[worker] = (done, time.time() - began)


def follower(url: str, stop) -> None:
    """The sequencer process: what `audit sequence --follow` runs, until told to stop."""
    import app.models  # noqa: F401
    from app.audit.services import sequence
    from app.db import make_engine

    engine = make_engine(url)
    while not stop.is_set():
        sequence(engine)
        time.sleep(0.05)


def run_phase(url: str, mode: str, writers: int, seconds: float) -> tuple[int, float]:
    """Start the writers together; committed transactions and the longest writer's time."""
    context = multiprocessing.get_context("spawn")
    counts = context.Manager().dict()
    # Every writer imports the app and connects first; the clock starts when all are ready.
    ready = context.Barrier(writers + 1)
    processes = [
        context.Process(target=writer, args=(url, mode, w, ready, seconds, counts))
        for w in range(writers)
    ]
    stop = context.Event()
    if mode == "process":
        processes.append(context.Process(target=follower, args=(url, stop)))
    for process in processes:
        process.start()
    ready.wait()
    for process in processes[:writers]:
        process.join()
    stop.set()
    for process in processes:
        process.join()
        if process.exitcode != 0:
            raise SystemExit(f"a {mode} writer failed (exit {process.exitcode})")
    done = [counts[w] for w in range(writers)]
    return sum(n for n, _ in done), max(s for _, s in done)


def check_chain(engine) -> bool:
    """What the writers left unchained, the sequencer run that chains it, `verify`, one line."""
    from sqlalchemy.orm import Session

    from app.audit.services import sequence, unchained, verify

    with Session(engine) as session:
        left = unchained(session)
    began = time.perf_counter()
    swept = sequence(engine)
    print(
        f"  left unchained when the writers stopped: {left.count} "
        f"(chained by a sequencer run in {time.perf_counter() - began:.3f} s: {swept})"
    )
    with Session(engine) as session:
        began = time.perf_counter()
        result = verify(session)
        took = time.perf_counter() - began
        count, low, high = session.execute(
            text("SELECT count(*), min(seq), max(seq) FROM audit_entries")
        ).one()
    print(f"  verify: {result.describe()} in {took:.2f} s")
    linear = result.ok and result.entries == count and (low, high) == (1, count)
    print(f"  one linear chain of every committed entry (seq 1..{count}): {linear}")
    return linear


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=1, help="run the three phases N times")
    args = parser.parse_args()

    import app.models  # noqa: F401
    from app.db import make_engine

    name, url = create_database()
    try:
        migrate(url)
        engine = make_engine(url)
        print(machine_info(engine))
        with engine.begin() as conn:
            conn.execute(text(PLAIN_TABLE))

        linear = True
        modes = (("audited", "after-commit"), ("process", "sequencer process"))
        shares: dict[str, list[float]] = {label: [] for _, label in modes}
        for _ in range(args.repeat):
            plain, plain_s = run_phase(url, "plain", args.writers, args.seconds)
            print(
                f"baseline (plain INSERT, no chain): {plain:,} transactions by {args.writers} "
                f"writers in {plain_s:.1f} s = {plain / plain_s:,.0f}/s"
            )
            for mode, label in modes:
                audited, audited_s = run_phase(url, mode, args.writers, args.seconds)
                share = audited * plain_s / (plain * audited_s)
                shares[label].append(share)
                print(
                    f"audited, {label}: {audited:,} transactions by {args.writers} writers in "
                    f"{audited_s:.1f} s = {audited / audited_s:,.0f}/s "
                    f"({share:.0%} of the baseline; target >= 3,000/s)"
                )
                linear = check_chain(engine) and linear
        if args.repeat > 1:
            for label, measured in shares.items():
                print(
                    f"{label}: median {statistics.median(measured):.0%} of the baseline beside "
                    f"it over {args.repeat} runs ({', '.join(f'{m:.0%}' for m in measured)})"
                )
        engine.dispose()
        if not linear:
            raise SystemExit(1)
    finally:
        drop_database(name)


if __name__ == "__main__":
    main()
