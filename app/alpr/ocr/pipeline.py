"""Plate reading: locate the characters, read them, and say how far the read can be trusted."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import cv2
import numpy as np

from .engines import PlateTextEngine, RapidOcrEngine, Reading, TesseractEngine
from .locate import plate_row, scene_rows

# A read at or above this confidence is accepted without human review.
ACCEPT = 0.975
# Below ACCEPT but at least this, the arbiter is asked; lower reads go straight to review
# (the arbiter costs a process start, so it is kept for reads it can plausibly rescue).
ARBITRATE_FROM = 0.955
# Characters the recogniser scores below this are taken for plate artwork (an orange, a
# cactus, a lighthouse) and dropped, unless that would leave fewer than _MIN_KEEP characters.
DROP_BELOW = 0.6
_MIN_KEEP = 4
# Rows tried per scene; the plate is almost always among the most glyph-rich rows.
SCENE_CANDIDATES = 16
_SHARPNESS = 8

_NOT_ALNUM = re.compile(r"[^A-Z0-9]")


class UnreadableImage(ValueError):
    """The input is not a decodable image."""


@dataclass(frozen=True)
class OcrResult:
    """A plate read.

    ``plate`` is normalised (see :func:`normalise_plate`), empty when nothing was readable.
    ``engines`` maps each engine consulted to what it read, for the reviewer.
    """

    plate: str
    confidence: float
    needs_review: bool
    engines: dict[str, str] = field(default_factory=dict)


def normalise_plate(text: str) -> str:
    """Upper-case A-Z0-9 with the letter O folded into the digit 0.

    Most US plates print O and 0 with one glyph and records (and the OpenALPR ground truth)
    write it as 0, so no reader can tell them apart; folding makes reads comparable.
    """
    return _NOT_ALNUM.sub("", text.upper()).replace("O", "0")


def decode_image(image: bytes | np.ndarray) -> np.ndarray:
    """BGR uint8 pixels from encoded bytes or an array; UnreadableImage otherwise."""
    if isinstance(image, bytes | bytearray | memoryview):
        if not image:
            raise UnreadableImage("empty image data")
        pixels = cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_COLOR)
        if pixels is None:
            raise UnreadableImage("data is not a supported image format")
        return pixels
    if not isinstance(image, np.ndarray):
        raise UnreadableImage(f"expected bytes or a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8 or image.size == 0 or min(image.shape[:2]) < 8:
        raise UnreadableImage(f"not an 8-bit image of at least 8x8 pixels: {image.shape}")
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.ndim == 3 and image.shape[2] == 3:
        return image
    raise UnreadableImage(f"unsupported pixel layout {image.shape}")


@dataclass(frozen=True)
class _Candidate:
    """A recogniser read made plate-shaped, with the confidence that it is the whole plate."""

    text: str  # normalised, doubtful characters dropped
    letters: str  # the same characters before O/0 folding, to judge what kind of text it is
    undropped: str  # normalised, nothing dropped: what an arbiter may confirm instead
    confidence: float


def _length_factor(length: int) -> float:
    """US registrations are mostly 5-8 characters; shorter reads are often partial."""
    if 5 <= length <= 8:
        return 1.0
    if length == 4:
        return 0.85
    return 0.5


def _tidy(reading: Reading) -> _Candidate:
    """Drop doubtful characters; confidence = the weakest evidence behind the result.

    Each kept character counts with its score, each dropped one with the chance that it
    really was not a character (1 - score).
    """
    scores = reading.char_scores
    drop = [s < DROP_BELOW for s in scores]
    if len(scores) - sum(drop) < _MIN_KEEP:
        drop = [False] * len(scores)
    kept = "".join(c for c, d in zip(reading.text, drop, strict=True) if not d)
    undropped = normalise_plate(reading.text)
    if not kept:
        return _Candidate("", "", undropped, 0.0)
    evidence = [1 - s if d else s for s, d in zip(scores, drop, strict=True)]
    confidence = min(evidence) * _length_factor(len(kept))
    return _Candidate(normalise_plate(kept), kept, undropped, confidence)


def _kind_prior(candidate: _Candidate) -> float:
    """Registrations usually mix letters and digits; signs, words and date stamps do not."""
    has_digit = any(c.isdigit() for c in candidate.letters)
    has_letter = any(c.isalpha() for c in candidate.letters)
    return 1.0 if has_digit and has_letter else 0.7 if has_digit else 0.6


def _plausibility(candidate: _Candidate) -> float:
    """Rank scene rows by how likely they are a whole, well-read registration."""
    return candidate.confidence * _kind_prior(candidate)


def _location_confidence(best: _Candidate, runner_up: float) -> float:
    """How sure we are that the best-ranked scene row is the plate.

    The kind prior times a sharpened two-way share against the runner-up: a clear winner
    keeps ~1, a close second (another car's plate, a phone number on a van) pulls it towards
    0.5, and a row of only letters or only digits stays below acceptance.
    """
    score = _plausibility(best)
    if score <= 0:
        return 0.0
    share = score**_SHARPNESS / (score**_SHARPNESS + runner_up**_SHARPNESS)
    return _kind_prior(best) * share


class PlateReader:
    """Reads plates with a fast primary engine and asks an arbiter only about doubtful reads."""

    def __init__(self, primary: PlateTextEngine, arbiter: PlateTextEngine | None = None) -> None:
        self.primary = primary
        self.arbiter = arbiter

    def read(self, image: bytes | np.ndarray, *, cropped: bool) -> OcrResult:
        """Read the plate in a plate crop (``cropped``) or a whole-vehicle photo."""
        pixels = decode_image(image)
        if cropped:
            row = plate_row(pixels)
            return self._decide(row, _tidy(self.primary.read(row)), located=1.0)
        rows = scene_rows(pixels, SCENE_CANDIDATES)
        if not rows:
            return OcrResult("", 0.0, True, {self.primary.name: ""})
        candidates = [_tidy(self.primary.read(r)) for r in rows]
        ranked = sorted(range(len(rows)), key=lambda i: -_plausibility(candidates[i]))
        best = ranked[0]
        runner_up = _plausibility(candidates[ranked[1]]) if len(ranked) > 1 else 0.0
        located = _location_confidence(candidates[best], runner_up)
        return self._decide(rows[best], candidates[best], located)

    def _decide(self, row: np.ndarray, candidate: _Candidate, located: float) -> OcrResult:
        """Accept confident reads; let the arbiter confirm doubtful ones; review the rest.

        ``located`` is the confidence that ``row`` is the plate at all: an arbiter can confirm
        the text but not the choice of row, so it multiplies the text confidence.
        """
        engines = {self.primary.name: candidate.text}
        if not candidate.text:
            return OcrResult("", 0.0, True, engines)
        plate, text_confidence = candidate.text, candidate.confidence
        if ARBITRATE_FROM <= text_confidence < ACCEPT and self.arbiter is not None:
            second = normalise_plate(self.arbiter.read(row).text)
            engines[self.arbiter.name] = second
            if second and second in (candidate.text, candidate.undropped):
                # Two independent readers agreeing is strong evidence, whatever their scores.
                plate, text_confidence = second, max(ACCEPT, (1 + text_confidence) / 2)
        confidence = round(text_confidence * located, 4)
        disagree = len(set(engines.values())) > 1
        return OcrResult(plate, confidence, disagree or confidence < ACCEPT, engines)


@functools.cache
def default_reader() -> PlateReader:
    """The process-wide reader: rapidocr first, tesseract to arbitrate."""
    return PlateReader(RapidOcrEngine(), TesseractEngine())


def read_plate(image: bytes | np.ndarray, *, cropped: bool) -> OcrResult:
    """Read one plate image with the default engines (see :class:`PlateReader`)."""
    return default_reader().read(image, cropped=cropped)
