"""OpenCV geometry: find rows of plate characters in a plate crop or in a whole scene.

A plate's registration is the row of the tallest, evenly sized glyphs on it; state names,
slogans and stickers are smaller, artwork is not glyph-shaped. Finding that row (instead of
handing the recogniser the whole plate) is what keeps small text and logos out of the read.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# Glyph shape limits, relative to the glyph's own height.
_MIN_ASPECT, _MAX_ASPECT = 0.08, 1.1
_MIN_FILL, _MAX_FILL = 0.12, 0.95

_PLATE_HEIGHT = 100  # crops are normalised to this height before thresholding
_SCENE_SIDE = 1280  # scenes are searched at most this large


@dataclass(frozen=True)
class Row:
    """A horizontal run of similar glyph-shaped blobs, in the searched image's pixels."""

    x1: int
    y1: int
    x2: int
    y2: int
    count: int

    @property
    def height(self) -> int:
        """Glyph height (bounding band)."""
        return self.y2 - self.y1


def to_grey(image: np.ndarray) -> np.ndarray:
    """Grey view of a BGR, BGRA or grey image."""
    if image.ndim == 2:
        return image
    code = cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY
    return cv2.cvtColor(image, code)


def _glyph_boxes(grey: np.ndarray, block: int, min_h: float, max_h: float) -> list[np.ndarray]:
    """Glyph-shaped connected components, dark-on-light and light-on-dark separately."""
    found = []
    for polarity in (cv2.THRESH_BINARY_INV, cv2.THRESH_BINARY):
        binary = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, polarity, block, 8)
        _, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
        _, _, w, h, area = stats[1:].T
        keep = (
            (h >= min_h)
            & (h <= max_h)
            & (w >= _MIN_ASPECT * h)
            & (w <= _MAX_ASPECT * h)
            & (area >= _MIN_FILL * w * h)
            & (area <= _MAX_FILL * w * h)
        )
        boxes = stats[1:][keep, :4]
        found.append(boxes[np.argsort(boxes[:, 0])])
    return found


def _group(boxes: np.ndarray, max_gap: float, min_count: int) -> list[Row]:
    """Chain boxes of similar height on one baseline, at most ``max_gap`` heights apart."""
    n = len(boxes)
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(n):
        xi, yi, wi, hi = boxes[i]
        for j in range(i + 1, n):
            xj, yj, _, hj = boxes[j]
            if xj > xi + wi + max_gap * hi:
                break
            tall = max(hi, hj)
            if (
                abs(hj - hi) <= 0.25 * tall
                and abs((yj + hj / 2) - (yi + hi / 2)) <= 0.3 * tall
                and xj >= xi + 0.5 * wi
            ):
                parent[root(j)] = root(i)
    members: dict[int, list[int]] = {}
    for i in range(n):
        members.setdefault(root(i), []).append(i)
    rows = []
    for idx in members.values():
        if len(idx) < min_count:
            continue
        b = boxes[idx]
        rows.append(
            Row(
                int(b[:, 0].min()),
                int(b[:, 1].min()),
                int((b[:, 0] + b[:, 2]).max()),
                int((b[:, 1] + b[:, 3]).max()),
                len(idx),
            )
        )
    return rows


def plate_row(plate: np.ndarray) -> np.ndarray:
    """Cut a cropped plate down to the band of its registration characters.

    The band keeps the plate's full width: characters touching artwork often fail to separate
    into blobs, and the recogniser copes with a little extra background better than with a
    clipped character. Falls back to the whole plate when no row is found.
    """
    grey = to_grey(plate)
    scale = _PLATE_HEIGHT / grey.shape[0]
    small = cv2.resize(grey, (max(1, round(grey.shape[1] * scale)), _PLATE_HEIGHT))
    rows = [
        row
        for boxes in _glyph_boxes(small, 25, 0.25 * _PLATE_HEIGHT, 0.8 * _PLATE_HEIGHT)
        for row in _group(boxes, max_gap=4.0, min_count=2)
    ]
    if not rows:
        return plate
    best = max(rows, key=lambda r: (r.count, r.height))
    pad = 0.15 * best.height
    top = max(0, int((best.y1 - pad) / scale))
    bottom = min(plate.shape[0], int(np.ceil((best.y2 + pad) / scale)))
    return plate[top:bottom]


def scene_rows(scene: np.ndarray, limit: int) -> list[np.ndarray]:
    """Crops of the ``limit`` most plate-like character rows of a whole-car photo.

    Rows with more glyphs (up to a plate's seven) come first; overlapping duplicates from the
    two polarities and block sizes are dropped. Each crop is widened by a glyph height on each
    side so a first or last character that did not separate from the plate edge is kept.
    """
    grey = to_grey(scene)
    scale = min(1.0, _SCENE_SIDE / max(grey.shape))
    small = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    rows = [
        row
        for block in (15, 31)
        for boxes in _glyph_boxes(small, block, 6, 80)
        for row in _group(boxes, max_gap=2.0, min_count=3)
    ]
    rows.sort(key=lambda r: -min(r.count, 7))
    chosen: list[Row] = []
    for row in rows:
        if not any(_overlaps(row, other) for other in chosen):
            chosen.append(row)
        if len(chosen) == limit:
            break
    height, width = scene.shape[:2]
    crops = []
    for row in chosen:
        h = row.height
        x1 = max(0, int((row.x1 - h) / scale))
        x2 = min(width, int((row.x2 + h) / scale))
        y1 = max(0, int((row.y1 - 0.25 * h) / scale))
        y2 = min(height, int((row.y2 + 0.25 * h) / scale))
        crops.append(scene[y1:y2, x1:x2])
    return crops


def _overlaps(a: Row, b: Row) -> bool:
    """True when the two rows share more than half of the smaller one's area."""
    ix = max(0, min(a.x2, b.x2) - max(a.x1, b.x1))
    iy = max(0, min(a.y2, b.y2) - max(a.y1, b.y1))
    area = min((a.x2 - a.x1) * (a.y2 - a.y1), (b.x2 - b.x1) * (b.y2 - b.y1))
    return ix * iy > 0.5 * area
