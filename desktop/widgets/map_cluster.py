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

How a bubble looks (:class:`BubbleLook`) says what it counts. Case bubbles are the loudest
thing on the map: solid, in the colour of their worst case, white bold numbers, a halo. Source
clusters are background information: small, pale and translucent, a thin grey ring and small
grey numbers — they never read as cases.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass, replace

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen


@dataclass(frozen=True, slots=True)
class BubbleLook:
    """How a count bubble is drawn; hashable, so bubble sprites are cached per look."""

    fill: tuple[int, int, int, int] = (38, 50, 56, 215)
    text: tuple[int, int, int, int] = (255, 255, 255, 255)
    ring: tuple[int, int, int, int] = (255, 255, 255, 230)
    ring_px: float = 1.5
    halo: bool = True          # a wider translucent disc around it (the loud kind)
    radius: float = 8.0        # px of the ring, for one point; grows by ``growth`` per factor of ten
    growth: float = 3.0
    bold: bool = True
    text_scale: float = 1.0

    def radius_of(self, count) -> np.ndarray | float:
        return self.radius + self.growth * np.log10(np.maximum(np.asarray(count, dtype=float), 1.0))

    def with_fill(self, rgba) -> BubbleLook:
        return replace(self, fill=tuple(int(v) for v in rgba))


CASE_LOOK = BubbleLook()
SOURCE_LOOK = BubbleLook(fill=(245, 247, 248, 200), text=(69, 90, 100, 255), ring=(120, 144, 156, 230),
                         ring_px=1.0, halo=False, radius=6.5, growth=2.5, bold=False, text_scale=0.85)


@dataclass(frozen=True, slots=True)
class ClusterStyle:
    look: BubbleLook = CASE_LOOK
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


_BUBBLES: dict[tuple, QImage] = {}
_BUBBLE_LOCK = threading.Lock()
HALO_PX = 4.0  # how far the halo of a loud bubble reaches beyond its ring


def bubble_image(count: int, look: BubbleLook, dpr: float) -> QImage:
    """A round count bubble (cached per text, look and pixel ratio); its centre is its middle."""
    text = count_text(count)
    radius = round(float(look.radius_of(count)) * 2) / 2
    key = (text, radius, look, dpr)
    image = _BUBBLES.get(key)
    if image is not None:
        return image
    side = 2 * radius + (2 * HALO_PX if look.halo else 2)
    image = QImage(math.ceil(side * dpr), math.ceil(side * dpr), QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(dpr)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    fill = QColor(*look.fill)
    if look.halo:
        halo = QColor(fill)
        halo.setAlpha(70)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(halo)
        painter.drawEllipse(QRectF(0.5, 0.5, side - 1, side - 1))
    inset = (side - 2 * radius) / 2
    painter.setBrush(fill)
    painter.setPen(QPen(QColor(*look.ring), look.ring_px))
    painter.drawEllipse(QRectF(inset, inset, 2 * radius, 2 * radius))
    font = QFont()
    font.setFamilies(["Noto Sans CJK SC", "DejaVu Sans", "sans-serif"])
    font.setPixelSize(max(8, int((radius + 2) * (0.8 if len(text) <= 2 else 0.62) * look.text_scale)))
    font.setBold(look.bold)
    painter.setFont(font)
    painter.setPen(QColor(*look.text))
    painter.drawText(QRectF(0, 0, side, side), Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    with _BUBBLE_LOCK:
        if len(_BUBBLES) > 4000:
            _BUBBLES.clear()
        _BUBBLES[key] = image
    return image


def draw_bubbles(painter: QPainter, sx: np.ndarray, sy: np.ndarray, counts: np.ndarray,
                 look, dpr: float, order: np.ndarray | None = None) -> None:
    """Draw bubbles at screen points, the biggest last so it stays readable on top.

    ``look``: one :class:`BubbleLook` for all, or a sequence with one per bubble; ``order``:
    drawing order (default: by count).
    """
    single = isinstance(look, BubbleLook)
    for i in (np.argsort(counts, kind="stable") if order is None else order).tolist():
        image = bubble_image(int(counts[i]), look if single else look[i], dpr)
        half = image.width() / dpr / 2
        painter.drawImage(int(round(sx[i] - half)), int(round(sy[i] - half)), image)


def bubble_rects(sx: np.ndarray, sy: np.ndarray, counts: np.ndarray, look: BubbleLook = CASE_LOOK) -> np.ndarray:
    """(N, 4) screen rectangles (left, top, right, bottom) the bubbles cover, for label avoidance."""
    radius = look.radius_of(counts) + (HALO_PX if look.halo else 1.0)
    return np.column_stack([sx - radius, sy - radius, sx + radius, sy + radius])
