"""Screen-grid aggregation of many points, and the count bubbles that show it.

Zoomed out, 100,000 sources would be one smear; instead the view is cut into cells of
``cell_px`` pixels, anchored to the map (not the screen, so clusters stay put while
panning), and a cell holding at least ``min_count`` points becomes one bubble with the
count, drawn at the points' mean — once the view holds more than ``min_points`` (a ledger
of 2,000 sources reads fine symbol by symbol). Cells with fewer points, and points the caller wants to
keep apart (key sources when few are in view), are drawn one by one.
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
    min_points: int = 3000  # fewer in view: symbols stay readable one by one, no bubbles at all


@dataclass(frozen=True, slots=True)
class Clusters:
    """``x, y``: bubble centres (world metres); ``counts``: points per bubble; ``singles``: indices drawn alone."""

    x: np.ndarray
    y: np.ndarray
    counts: np.ndarray
    singles: np.ndarray

    @property
    def total(self) -> int:
        return int(self.counts.sum()) + len(self.singles)


def cluster_points(x: np.ndarray, y: np.ndarray, cell_m: float, min_count: int,
                   keep_apart: np.ndarray | None = None) -> Clusters:
    """Aggregate points (world metres) into map-anchored cells of ``cell_m`` metres."""
    n = len(x)
    apart = np.zeros(n, dtype=bool) if keep_apart is None else np.asarray(keep_apart, dtype=bool)
    pool = np.nonzero(~apart)[0]
    if not len(pool):
        return Clusters(np.empty(0), np.empty(0), np.empty(0, np.int64), np.arange(n))
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
    counts = counts[cells]
    cx, cy = sum_x / counts, sum_y / counts
    singles = np.sort(np.concatenate([pool[~in_cluster], np.nonzero(apart)[0]]))
    return Clusters(cx, cy, counts.astype(np.int64), singles)


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
                 colour: tuple[int, int, int, int], dpr: float) -> None:
    """Draw bubbles at screen points, the biggest last so it stays readable on top."""
    for i in np.argsort(counts, kind="stable").tolist():
        image = bubble_image(int(counts[i]), colour, dpr)
        half = image.width() / dpr / 2
        painter.drawImage(int(round(sx[i] - half)), int(round(sy[i] - half)), image)
