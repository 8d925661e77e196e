"""Licence-plate OCR: OpenCV finds the characters, two independent engines read them."""

from .engines import NO_READING, PlateTextEngine, RapidOcrEngine, Reading, TesseractEngine
from .pipeline import (
    ACCEPT,
    OcrResult,
    PlateReader,
    UnreadableImage,
    decode_image,
    default_reader,
    normalise_plate,
    read_plate,
)

__all__ = [
    "ACCEPT",
    "NO_READING",
    "OcrResult",
    "PlateReader",
    "PlateTextEngine",
    "RapidOcrEngine",
    "Reading",
    "TesseractEngine",
    "UnreadableImage",
    "decode_image",
    "default_reader",
    "normalise_plate",
    "read_plate",
]
