"""Camera adapter overhead: OpenALPR `alpr_group` posts with pictures against the JSON ingest.

On a PostgreSQL database it creates (and drops at the end): builds the schema, registers two
mobile cameras through the real service (one for ``POST /api/v1/reads``, one registered
``--format openalpr``), starts gunicorn, and from --threads client threads posts, one read per
request, in the same run:

1. --posts plain JSON reads to ``POST /api/v1/reads`` (the baseline: plate, time, position);
2. --posts ``alpr_group`` payloads (the agent's documented sample, its plate, times and
   pictures replaced per post) to ``POST /api/v1/cameras/openalpr``: the adapter reads the
   payload, counts its dropped fields, re-encodes its plate and vehicle crops without metadata,
   stores them and the read through the same ingest.

Every body is serialised before the clock starts; each post's pictures differ (random pixels),
so every post writes new files. The overhead is 1 - adapter posts/s / JSON posts/s.

    .venv/bin/python bench/adapters.py
    .venv/bin/python bench/adapters.py --posts 1000 --rounds 1
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import random
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from PIL import Image
from sqlalchemy import create_engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest import (  # noqa: E402
    create_database,
    drop_database,
    machine_info,
    migrate,
    plate,
    start_gunicorn,
)

SAMPLE = ROOT / "fixtures" / "camera-payloads" / "openalpr-alpr_group-1.json"


def picture(rng: random.Random, size: tuple[int, int]) -> str:
    """A JPEG of random grey pixels (every post's differs), base64 as the agent sends it."""
    image = Image.frombytes("L", size, bytes(rng.getrandbits(8) for _ in range(size[0] * size[1])))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return base64.b64encode(buffer.getvalue()).decode()


def bodies(args, rng: random.Random) -> tuple[list[bytes], list[bytes]]:
    """The JSON reads and the alpr_group payloads, one read each, distinct plates and times."""
    sample = json.loads(SAMPLE.read_text())
    start = datetime.now(UTC) - timedelta(minutes=5, milliseconds=41 * args.posts * 2)
    plain, groups = [], []
    for i in range(args.posts):
        at = start + timedelta(milliseconds=41 * i)
        read = {
            "plate": plate(rng),
            "captured_at": at.isoformat(),
            "latitude": 44.05,
            "longitude": -91.64,
            "client_read_id": f"j{i}",
        }
        plain.append(json.dumps({"reads": [read]}).encode())
        group = json.loads(json.dumps(sample))
        epoch_ms = int((at + timedelta(milliseconds=41 * args.posts)).timestamp() * 1000)
        group.update(epoch_start=epoch_ms, epoch_end=epoch_ms + 2500, best_plate_number=plate(rng))
        group["best_uuid"] = f"BENCH-{i}-{epoch_ms}"
        group["best_plate"]["plate_crop_jpeg"] = picture(rng, args.plate_size)
        group["vehicle_crop_jpeg"] = picture(rng, args.vehicle_size)
        groups.append(json.dumps(group).encode())
    return plain, groups


def prepare(url: str, instance: Path) -> tuple[str, str]:
    from app import create_app
    from app.alpr.devices import create_device
    from app.db import unit_of_work

    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(instance), "REDIS_URL": None})
    with app.app_context(), unit_of_work() as session:
        _, json_token = create_device(session, "bench", serial="BENCH-JSON", kind="mobile")
        _, camera_token = create_device(
            session, "bench", serial="BENCH-SCOUT", kind="mobile", camera_format="openalpr"
        )
    app.extensions["alpr_engine"].dispose()
    return json_token, camera_token


def post_all(url: str, token: str, payloads: list[bytes], threads: int) -> tuple[float, int]:
    """Post every payload from `threads` clients; (seconds, reads stored)."""
    queue = list(reversed(payloads))
    lock = threading.Lock()
    stored = [0]
    failures: list[str] = []

    def worker() -> None:
        with httpx.Client(timeout=120) as client:
            while True:
                with lock:
                    if not queue:
                        return
                    body = queue.pop()
                response = client.post(
                    url,
                    content=body,
                    headers={
                        "Authorization": f"Bearer {token}",
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
        raise SystemExit(f"posts refused: {failures[:3]}")
    return elapsed, stored[0]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=3000, help="posts of each kind per round")
    parser.add_argument("--rounds", type=int, default=2, help="JSON then adapter, this many times")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2 + 1)
    parser.add_argument(
        "--plate-size", type=lambda s: tuple(map(int, s.split("x"))), default=(160, 48)
    )
    parser.add_argument(
        "--vehicle-size", type=lambda s: tuple(map(int, s.split("x"))), default=(320, 240)
    )
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()

    rng = random.Random(425)
    name, url = create_database()
    instance = Path(tempfile.mkdtemp(prefix="alpr-bench-adapters-"))
    (instance / "secret_key").write_text("bench-secret-" + "x" * 40)
    (instance / "acp_hmac_key").write_text("bench-acp-" + "y" * 40)
    server = None
    try:
        engine = create_engine(url)
        print(machine_info(engine))
        engine.dispose()
        migrate(url)
        json_token, camera_token = prepare(url, instance)
        server = start_gunicorn(url, instance, args.workers, args.port)
        base = f"http://127.0.0.1:{args.port}/api/v1"
        warm, _ = bodies(argparse.Namespace(**{**vars(args), "posts": args.workers * 2}), rng)
        post_all(f"{base}/reads", json_token, warm, args.threads)
        ratios = []
        for n in range(args.rounds):
            plain, groups = bodies(args, rng)
            size = sum(map(len, groups)) / len(groups)
            json_s, json_stored = post_all(f"{base}/reads", json_token, plain, args.threads)
            cam_s, cam_stored = post_all(
                f"{base}/cameras/openalpr", camera_token, groups, args.threads
            )
            if (json_stored, cam_stored) != (args.posts, args.posts):
                raise SystemExit(f"stored {json_stored} and {cam_stored} of {args.posts}")
            json_rate, cam_rate = args.posts / json_s, args.posts / cam_s
            ratios.append(1 - cam_rate / json_rate)
            print(
                f"round {n + 1}: JSON ingest {args.posts} posts in {json_s:.1f} s = "
                f"{json_rate:,.0f} posts/s; alpr_group with pictures (plate {args.plate_size[0]}x"
                f"{args.plate_size[1]}, vehicle {args.vehicle_size[0]}x{args.vehicle_size[1]}, "
                f"{size / 1024:.1f} KiB a post) {cam_s:.1f} s = {cam_rate:,.0f} posts/s; "
                f"adapter overhead {ratios[-1]:.0%}"
            )
        print(
            f"overhead over {args.rounds} round(s): {min(ratios):.0%}-{max(ratios):.0%} "
            f"(target < 30%); {args.threads} client threads, {args.workers} gunicorn workers"
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        drop_database(name)


if __name__ == "__main__":
    main()
