"""Behaviour of the plate OCR: real crops and scenes, synthetic fixtures, review rules, CLI."""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import numpy as np
import pytest
from flask import Flask

from app.alpr.ocr import (
    OcrResult,
    PlateReader,
    Reading,
    UnreadableImage,
    normalise_plate,
    read_plate,
)
from app.alpr.ocr.cli import ocr_cli
from app.alpr.ocr.pipeline import ACCEPT, ARBITRATE_FROM

ROOT = Path(__file__).resolve().parents[2]
DOUBTFUL = (ARBITRATE_FROM + ACCEPT) / 2  # a score the arbiter is asked about
FIXTURES = ROOT / "fixtures" / "plates"


def _labels(folder: Path) -> list[dict[str, str]]:
    with (folder / "labels.csv").open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def samples() -> Path:
    """The shared OpenALPR samples; missing samples fail loudly rather than skip."""
    root = Path(os.environ.get("ALPR_OCR_SAMPLES") or ROOT / ".." / "shared" / "ocr").resolve()
    if not (root / "crops" / "labels.csv").is_file():
        pytest.fail(
            f"OCR samples not found in {root}: put them at ../shared/ocr next to the repository "
            "or point ALPR_OCR_SAMPLES at a folder with crops/ and scenes/"
        )
    return root


def test_reads_a_sample_of_real_crops(samples: Path) -> None:
    rows = _labels(samples / "crops")[::10]  # every state's plates are spread through the file
    right = sum(
        read_plate((samples / "crops" / r["file"]).read_bytes(), cropped=True).plate
        == normalise_plate(r["plate"])
        for r in rows
    )
    assert right / len(rows) >= 0.8, f"{right}/{len(rows)} crops read exactly"


def test_finds_and_reads_plates_in_a_sample_of_scenes(samples: Path) -> None:
    rows = _labels(samples / "scenes")[::15]
    right = sum(
        read_plate((samples / "scenes" / r["file"]).read_bytes(), cropped=False).plate
        == normalise_plate(r["plate"])
        for r in rows
    )
    assert right / len(rows) >= 0.5, f"{right}/{len(rows)} scenes read exactly"


@pytest.mark.parametrize("row", _labels(FIXTURES), ids=lambda r: r["plate"])
def test_reads_synthetic_fixture_plates(row: dict[str, str]) -> None:
    result = read_plate((FIXTURES / row["file"]).read_bytes(), cropped=True)
    assert result.plate == normalise_plate(row["plate"])
    assert not result.needs_review
    assert 0.0 <= result.confidence <= 1.0


def test_fixture_images_are_small_pngs() -> None:
    pngs = list(FIXTURES.glob("*.png"))
    assert len(pngs) >= 5
    assert all(p.stat().st_size < 30_000 for p in pngs)


class FakeEngine:
    """Answers every row with a fixed reading and counts how often it was asked."""

    def __init__(self, name: str, text: str, score: float) -> None:
        self.name = name
        self.reading = Reading(text, score, tuple([score] * len(text)))
        self.calls = 0

    def read(self, row: np.ndarray) -> Reading:
        self.calls += 1
        return self.reading


@pytest.fixture
def plate_png() -> bytes:
    return (FIXTURES / _labels(FIXTURES)[0]["file"]).read_bytes()


def test_confident_read_is_accepted_without_asking_the_arbiter(plate_png: bytes) -> None:
    arbiter = FakeEngine("second", "ABC128", 0.99)
    reader = PlateReader(FakeEngine("first", "ABC123", 0.999), arbiter)

    result = reader.read(plate_png, cropped=True)

    assert result == OcrResult("ABC123", 0.999, False, {"first": "ABC123"})
    assert arbiter.calls == 0


def test_doubtful_read_that_engines_disagree_on_goes_to_review(plate_png: bytes) -> None:
    reader = PlateReader(
        FakeEngine("first", "ABC123", DOUBTFUL), FakeEngine("second", "ABC128", 0.9)
    )

    result = reader.read(plate_png, cropped=True)

    assert result.needs_review
    assert result.plate == "ABC123"
    assert result.engines == {"first": "ABC123", "second": "ABC128"}


def test_doubtful_read_confirmed_by_the_arbiter_is_accepted(plate_png: bytes) -> None:
    reader = PlateReader(
        FakeEngine("first", "ABC123", DOUBTFUL), FakeEngine("second", "ABC123", 0.5)
    )

    result = reader.read(plate_png, cropped=True)

    assert not result.needs_review
    assert result.confidence > DOUBTFUL


def test_low_confidence_read_goes_to_review(plate_png: bytes) -> None:
    arbiter = FakeEngine("second", "ABC123", 0.99)
    reader = PlateReader(FakeEngine("first", "ABC123", ARBITRATE_FROM / 2), arbiter)

    result = reader.read(plate_png, cropped=True)

    assert result.needs_review
    assert result.confidence < ARBITRATE_FROM
    assert arbiter.calls == 0  # too doubtful for a second opinion to rescue


def test_nothing_readable_gives_empty_plate_and_zero_confidence() -> None:
    blank = np.full((120, 240, 3), 255, np.uint8)
    result = read_plate(blank, cropped=True)
    assert result == OcrResult("", 0.0, True, result.engines)


@pytest.mark.parametrize("data", [b"", b"this is not an image", b"\x89PNG\r\n\x1a\n broken"])
def test_non_image_raises_unreadable_image(data: bytes) -> None:
    with pytest.raises(UnreadableImage):
        read_plate(data, cropped=True)
    assert issubclass(UnreadableImage, ValueError)


def test_plate_text_is_normalised() -> None:
    assert normalise_plate(" abc-1o2 ·") == "ABC102"


def test_cli_prints_one_tab_separated_line_per_file(tmp_path: Path) -> None:
    app = Flask(__name__)
    app.cli.add_command(ocr_cli)
    good = sorted(FIXTURES.glob("*.png"))[:2]
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not a picture")

    result = app.test_cli_runner().invoke(
        args=["ocr", "read", "--cropped", *map(str, good), str(junk)]
    )

    lines = result.stdout.splitlines()
    assert len(lines) == 3
    for path, line in zip([*good, junk], lines, strict=True):
        assert re.fullmatch(rf"{re.escape(str(path))}\t[A-Z0-9]*\t[01]\.\d\d", line), line
    labels = {r["file"]: r["plate"] for r in _labels(FIXTURES)}
    assert lines[0].split("\t")[1] == labels[good[0].name]
    assert lines[2] == f"{junk}\t\t0.00"
    assert "junk.png" in result.stderr
    assert result.exit_code != 0
