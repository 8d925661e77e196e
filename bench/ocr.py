"""Benchmark the plate OCR on the shared OpenALPR samples and record it in bench/RESULTS.md.

Run: .venv/bin/python bench/ocr.py [--samples DIR]
Single process, single thread, so plates/s is per core.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Before numpy/cv2/onnxruntime load: one thread everywhere.
for _var in ("OMP_NUM_THREADS", "OMP_THREAD_LIMIT", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import cv2  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.alpr.ocr.engines import RapidOcrEngine, TesseractEngine  # noqa: E402
from app.alpr.ocr.locate import plate_row  # noqa: E402
from app.alpr.ocr.pipeline import OcrResult, PlateReader, normalise_plate  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS.md"
HEADER = "# Benchmark results\n\nFigures measured by the scripts in `bench/`; one section each.\n"


@dataclass
class Tally:
    """Counts for one set of images."""

    total: int = 0
    exact: int = 0
    exact_raw_label: int = 0
    accepted: int = 0
    accepted_wrong: int = 0
    arbitrated: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0

    def add(self, result: OcrResult, label: str) -> None:
        right = result.plate == normalise_plate(label)
        self.total += 1
        self.exact += right
        self.exact_raw_label += result.plate == label
        self.accepted += not result.needs_review
        self.accepted_wrong += not result.needs_review and not right
        self.arbitrated += len(result.engines) > 1

    def pct(self, n: int, of: int | None = None) -> str:
        of = self.total if of is None else of
        return f"{100 * n / of:.1f}%" if of else "n/a"


def samples_dir(cli_value: str | None) -> Path:
    return Path(
        cli_value or os.environ.get("ALPR_OCR_SAMPLES") or ROOT / ".." / "shared" / "ocr"
    ).resolve()


def load(folder: Path) -> list[tuple[bytes, dict[str, str]]]:
    with (folder / "labels.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    return [((folder / r["file"]).read_bytes(), r) for r in rows]


def cpu_time() -> float:
    """CPU seconds used by this process and its finished children (tesseract runs)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def run_pipeline(reader: PlateReader, items: list, cropped: bool) -> Tally:
    tally = Tally()
    start, cpu_start = time.perf_counter(), cpu_time()
    for data, row in items:
        tally.add(reader.read(data, cropped=cropped), row["plate"])
    tally.seconds = time.perf_counter() - start
    tally.cpu_seconds = cpu_time() - cpu_start
    return tally


def run_baseline(read: Callable[[bytes], str], items: list) -> float:
    hits = sum(normalise_plate(read(data)) == normalise_plate(r["plate"]) for data, r in items)
    return hits / len(items)


def decoded(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    # Not `nproc`: it honours the OMP_NUM_THREADS=1 set above.
    return f"nproc {os.cpu_count()}, {cpu}, {mem_kb / 1024**2:.1f} GiB RAM"


def write_results(section: str) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else HEADER
    # Replace our own section (up to the next level-2 heading), keep everyone else's.
    pattern = re.compile(r"^## OCR\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", help="folder with crops/ and scenes/ (default ../shared/ocr)")
    args = parser.parse_args()
    root = samples_dir(args.samples)
    if not (root / "crops" / "labels.csv").exists():
        sys.exit(f"no samples in {root}: pass --samples or set ALPR_OCR_SAMPLES")
    cv2.setNumThreads(1)
    crops, scenes = load(root / "crops"), load(root / "scenes")

    rapid, tess = RapidOcrEngine(threads=1), TesseractEngine()
    reader = PlateReader(rapid, tess)
    reader.read(crops[0][0], cropped=True)  # model load is not throughput

    load_before = os.getloadavg()[0]
    c = run_pipeline(reader, crops, cropped=True)
    s = run_pipeline(reader, scenes, cropped=False)
    accepted = c.accepted + s.accepted
    accepted_wrong = c.accepted_wrong + s.accepted_wrong

    base_rapid = run_baseline(lambda d: rapid.read(decoded(d)).text, crops)
    base_tess = run_baseline(lambda d: tess.read(plate_row(decoded(d))).text, crops)

    lines = [
        f"samples: {root}",
        f"crops  ({c.total}): exact {c.pct(c.exact)} "
        f"(vs unfolded labels {c.pct(c.exact_raw_label)}), "
        f"{c.total / c.cpu_seconds:.1f} plates/s per core "
        f"(CPU time; wall clock {c.total / c.seconds:.1f}/s), "
        f"accepted {c.pct(c.accepted)}, "
        f"wrong among accepted {c.pct(c.accepted_wrong, c.accepted)}, "
        f"review {c.pct(c.total - c.accepted)}, tesseract consulted {c.pct(c.arbitrated)}",
        f"scenes ({s.total}): exact {s.pct(s.exact)} "
        f"(vs unfolded labels {s.pct(s.exact_raw_label)}), "
        f"{1000 * s.seconds / s.total:.0f} ms/scene, "
        f"accepted {s.pct(s.accepted)}, "
        f"wrong among accepted {s.pct(s.accepted_wrong, s.accepted)}, "
        f"review {s.pct(s.total - s.accepted)}, tesseract consulted {s.pct(s.arbitrated)}",
        f"all: wrong among accepted {100 * accepted_wrong / max(1, accepted):.1f}% "
        f"({accepted_wrong}/{accepted}), sent to review "
        f"{100 * (c.total + s.total - accepted) / (c.total + s.total):.1f}%",
        f"baseline crops, rapidocr alone on the raw crop: exact {100 * base_rapid:.1f}%",
        f"baseline crops, tesseract alone on our character row: exact {100 * base_tess:.1f}%",
        f"load average (1 min) before {load_before:.1f}, after {os.getloadavg()[0]:.1f}",
    ]
    print("\n".join(lines))
    stamp = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    section = (
        "## OCR\n\n"
        f"`.venv/bin/python bench/ocr.py` on {stamp}; {machine()}.\n"
        "Single process, single thread. Exact match after normalisation "
        "(A-Z0-9, letter O folded into 0).\n\n```\n" + "\n".join(lines) + "\n```\n"
    )
    write_results(section)


if __name__ == "__main__":
    main()
