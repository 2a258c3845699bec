"""Screen-grid aggregation of many points, and the count bubbles that show it.

Zoomed out, 100,000 sources would be one smear; instead the view is cut into cells of
``cell_px`` pixels, anchored to the map (not the screen, so clusters stay put while
panning), and a cell holding at least ``min_count`` points becomes one bubble with the
count, drawn at the points' mean. Whether a view is aggregated at all depends on how crowded
it is, not on a fixed scale (:func:`choose_clusters`): a view is clustered once it holds more
than ``min_points`` points, or once at least ``crowded_share`` of its points sit in crowded
cells — so the demo's 2,000 sources are bubbles at district scale and symbols a few zoom
steps in, while 100,000 sources stay bubbles until the view holds only a few thousand.
Cells with fewer points, and points the caller wants to keep apart (key sources when few
are in view, pulsing alarms), are drawn one by one.

With ``classes`` (a severity per point, higher is worse) every bubble also carries the worst
class among its points, so a bubble of case pins can be coloured like its most urgent case.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen


@dataclass(frozen=True, slots=True)
class ClusterStyle:
    colour: tuple[int, int, int, int] = (38, 50, 56, 215)
    cell_px: float = 64.0
    min_count: int = 8
    max_res: float = 0.6  # m/px: closer than about 1:2,000 every point is shown
    min_points: int = 3000  # more in view: always aggregated (crowded cells only)
    crowded_share: float = 0.3  # or: aggregated once this share of the points in view is crowded


@dataclass(frozen=True, slots=True)
class Clusters:
    """``x, y``: bubble centres (world metres); ``counts``: points per bubble; ``singles``: indices drawn alone."""

    x: np.ndarray
    y: np.ndarray
    counts: np.ndarray
    singles: np.ndarray
    worst: np.ndarray | None = None  # per bubble: the highest class among its points (with ``classes``)

    @property
    def total(self) -> int:
        return int(self.counts.sum()) + len(self.singles)


def cluster_points(x: np.ndarray, y: np.ndarray, cell_m: float, min_count: int,
                   keep_apart: np.ndarray | None = None, classes: np.ndarray | None = None) -> Clusters:
    """Aggregate points (world metres) into map-anchored cells of ``cell_m`` metres.

    ``classes`` (ints, higher = worse): each bubble's ``worst`` is the maximum over its points.
    """
    n = len(x)
    apart = np.zeros(n, dtype=bool) if keep_apart is None else np.asarray(keep_apart, dtype=bool)
    pool = np.nonzero(~apart)[0]
    if not len(pool):
        return Clusters(np.empty(0), np.empty(0), np.empty(0, np.int64), np.arange(n),
                        None if classes is None else np.empty(0, np.int64))
    gx = np.floor(x[pool] / cell_m).astype(np.int64)
    gy = np.floor(y[pool] / cell_m).astype(np.int64)
    gx -= gx.min()
    gy -= gy.min()
    # A view spans a few dozen cells each way: a dense bincount beats sorting 100,000 keys.
    cell = gy * (int(gx.max()) + 1) + gx
    counts = np.bincount(cell)
    big = counts >= min_count
    in_cluster = big[cell]
    cells = np.nonzero(big)[0]
    sum_x = np.bincount(cell, weights=x[pool], minlength=len(counts))[cells]
    sum_y = np.bincount(cell, weights=y[pool], minlength=len(counts))[cells]
    worst = None
    if classes is not None:
        per_cell = np.full(len(big), -1, dtype=np.int64)
        np.maximum.at(per_cell, cell[in_cluster], np.asarray(classes, dtype=np.int64)[pool[in_cluster]])
        worst = per_cell[cells]
    counts = counts[cells]
    cx, cy = sum_x / counts, sum_y / counts
    singles = np.sort(np.concatenate([pool[~in_cluster], np.nonzero(apart)[0]]))
    return Clusters(cx, cy, counts.astype(np.int64), singles, worst)


def choose_clusters(style: ClusterStyle | None, x: np.ndarray, y: np.ndarray, res: float,
                    keep_apart: np.ndarray | None = None, classes: np.ndarray | None = None) -> Clusters | None:
    """The bubbles for the points in view (metres) at ``res`` m/px, or None to draw every point.

    Density decides, not scale: below ``max_res`` never; above ``min_points`` points always;
    in between only when at least ``crowded_share`` of the points would end up in bubbles.
    """
    n = len(x)
    if style is None or res <= style.max_res or n < style.min_count:
        return None
    clusters = cluster_points(x, y, style.cell_px * res, style.min_count, keep_apart, classes)
    if n > style.min_points:
        return clusters
    clustered = n - len(clusters.singles)
    return clusters if clustered >= style.crowded_share * n else None


def count_text(count: int) -> str:
    """What a bubble says: the exact count up to 9,999, then 万 (ten thousands)."""
    if count < 10_000:
        return str(count)
    return f"{count / 10_000:.1f}万".replace(".0万", "万")


def bubble_radius(count: int) -> float:
    return 10.0 + 3.0 * math.log10(max(count, 1))


_BUBBLES: dict[tuple, QImage] = {}
_BUBBLE_LOCK = threading.Lock()


def bubble_image(count: int, colour: tuple[int, int, int, int], dpr: float) -> QImage:
    """A round count bubble (cached per text, colour and pixel ratio); its centre is its middle."""
    text = count_text(count)
    radius = round(bubble_radius(count) * 2) / 2
    key = (text, radius, colour, dpr)
    image = _BUBBLES.get(key)
    if image is not None:
        return image
    side = 2 * radius + 4
    image = QImage(math.ceil(side * dpr), math.ceil(side * dpr), QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(dpr)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    fill = QColor(*colour)
    halo = QColor(fill)
    halo.setAlpha(70)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(halo)
    painter.drawEllipse(QRectF(0.5, 0.5, side - 1, side - 1))
    painter.setBrush(fill)
    painter.setPen(QPen(QColor(255, 255, 255, 230), 1.5))
    painter.drawEllipse(QRectF(4, 4, side - 8, side - 8))
    font = QFont()
    font.setFamilies(["Noto Sans CJK SC", "DejaVu Sans", "sans-serif"])
    font.setPixelSize(max(9, int(radius * (0.8 if len(text) <= 2 else 0.62))))
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(QColor("white"))
    painter.drawText(QRectF(0, 0, side, side), Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    with _BUBBLE_LOCK:
        if len(_BUBBLES) > 4000:
            _BUBBLES.clear()
        _BUBBLES[key] = image
    return image


def draw_bubbles(painter: QPainter, sx: np.ndarray, sy: np.ndarray, counts: np.ndarray,
                 colour, dpr: float, order: np.ndarray | None = None) -> None:
    """Draw bubbles at screen points, the biggest last so it stays readable on top.

    ``colour``: one RGBA for all, or a sequence with one per bubble; ``order``: drawing order
    (default: by count).
    """
    single = len(colour) == 4 and isinstance(colour[0], (int, np.integer))
    for i in (np.argsort(counts, kind="stable") if order is None else order).tolist():
        image = bubble_image(int(counts[i]), tuple(colour) if single else tuple(colour[i]), dpr)
        half = image.width() / dpr / 2
        painter.drawImage(int(round(sx[i] - half)), int(round(sy[i] - half)), image)


def bubble_rects(sx: np.ndarray, sy: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """(N, 4) screen rectangles (left, top, right, bottom) the bubbles cover, for label avoidance."""
    radius = 10.0 + 3.0 * np.log10(np.maximum(np.asarray(counts, dtype=float), 1.0)) + 2.0
    return np.column_stack([sx - radius, sy - radius, sx + radius, sy + radius])
