"""Grid names on the map: greedy, collision-free placement and cached halo sprites.

Placement is first come, first served over one render (each label tries its anchor, then a
few positions around it): label layers are painted from
the upper grid level down, and within a level from the largest grid to the smallest, so
a town's name is never pushed out by a village's. Point layers painted before the labels
(key sources, cluster bubbles, case pins, stations: see ``map_obstacles``) ``block`` the cells
under their symbols first, so a name never covers them. A label takes its place only where no
earlier one is; occupancy is a boolean bitmap of 4-px cells, and every placed rectangle is
rounded outwards to whole cells, so placed labels can never overlap.

Names of towns and streets (level 2) outrank every symbol: at district scale they are how a
reader finds their way. They look for a free place first, a little further around their
anchor than other names do; finding none they cover ordinary symbols, then any symbol — never
another name (two town names that truly collide: the smaller town's is left out). Such names are
drawn *on top* (``RenderContext.on_top``), above the case pins and stations of the live image,
so nothing hides them.

Drawing text with a halo (a stroked glyph path under the filled one) costs ~50 µs a
label; the result is kept as a small QImage per (text, font, colour, device pixel ratio),
so a label seen before is one ``drawImage``.
"""
from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPainterPath, QPen

LABEL_FONTS = ["Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", "sans-serif"]
CELL_PX = 4
PADDING_PX = 3.0        # free space kept around every label
HALO_PX = 3.0
MAX_CANDIDATES = 4000   # per layer and render: more would never fit on one screen anyway
SHORT_NAME = re.compile(r"(第[0-9一二三四五六七八九十]+(?:网格|片区|组))$")


class LabelPlacer:
    """Greedy label placement over one screen; ``placed`` lists what was accepted."""

    def __init__(self, width: int, height: int):
        self.width, self.height = width, height
        self.cells = np.zeros((math.ceil(height / CELL_PX) + 1, math.ceil(width / CELL_PX) + 1), dtype=bool)
        self.hard = np.zeros_like(self.cells)  # pins, stations: only a name that outranks symbols covers them
        self.soft = np.zeros_like(self.cells)  # ordinary symbols and bubbles: names of towns may cover them
        self.placed: list[QRectF] = []
        self.blocked = 0  # symbol rectangles marked by ``block``

    def _span(self, rect: QRectF) -> tuple[int, int, int, int]:
        return (int(math.floor((rect.left() - PADDING_PX) / CELL_PX)),
                int(math.floor((rect.top() - PADDING_PX) / CELL_PX)),
                int(math.ceil((rect.right() + PADDING_PX) / CELL_PX)),
                int(math.ceil((rect.bottom() + PADDING_PX) / CELL_PX)))

    def block(self, rects: np.ndarray, *, soft: bool = False) -> None:
        """Mark screen rectangles (N, 4: left, top, right, bottom) as taken by symbols, not labels.

        ``soft``: symbols a name avoids when it can (ordinary sources, cluster bubbles) but an
        upper-level name may still cover as a last resort; hard ones (pins, stations) only a name
        that outranks every symbol (a town's) covers, and only where it finds no other place.
        """
        rects = np.asarray(rects, dtype=float).reshape(-1, 4)
        if not len(rects):
            return
        rows, cols = self.cells.shape
        x0 = np.clip(np.floor(rects[:, 0] / CELL_PX), 0, cols).astype(np.int64)
        y0 = np.clip(np.floor(rects[:, 1] / CELL_PX), 0, rows).astype(np.int64)
        x1 = np.clip(np.ceil(rects[:, 2] / CELL_PX), 0, cols).astype(np.int64)
        y1 = np.clip(np.ceil(rects[:, 3] / CELL_PX), 0, rows).astype(np.int64)
        keep = (x1 > x0) & (y1 > y0)
        x0, y0, x1, y1 = x0[keep], y0[keep], x1[keep], y1[keep]
        if not len(x0):
            return
        # Symbols span a few cells each way: loop over the offsets, not over the symbols.
        target = self.soft if soft else self.hard
        for dy in range(int((y1 - y0).max())):
            for dx in range(int((x1 - x0).max())):
                take = (x0 + dx < x1) & (y0 + dy < y1)
                target[y0[take] + dy, x0[take] + dx] = True
        self.blocked += int(len(x0))

    def fits(self, rect: QRectF, *, over_soft: bool = False, over_symbols: bool = False) -> bool:
        """Whether ``rect`` lies on screen and touches no placed label nor symbol
        (``over_soft``: soft symbols do not count; ``over_symbols``: no symbol counts)."""
        if rect.left() < 0 or rect.top() < 0 or rect.right() > self.width or rect.bottom() > self.height:
            return False  # a name cut by the edge is worse than none; panning brings it back
        x0, y0, x1, y1 = self._span(rect)
        x0, y0 = max(x0, 0), max(y0, 0)
        if self.cells[y0:y1, x0:x1].any():
            return False
        return over_symbols or not (self.hard[y0:y1, x0:x1].any()
                                    or (not over_soft and self.soft[y0:y1, x0:x1].any()))

    def take(self, rect: QRectF) -> None:
        """Mark ``rect`` as a placed label (after ``fits``)."""
        x0, y0, x1, y1 = self._span(rect)
        self.cells[max(y0, 0):y1, max(x0, 0):x1] = True
        self.placed.append(QRectF(rect))

    def try_place(self, rect: QRectF, *, over_soft: bool = False, over_symbols: bool = False) -> bool:
        """Take ``rect`` if it ``fits``."""
        if not self.fits(rect, over_soft=over_soft, over_symbols=over_symbols):
            return False
        self.take(rect)
        return True


class _SpriteCache:
    """Least-recently-used halo sprites and text widths, shared by all render jobs."""

    def __init__(self, capacity: int = 6000):
        self.capacity = capacity
        self._sprites: OrderedDict[tuple, QImage] = OrderedDict()
        self._widths: dict[tuple, float] = {}
        self._lock = threading.Lock()

    def width(self, font_key: str, metrics: QFontMetricsF, text: str) -> float:
        key = (font_key, text)
        width = self._widths.get(key)
        if width is None:
            if len(self._widths) > 4 * self.capacity:
                self._widths.clear()
            width = self._widths[key] = metrics.horizontalAdvance(text)
        return width

    def sprite(self, font: QFont, font_key: str, metrics: QFontMetricsF, text: str, ink: QColor,
               dpr: float) -> QImage:
        key = (font_key, text, ink.rgba(), dpr)
        with self._lock:
            image = self._sprites.get(key)
            if image is not None:
                self._sprites.move_to_end(key)
                return image
        image = _halo_image(font, metrics, text, ink, dpr)
        with self._lock:
            self._sprites[key] = image
            while len(self._sprites) > self.capacity:
                self._sprites.popitem(last=False)
        return image


SPRITES = _SpriteCache()


def _halo_image(font: QFont, metrics: QFontMetricsF, text: str, ink: QColor, dpr: float) -> QImage:
    width = metrics.horizontalAdvance(text) + 2 * HALO_PX
    height = metrics.height() + 2 * HALO_PX
    image = QImage(max(1, math.ceil(width * dpr)), max(1, math.ceil(height * dpr)),
                   QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(dpr)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    path = QPainterPath()
    path.addText(QPointF(HALO_PX, HALO_PX + metrics.ascent()), font, text)
    # Dark ink on a white halo; light ink (a dark map, as on the wall) on a dark one.
    halo = QPen(QColor(11, 18, 32, 235) if ink.lightness() > 160 else QColor(255, 255, 255, 235), HALO_PX)
    halo.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.strokePath(path, halo)
    painter.fillPath(path, ink)
    painter.end()
    return image


def label_font(point_size: float, bold: bool) -> QFont:
    font = QFont()
    font.setFamilies(LABEL_FONTS)
    font.setPointSizeF(point_size)
    font.setBold(bold)
    return font


def short_name(text: str) -> str | None:
    """``北石庄村第3网格`` → ``第3网格``: what still fits when the whole name does not."""
    match = SHORT_NAME.search(text)
    return match.group(1) if match and match.start() > 0 else None


def _candidates(width: float, height: float, room: float, *, far: bool = False) -> list[tuple[float, float]]:
    """Offsets to try, best first: on the anchor, then just above, below, right and left of it
    (a symbol or bubble on the anchor pushes the name aside rather than off the map); sideways
    only as far as the grid is wide. ``far``: then, nearest first, the places up to four lines
    above and below and a name's width aside (names that would rather move than cover a pin)."""
    step_y = height * 0.9
    side = max(0.0, min((room - width) / 2, width * 0.6))
    offsets = [(0.0, 0.0), (0.0, -step_y), (0.0, step_y)]
    if side >= 4:
        offsets += [(side, 0.0), (-side, 0.0)]
    offsets += [(0.0, -2 * step_y), (0.0, 2 * step_y)]
    if far:
        reach = max(0.0, min((room - width) / 2, width))
        steps = (-reach, -reach / 2, 0.0, reach / 2, reach) if reach >= 4 else (0.0,)
        around = {(dx, k * step_y) for k in range(-4, 5) for dx in steps}
        offsets += sorted(around - set(offsets), key=lambda o: (math.hypot(o[0], 1.5 * o[1]), o))
    return offsets


# What a label may cover, tried in turn: nothing; ordinary symbols; any symbol (never a name).
_CLEAR, _OVER_SOFT, _OVER_SYMBOLS = (False, False), (True, False), (True, True)


def place_labels(painter: QPainter, placer: LabelPlacer, *, names, order, anchors, fits_px, font: QFont,
                 ink: QColor, dpr: float, cancelled=lambda: False, may_cover_soft: bool = False,
                 on_top: list | None = None, opacity: float = 1.0, within=None) -> int:
    """Place and draw labels for features ``order`` (priority first); return how many were drawn.

    ``anchors`` are screen points (N, 2) and ``fits_px`` how wide a label may be for each
    feature (its width on screen), both indexed like ``names``. ``may_cover_soft``: a name that
    finds no place clear of every symbol may cover ordinary ones (towns, at small scales).
    ``on_top``: the names outrank every symbol — they look further for a free place, cover any
    symbol as a last resort, and are not drawn now but appended to ``on_top`` as
    ``(point, sprite, opacity)`` for the render job to draw above everything. ``within(feature,
    points)``: whether screen points (N, 2) all lie in the feature; a name moved off its anchor
    keeps its middle and both ends there (a town's name must not drift into the next town).
    """
    metrics = QFontMetricsF(font)
    height = metrics.height()
    font_key = font.key()
    drawn = 0
    outranks = on_top is not None
    passes = (_CLEAR, _OVER_SOFT, _OVER_SYMBOLS) if outranks else (_CLEAR, _OVER_SOFT) if may_cover_soft else (_CLEAR,)
    for n, feature in enumerate(order[:MAX_CANDIDATES].tolist()):
        if n % 200 == 0 and cancelled():
            break
        text = names[feature]
        room = fits_px[feature]
        width = SPRITES.width(font_key, metrics, text)
        if width > room:
            text = short_name(text)
            if text is None:
                continue
            width = SPRITES.width(font_key, metrics, text)
            if width > room:
                continue
        sx, sy = anchors[feature]
        rect = None
        for over_soft, over_symbols in passes:
            for dx, dy in _candidates(width, height, room, far=outranks):
                candidate = QRectF(sx + dx - width / 2, sy + dy - height / 2, width, height)
                if not placer.fits(candidate, over_soft=over_soft, over_symbols=over_symbols):
                    continue
                if (dx or dy) and within is not None and not within(feature, np.array(
                        [[candidate.left(), sy + dy], [sx + dx, sy + dy], [candidate.right(), sy + dy]])):
                    continue
                placer.take(candidate)
                rect = candidate
                break
            if rect is not None:
                break
        if rect is None:
            continue
        sprite = SPRITES.sprite(font, font_key, metrics, text, ink, dpr)
        at = QPointF(rect.left() - HALO_PX, rect.top() - HALO_PX)
        if outranks:
            on_top.append((at, sprite, opacity))
        else:
            painter.drawImage(at, sprite)
        drawn += 1
    return drawn
