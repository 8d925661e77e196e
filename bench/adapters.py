"""Camera adapter overhead: OpenALPR `alpr_group` posts with pictures against the JSON ingest.

On a PostgreSQL database it creates (and drops at the end): builds the schema, registers three
mobile cameras through the real service (two for our own API, one registered ``--format
openalpr``), starts gunicorn, and from --threads client threads posts, one read per request,
in the same run and per round:

1. --posts plain JSON reads to ``POST /api/v1/reads`` (plate, time, position, no picture);
2. --posts reads with a plate crop and a vehicle crop to ``POST /api/v1/reads/image``
   (multipart): what a device speaking our own API sends for the same read with its pictures,
   and so the baseline the adapter is measured against;
3. --posts ``alpr_group`` payloads (the agent's documented sample, its plate, times and
   pictures replaced per post, the pictures as base64 in the JSON) to
   ``POST /api/v1/cameras/openalpr``: the adapter reads the payload, counts its dropped
   fields, re-encodes its pictures without metadata, stores them and the read through the
   same ingest.

Every body is serialised before the clock starts; each post's pictures differ (random pixels),
so every post writes two new files. The overhead is 1 - adapter posts/s / baseline posts/s,
printed against both (2) and (1).

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


def picture(rng: random.Random, size: tuple[int, int]) -> bytes:
    """A JPEG of random grey pixels (every post's differs)."""
    image = Image.frombytes("L", size, rng.randbytes(size[0] * size[1]))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def multipart(fields: dict[str, str], files: dict[str, bytes]) -> tuple[bytes, str]:
    """A multipart/form-data body as a device's HTTP client sends it, and its content type."""
    boundary = f"bench{random.getrandbits(64):016x}"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    for name, data in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{name}.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
        )
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


Payload = tuple[bytes, str]
JSON = "application/json"


def bodies(args, rng: random.Random) -> dict[str, list[Payload]]:
    """Per route, one read a post, distinct plates, times and pictures.

    ``json``: the read alone to ``POST /api/v1/reads``; ``image``: the same kind of read with a
    plate and a vehicle picture to ``POST /api/v1/reads/image`` (what a device that speaks our
    own API sends); ``openalpr``: an ``alpr_group`` carrying the same two pictures (base64).
    """
    sample = json.loads(SAMPLE.read_text())
    start = datetime.now(UTC) - timedelta(minutes=5, milliseconds=41 * args.posts * 3)
    out: dict[str, list[Payload]] = {"json": [], "image": [], "openalpr": []}
    for i in range(args.posts):
        at = [start + timedelta(milliseconds=41 * (i + n * args.posts)) for n in range(3)]
        read = {
            "plate": plate(rng),
            "captured_at": at[0].isoformat(),
            "latitude": 44.05,
            "longitude": -91.64,
            "client_read_id": f"j{i}",
        }
        out["json"].append((json.dumps({"reads": [read]}).encode(), JSON))
        fields = {**read, "plate": plate(rng), "captured_at": at[1].isoformat()}
        fields["client_read_id"] = f"i{i}"
        files = {
            "plate": picture(rng, args.plate_size),
            "vehicle": picture(rng, args.vehicle_size),
        }
        out["image"].append(multipart({k: str(v) for k, v in fields.items()}, files))
        group = json.loads(json.dumps(sample))
        epoch_ms = int(at[2].timestamp() * 1000)
        group.update(epoch_start=epoch_ms, epoch_end=epoch_ms + 2500, best_plate_number=plate(rng))
        group["best_uuid"] = f"BENCH-{i}-{epoch_ms}"
        group["best_plate"]["plate_crop_jpeg"] = base64.b64encode(
            picture(rng, args.plate_size)
        ).decode()
        group["vehicle_crop_jpeg"] = base64.b64encode(picture(rng, args.vehicle_size)).decode()
        out["openalpr"].append((json.dumps(group).encode(), JSON))
    return out


def prepare(url: str, instance: Path) -> dict[str, str]:
    """A device per route, registered through the real service; their tokens."""
    from app import create_app
    from app.alpr.devices import create_device
    from app.db import unit_of_work

    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(instance), "REDIS_URL": None})
    tokens = {}
    with app.app_context(), unit_of_work() as session:
        for route, camera_format in (("json", None), ("image", None), ("openalpr", "openalpr")):
            _, tokens[route] = create_device(
                session,
                "bench",
                serial=f"BENCH-{route.upper()}",
                kind="mobile",
                camera_format=camera_format,
            )
    app.extensions["alpr_engine"].dispose()
    return tokens


def stored_count(answer: dict) -> int:
    """Reads stored by one answer: the batch routes count them, the image route names one."""
    return answer["stored"] if "stored" in answer else int(answer["outcome"] == "stored")


def post_all(url: str, token: str, payloads: list[Payload], threads: int) -> tuple[float, int]:
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
                    body, content_type = queue.pop()
                response = client.post(
                    url,
                    content=body,
                    headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
                )
                if response.status_code not in (200, 201):
                    failures.append(f"{response.status_code} {response.text[:200]}")
                    return
                with lock:
                    stored[0] += stored_count(response.json())

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


ROUTES = {"json": "reads", "image": "reads/image", "openalpr": "cameras/openalpr"}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=3000, help="posts of each kind per round")
    parser.add_argument("--rounds", type=int, default=2, help="the three routes, this many times")
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
        tokens = prepare(url, instance)
        server = start_gunicorn(url, instance, args.workers, args.port)
        base = f"http://127.0.0.1:{args.port}/api/v1"
        warm = bodies(argparse.Namespace(**{**vars(args), "posts": args.workers * 2}), rng)
        for route, path in ROUTES.items():
            post_all(f"{base}/{path}", tokens[route], warm[route], args.threads)
        overheads: dict[str, list[float]] = {"json": [], "image": []}
        for n in range(args.rounds):
            payloads = bodies(args, rng)
            rate = {}
            for route, path in ROUTES.items():
                seconds, stored = post_all(
                    f"{base}/{path}", tokens[route], payloads[route], args.threads
                )
                if stored != args.posts:
                    raise SystemExit(f"{route}: stored {stored} of {args.posts}")
                rate[route] = args.posts / seconds
            for baseline in overheads:
                overheads[baseline].append(1 - rate["openalpr"] / rate[baseline])
            size = sum(len(b) for b, _ in payloads["openalpr"]) / args.posts / 1024
            print(
                f"round {n + 1}: JSON read alone {rate['json']:,.0f} posts/s; JSON read with its "
                f"two pictures (POST /reads/image) {rate['image']:,.0f} posts/s; alpr_group with "
                f"the same pictures ({size:.1f} KiB a post) {rate['openalpr']:,.0f} posts/s; "
                f"adapter overhead {overheads['image'][-1]:.0%} against the read with its "
                f"pictures, {overheads['json'][-1]:.0%} against the read alone"
            )
        print(
            f"adapter overhead over {args.rounds} round(s), {args.posts} posts a route, "
            f"{args.threads} client threads, {args.workers} gunicorn workers: against the "
            f"equivalent read with pictures {min(overheads['image']):.0%}-"
            f"{max(overheads['image']):.0%} (target < 30%); against the read without pictures "
            f"{min(overheads['json']):.0%}-{max(overheads['json']):.0%}"
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        drop_database(name)


if __name__ == "__main__":
    main()
