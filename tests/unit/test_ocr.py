"""Behaviour of the plate OCR on images the repository owns: crops, scenes, review rules, CLI.

The pictures are in fixtures/ocr/ (drawn by fixtures/ocr/make_ocr_fixtures.py; see its README)
and fixtures/plates/ (the demo pictures). Accuracy on real photographs (the AGPL OpenALPR
samples in ../shared/ocr, which stay outside the repository) is measured by bench/ocr.py, not
here: these tests need nothing but a clone of the repository.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from flask import Flask

from app.alpr.ocr.cli import ocr_cli
from app.alpr.ocr.engines import PlateTextEngine, Reading
from app.alpr.ocr.pipeline import (
    ACCEPT,
    ARBITRATE_FROM,
    OcrResult,
    PlateReader,
    UnreadableImage,
    default_reader,
    normalise_plate,
    read_plate,
)
from tests.helpers import blank_picture

ROOT = Path(__file__).resolve().parents[2]
OWNED = ROOT / "fixtures" / "ocr"
CROPS = OWNED / "crops"
SCENES = OWNED / "scenes"
DEMO_PLATES = ROOT / "fixtures" / "plates"
DOUBTFUL = (ARBITRATE_FROM + ACCEPT) / 2  # a score the arbiter is asked about


def _labels(folder: Path) -> list[dict[str, str]]:
    with (folder / "labels.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def _rows(folder: Path, expect: str) -> list[dict[str, str]]:
    return [r for r in _labels(folder) if r["expect"] == expect]


def _scene(name: str) -> bytes:
    return (SCENES / name).read_bytes()


def _box(row: dict[str, str]) -> tuple[int, int, int, int]:
    return int(row["x"]), int(row["y"]), int(row["width"]), int(row["height"])


# --- the fixtures themselves -------------------------------------------------------------


@pytest.mark.parametrize("folder", [CROPS, SCENES], ids=["crops", "scenes"])
def test_owned_fixtures_are_labelled_decodable_images(folder: Path) -> None:
    images = {p.name for p in folder.iterdir() if p.suffix in {".png", ".jpg"}}
    labelled = {r["file"] for r in _labels(folder)}
    assert images == labelled
    for name in images:
        assert cv2.imread(str(folder / name)) is not None, name
    assert (OWNED / "README.md").is_file()
    assert (OWNED / "make_ocr_fixtures.py").is_file()


def test_scene_label_boxes_are_inside_their_pictures() -> None:
    for row in _labels(SCENES):
        height, width = cv2.imread(str(SCENES / row["file"])).shape[:2]
        x, y, w, h = _box(row)
        assert 0 <= x < x + w <= width and 0 <= y < y + h <= height, row


# --- plate crops, real engines -----------------------------------------------------------


@pytest.mark.parametrize("row", _rows(CROPS, "accept"), ids=lambda r: r["file"])
def test_reads_clear_and_degraded_crops_exactly_and_accepts_them(row: dict[str, str]) -> None:
    result = read_plate((CROPS / row["file"]).read_bytes(), cropped=True)

    assert result.plate == normalise_plate(row["plate"])
    assert not result.needs_review
    assert ACCEPT <= result.confidence <= 1.0
    assert result.engines["rapidocr"] == result.plate


@pytest.mark.parametrize("row", _rows(CROPS, "review"), ids=lambda r: r["file"])
def test_too_short_registration_is_read_but_sent_to_review(row: dict[str, str]) -> None:
    result = read_plate((CROPS / row["file"]).read_bytes(), cropped=True)

    assert result.plate == row["plate"]
    assert result.needs_review
    # 2-4 characters are usually a partial read: the length factor keeps the read below the
    # arbiter's band, so no second opinion is asked for.
    assert result.confidence < ARBITRATE_FROM
    assert set(result.engines) == {"rapidocr"}


@pytest.mark.parametrize("row", _labels(DEMO_PLATES), ids=lambda r: r["plate"])
def test_reads_the_demo_plate_pictures(row: dict[str, str]) -> None:
    result = read_plate((DEMO_PLATES / row["file"]).read_bytes(), cropped=True)
    assert result.plate == normalise_plate(row["plate"])
    assert not result.needs_review
    assert 0.0 <= result.confidence <= 1.0


def test_demo_plate_pictures_are_small_pngs() -> None:
    pngs = list(DEMO_PLATES.glob("*.png"))
    assert len(pngs) >= 5
    assert all(p.stat().st_size < 30_000 for p in pngs)


# --- whole scenes, real engines ----------------------------------------------------------


@pytest.mark.parametrize("row", _rows(SCENES, "accept"), ids=lambda r: r["file"])
def test_finds_and_reads_the_plate_in_a_clear_scene(row: dict[str, str]) -> None:
    result = read_plate(_scene(row["file"]), cropped=False)

    assert result.plate == normalise_plate(row["plate"])
    assert not result.needs_review
    assert ACCEPT <= result.confidence <= 1.0


def test_two_equally_clear_plates_in_one_scene_go_to_review() -> None:
    plates = {r["plate"] for r in _labels(SCENES) if r["file"] == "two_cars.jpg"}
    assert len(plates) == 2

    result = read_plate(_scene("two_cars.jpg"), cropped=False)

    assert result.plate in plates  # one of them, read exactly...
    assert result.needs_review  # ...but which car the read is for is a person's call
    # The location confidence of a close second is about one half, far below what any
    # second opinion on the text could rescue.
    assert result.confidence < ARBITRATE_FROM


def test_letters_only_row_in_a_scene_is_never_accepted() -> None:
    result = read_plate(_scene("letters_only.jpg"), cropped=False)

    assert result.plate.isalpha()
    assert result.needs_review
    assert result.confidence <= 0.6  # the kind prior of a row of letters only


def test_scene_without_a_plate_gives_empty_plate_and_zero_confidence() -> None:
    result = read_plate(_scene("no_plate.jpg"), cropped=False)
    assert result == OcrResult("", 0.0, True, result.engines)


@pytest.mark.parametrize(
    "row", [r for r in _labels(SCENES) if r["plate"]], ids=lambda r: f"{r['file']}-{r['plate']}"
)
def test_the_labelled_plate_cut_from_a_scene_reads_as_a_crop(row: dict[str, str]) -> None:
    """Cropped mode on the same pixels: what a plate camera's own detector would send."""
    scene = cv2.imread(str(SCENES / row["file"]))
    x, y, w, h = _box(row)
    margin = h // 8
    crop = scene[max(0, y - margin) : y + h + margin, max(0, x - margin) : x + w + margin]

    result = read_plate(crop, cropped=True)

    assert result.plate == normalise_plate(row["plate"])
    # In a crop the row is the plate by definition, so even a letters-only one is accepted.
    assert not result.needs_review


# --- nothing to read, not an image -------------------------------------------------------


@pytest.mark.parametrize("cropped", [True, False], ids=["cropped", "scene"])
@pytest.mark.parametrize(
    "picture",
    [
        np.full((120, 240, 3), 255, np.uint8),
        np.full((720, 1280), 128, np.uint8),
        blank_picture("PNG", (320, 160), "white"),
        blank_picture("JPEG", (1280, 720), "gray"),
    ],
    ids=["white-array", "grey-array", "white-png", "grey-jpeg"],
)
def test_blank_image_gives_empty_plate_and_zero_confidence(
    picture: bytes | np.ndarray, cropped: bool
) -> None:
    result = read_plate(picture, cropped=cropped)
    assert result == OcrResult("", 0.0, True, result.engines)


@pytest.mark.parametrize("data", [b"", b"this is not an image", b"\x89PNG\r\n\x1a\n broken"])
def test_non_image_raises_unreadable_image(data: bytes) -> None:
    with pytest.raises(UnreadableImage):
        read_plate(data, cropped=True)
    assert issubclass(UnreadableImage, ValueError)


def test_too_small_or_odd_arrays_raise_unreadable_image() -> None:
    for array in (np.zeros((4, 4, 3), np.uint8), np.zeros((50, 50, 3), np.float32)):
        with pytest.raises(UnreadableImage):
            read_plate(array, cropped=True)


def test_plate_text_is_normalised() -> None:
    assert normalise_plate(" abc-1o2 ·") == "ABC102"


# --- review rules: when the arbiter is asked and what its answer does --------------------


class FakeEngine:
    """Answers every row with a fixed reading and counts how often it was asked."""

    def __init__(
        self, name: str, text: str, score: float, char_scores: tuple[float, ...] | None = None
    ) -> None:
        self.name = name
        self.reading = Reading(text, score, char_scores or tuple([score] * len(text)))
        self.calls = 0

    def read(self, row: np.ndarray) -> Reading:
        self.calls += 1
        return self.reading


class Doubtful:
    """A real engine whose every character score is pulled into the arbiter's band."""

    def __init__(self, engine: PlateTextEngine) -> None:
        self.engine = engine
        self.name = engine.name

    def read(self, row: np.ndarray) -> Reading:
        seen = self.engine.read(row)
        return Reading(seen.text, DOUBTFUL, tuple([DOUBTFUL] * len(seen.text)))


@pytest.fixture
def plate_jpg() -> bytes:
    return (CROPS / "clean_mn.jpg").read_bytes()


def test_confident_read_is_accepted_without_asking_the_arbiter(plate_jpg: bytes) -> None:
    arbiter = FakeEngine("second", "ABC128", 0.99)
    reader = PlateReader(FakeEngine("first", "ABC123", 0.999), arbiter)

    result = reader.read(plate_jpg, cropped=True)

    assert result == OcrResult("ABC123", 0.999, False, {"first": "ABC123"})
    assert arbiter.calls == 0


def test_doubtful_read_that_engines_disagree_on_goes_to_review(plate_jpg: bytes) -> None:
    reader = PlateReader(
        FakeEngine("first", "ABC123", DOUBTFUL), FakeEngine("second", "ABC128", 0.9)
    )

    result = reader.read(plate_jpg, cropped=True)

    assert result.needs_review
    assert result.plate == "ABC123"
    assert result.confidence == pytest.approx(DOUBTFUL, abs=1e-4)
    assert result.engines == {"first": "ABC123", "second": "ABC128"}


def test_doubtful_read_confirmed_by_the_arbiter_is_accepted(plate_jpg: bytes) -> None:
    reader = PlateReader(
        FakeEngine("first", "ABC123", DOUBTFUL), FakeEngine("second", "ABC123", 0.5)
    )

    result = reader.read(plate_jpg, cropped=True)

    assert not result.needs_review
    assert result.confidence >= ACCEPT
    assert result.confidence > DOUBTFUL
    assert result.engines == {"first": "ABC123", "second": "ABC123"}


def test_arbiter_may_confirm_the_read_with_a_doubtful_character_kept(plate_jpg: bytes) -> None:
    """A character the primary doubts is dropped as artwork; the arbiter can restore it."""
    scores = (*[DOUBTFUL] * 6, 0.03)  # the last one is "surely not a character"
    primary = FakeEngine("first", "ABC1234", DOUBTFUL, scores)
    reader = PlateReader(primary, FakeEngine("second", "ABC1234", 0.9))

    result = reader.read(plate_jpg, cropped=True)

    assert result.plate == "ABC1234"
    assert result.confidence >= ACCEPT
    # Both reads stay on record for the reviewer. (Whether this agreement should also skip
    # review is the pipeline's call: today the two differing records send it to review.)
    assert result.engines == {"first": "ABC123", "second": "ABC1234"}


def test_doubtful_read_without_an_arbiter_goes_to_review(plate_jpg: bytes) -> None:
    result = PlateReader(FakeEngine("first", "ABC123", DOUBTFUL)).read(plate_jpg, cropped=True)
    assert result.needs_review
    assert result.engines == {"first": "ABC123"}


def test_low_confidence_read_goes_to_review(plate_jpg: bytes) -> None:
    arbiter = FakeEngine("second", "ABC123", 0.99)
    reader = PlateReader(FakeEngine("first", "ABC123", ARBITRATE_FROM / 2), arbiter)

    result = reader.read(plate_jpg, cropped=True)

    assert result.needs_review
    assert result.confidence < ARBITRATE_FROM
    assert arbiter.calls == 0  # too doubtful for a second opinion to rescue


def test_real_tesseract_confirms_a_doubtful_rapidocr_read_of_a_clear_plate(
    plate_jpg: bytes,
) -> None:
    engines = default_reader()
    reader = PlateReader(Doubtful(engines.primary), engines.arbiter)

    result = reader.read(plate_jpg, cropped=True)

    assert result == OcrResult(
        "BKR4821", result.confidence, False, {"rapidocr": "BKR4821", "tesseract": "BKR4821"}
    )
    assert result.confidence >= ACCEPT


@pytest.mark.parametrize("row", _rows(CROPS, "accept"), ids=lambda r: r["file"])
def test_real_arbiter_decides_doubtful_reads_by_agreement_only(row: dict[str, str]) -> None:
    """Whatever tesseract makes of a plate, the rule holds: agree → accept, else → review."""
    engines = default_reader()
    reader = PlateReader(Doubtful(engines.primary), engines.arbiter)

    result = reader.read((CROPS / row["file"]).read_bytes(), cropped=True)

    second = result.engines["tesseract"]  # the arbiter was asked, and its read is on record
    assert result.plate == normalise_plate(row["plate"])  # the primary's read either way
    assert result.engines["rapidocr"] == result.plate
    assert result.needs_review == (second != result.plate)
    assert (result.confidence >= ACCEPT) == (second == result.plate)


def test_scene_rows_the_arbiter_confirms_still_need_a_clear_location() -> None:
    """An arbiter vouches for the text, not for which row was the plate."""
    reader = PlateReader(
        FakeEngine("first", "ABC123", DOUBTFUL), FakeEngine("second", "ABC123", 0.9)
    )

    result = reader.read(_scene("two_cars.jpg"), cropped=False)

    # Every row reads the same here, so the best one has an equal runner-up.
    assert result.engines == {"first": "ABC123", "second": "ABC123"}
    assert result.needs_review
    assert result.confidence < ACCEPT


# --- `flask --app wsgi ocr read [--cropped] FILE...` -------------------------------------


def _cli() -> Flask:
    app = Flask(__name__)
    app.cli.add_command(ocr_cli)
    return app


def test_cli_prints_one_tab_separated_line_per_file(tmp_path: Path) -> None:
    rows = _rows(CROPS, "accept")[:2]
    good = [CROPS / r["file"] for r in rows]
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not a picture")

    result = (
        _cli()
        .test_cli_runner()
        .invoke(args=["ocr", "read", "--cropped", *map(str, good), str(junk)])
    )

    lines = result.stdout.splitlines()
    assert len(lines) == 3
    for path, line in zip([*good, junk], lines, strict=True):
        assert re.fullmatch(rf"{re.escape(str(path))}\t[A-Z0-9]*\t[01]\.\d\d", line), line
    assert [line.split("\t")[1] for line in lines[:2]] == [r["plate"] for r in rows]
    assert lines[2] == f"{junk}\t\t0.00"
    assert "junk.png" in result.stderr
    assert result.exit_code != 0


def test_cli_reads_scenes_and_prints_empty_plate_for_a_blank_picture(tmp_path: Path) -> None:
    scene = SCENES / "rear_mn.jpg"
    blank = tmp_path / "blank.png"
    blank.write_bytes(blank_picture("PNG", (1280, 720)))

    result = _cli().test_cli_runner().invoke(args=["ocr", "read", str(scene), str(blank)])

    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    plate_line, blank_line = result.stdout.splitlines()
    path, plate, confidence = plate_line.split("\t")
    assert (path, plate) == (str(scene), "BKR4821")
    assert float(confidence) >= round(ACCEPT, 2)
    assert blank_line == f"{blank}\t\t0.00"


def test_cli_is_registered_on_the_application(app: Flask) -> None:
    """The documented entry point is `flask --app wsgi ocr read`: the real app has the group."""
    crop = CROPS / "clean_wi.png"

    result = app.test_cli_runner().invoke(args=["ocr", "read", "--cropped", str(crop)])

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{crop}\t7TJW360\t")
