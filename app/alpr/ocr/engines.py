"""Text readers behind one small interface, so the pipeline can compare independent opinions."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import cv2
import numpy as np
import pytesseract

if TYPE_CHECKING:
    from rapidocr import RapidOCR

_ALNUM = re.compile(r"[A-Z0-9]")


@dataclass(frozen=True)
class Reading:
    """What one engine saw in one character row.

    ``char_scores`` has one score per character of ``text`` so the pipeline can drop characters
    the engine itself doubts (plate artwork read as a letter) instead of rejecting the read.
    """

    text: str
    score: float
    char_scores: tuple[float, ...]


NO_READING = Reading("", 0.0, ())


class PlateTextEngine(Protocol):
    """A reader of one row of plate characters (BGR or grey image)."""

    name: str

    def read(self, row: np.ndarray) -> Reading:
        """Return the upper-case A-Z0-9 text in ``row`` with its scores."""
        ...


def _alnum_only(chars: str, scores: list[float]) -> Reading:
    """Keep upper-cased A-Z0-9 characters with their scores; separators and symbols go."""
    kept = [(c, s) for c, s in zip(chars.upper(), scores, strict=True) if _ALNUM.fullmatch(c)]
    if not kept:
        return NO_READING
    text = "".join(c for c, _ in kept)
    char_scores = tuple(float(s) for _, s in kept)
    return Reading(text, float(np.mean(char_scores)), char_scores)


class RapidOcrEngine:
    """PP-OCR recogniser from the rapidocr wheel, run without its detector.

    The model ships inside the wheel; its path is passed explicitly so nothing is ever
    downloaded. It is loaded on first use and then shared by every call in the process.
    """

    name = "rapidocr"

    def __init__(self, *, threads: int | None = None) -> None:
        self._threads = threads
        self._ocr: RapidOCR | None = None
        self._lock = threading.Lock()

    @staticmethod
    def model_path() -> Path:
        """The recognition model bundled in the installed rapidocr wheel."""
        import rapidocr

        models = Path(rapidocr.__file__).parent / "models"
        found = sorted(models.glob("*_rec_*.onnx"))
        if not found:
            raise RuntimeError(f"no bundled rapidocr recognition model in {models}")
        return found[0]

    def _load(self) -> RapidOCR:
        with self._lock:
            if self._ocr is None:
                from rapidocr import RapidOCR

                threads = self._threads or -1
                params: dict[str, Any] = {
                    "Global.log_level": "warning",
                    "Global.use_det": False,
                    "Global.use_cls": False,
                    "Global.return_word_box": True,
                    "Rec.model_path": str(self.model_path()),
                    # Plate rows are short; the default 320 px minimum width wastes half the
                    # compute on padding.
                    "Rec.rec_img_shape": [3, 48, 160],
                    "EngineConfig.onnxruntime.intra_op_num_threads": threads,
                    "EngineConfig.onnxruntime.inter_op_num_threads": threads,
                }
                self._ocr = RapidOCR(params=params)
            return self._ocr

    def read(self, row: np.ndarray) -> Reading:
        """Recognise one row; per-character scores come from the CTC decoder."""
        ocr = self._ocr or self._load()
        if row.ndim == 2:
            row = cv2.cvtColor(row, cv2.COLOR_GRAY2BGR)
        out = ocr(row)
        if not out.txts or not out.word_results or out.word_results[0] is None:
            return NO_READING
        # The decoder scores every emitted symbol, spaces included, in text order.
        chars, scores = out.txts[0], list(out.word_results[0].confs)
        if len(chars) != len(scores):
            scores = [float(out.scores[0])] * len(chars)
        return _alnum_only(chars, scores)


class TesseractEngine:
    """Tesseract LSTM via pytesseract: slower (one process per call) but independent.

    The pipeline only calls it to confirm doubtful reads from the primary engine.
    """

    name = "tesseract"
    _CONFIG = "--oem 1 --psm 7 -c tessedit_char_whitelist=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

    def read(self, row: np.ndarray) -> Reading:
        """Recognise one row after scaling it to the glyph size tesseract is trained on."""
        grey = row if row.ndim == 2 else cv2.cvtColor(row, cv2.COLOR_BGR2GRAY)
        scale = 64 / max(1, grey.shape[0])
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        grey = cv2.copyMakeBorder(grey, 12, 12, 12, 12, cv2.BORDER_REPLICATE)
        data = pytesseract.image_to_data(
            grey, config=self._CONFIG, output_type=pytesseract.Output.DICT
        )
        chars, scores = "", []
        for word, conf in zip(data["text"], data["conf"], strict=True):
            if word.strip() and float(conf) >= 0:
                chars += word.strip()
                scores += [float(conf) / 100] * len(word.strip())
        return _alnum_only(chars, scores)
