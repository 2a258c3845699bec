"""Case pins by status, updated one case at a time for the live feed.

``CasePinLayer`` keeps its pins in slot arrays (numpy, grown by doubling, freed
slots reused), so ``add_pin``/``move_pin``/``update_pin``/``remove_pin`` cost one
projection and a few array writes — nothing is read back from the database and
nothing else is rebuilt. A render takes a ``snapshot()``: compact copies of the
visible pins, immutable, safe to paint from a worker thread while the feed keeps
writing. The canvas renders live layers on their own (see ``live_layers``), so a
changed pin re-renders pins only.

Zoomed out, thousands of pins would be a carpet: a crowded view aggregates them into
count bubbles (``map_cluster.choose_clusters``, density decides), each coloured by the
most urgent case in it — overdue red above new, dispatched, in progress, closed — so
a red bubble still says "something here is overdue". Pulsing alarms never go into a
bubble: they stay pins, and keep pulsing. The same layout blocks the label placer of
the static map (``obstacles``), so grid names keep off pins and bubbles.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from PySide6.QtCore import QPointF
from PySide6.QtGui import QPainter

from desktop.widgets.legend import PIN_HEIGHT_RATIO, LegendEntry, hex_of, rgba_of, symbol_sprite
from desktop.widgets.live_layers import LiveLayer
from desktop.widgets.map_base import MapLayer
from desktop.widgets.map_cluster import ClusterStyle, bubble_rects, choose_clusters, draw_bubbles
from desktop.widgets.map_geometry import lonlat_to_mercator
from gis.domain import OPEN_STATES, CaseSource, CaseState, CaseSummary

CANCEL_CHECK_EVERY = 5000          # sprites between looks at the render's cancel flag
PULSE_SECONDS = 600.0              # an alarm pulses at most this long, or until someone takes it up
PULSE_RECENT = timedelta(minutes=30)  # on opening a workspace, alarms this new still pulse
# Pins are big (11 × 18 px): a few in a 48-px cell already crowd it. Closer than 1 m/px (about
# 1:4,000) every case is a pin.
PIN_CLUSTER = ClusterStyle(cell_px=48.0, min_count=4, max_res=1.0, min_points=1500, crowded_share=0.3)
BUBBLE_ALPHA = 235


@dataclass(frozen=True, slots=True)
class PinClass:
    key: str
    label: str
    colour: str
    alpha: int
    shape: str
    size: float
    visible: bool  # by default


# Drawn in this order: closed at the bottom, overdue on top of everything.
PIN_CLASSES = (
    PinClass("closed", "已办结", "#78828c", 110, "dot", 5.0, False),
    PinClass("progress", "处置中", "#00897b", 255, "pin", 11.0, True),
    PinClass("dispatched", "已派发", "#1e88e5", 255, "pin", 11.0, True),
    PinClass("new", "待受理", "#fb8c00", 255, "pin", 11.0, True),
    PinClass("overdue", "已超期", "#e53935", 255, "pin", 11.0, True),
)
CLASS_INDEX = {c.key: i for i, c in enumerate(PIN_CLASSES)}
OVERDUE = CLASS_INDEX["overdue"]
_STATE_CLASS = {
    CaseState.PENDING: "new", CaseState.RETURNED: "new", CaseState.ESCALATED: "new",
    CaseState.DISPATCHED: "dispatched", CaseState.TRANSFERRED: "dispatched",
    CaseState.IN_PROGRESS: "progress", CaseState.RECTIFIED: "progress", CaseState.RECHECK: "progress",
}


def state_class(state: str) -> int:
    """Class of a state, overdue aside (unknown open states count as new, unknown others as closed)."""
    key = _STATE_CLASS.get(state) or ("new" if state in OPEN_STATES else "closed")
    return CLASS_INDEX[key]


def _timestamp(value: datetime | None) -> float:
    return value.timestamp() if value is not None else np.nan


@dataclass(frozen=True, slots=True)
class PinLayout:
    """Where the pins of one view go: bubbles (screen centre, count, worst class) and single pins."""

    bubble_xy: np.ndarray      # (B, 2) screen px
    bubble_counts: np.ndarray
    bubble_worst: np.ndarray   # class index: the most urgent case in the bubble
    pin_xy: np.ndarray         # (P, 2) screen px of the tips, one per pixel and class
    pin_classes: np.ndarray    # ascending (drawing order)

    def obstacle_rects(self, symbols) -> tuple[np.ndarray, np.ndarray]:
        """Screen rectangles (left, top, right, bottom) of the pins and of the bubbles."""
        bubbles = bubble_rects(self.bubble_xy[:, 0], self.bubble_xy[:, 1], self.bubble_counts)
        if not len(self.pin_xy):
            return np.empty((0, 4)), bubbles
        sizes = np.asarray([size for _shape, _rgba, size in symbols])[self.pin_classes]
        tip = np.asarray([shape == "pin" for shape, _rgba, _size in symbols])[self.pin_classes]
        heights = np.where(tip, sizes * PIN_HEIGHT_RATIO, sizes)
        x, y = self.pin_xy[:, 0], self.pin_xy[:, 1]
        top = np.where(tip, y - heights, y - heights / 2)  # a pin's tip is its location
        return np.column_stack([x - sizes / 2 - 1, top - 1, x + sizes / 2 + 1, top + heights + 1]), bubbles


class PinSnapshot(MapLayer):
    """The visible pins of one moment; never changes."""

    def __init__(self, key, title, xy, classes, symbols, pulsing=None, cluster: ClusterStyle | None = PIN_CLUSTER):
        self.key, self.title = key, title
        self.xy, self.classes, self.symbols = xy, classes, symbols  # symbols[c] = (shape, rgba, size)
        self.pulsing = np.zeros(len(xy), dtype=bool) if pulsing is None else pulsing  # kept out of bubbles
        self.cluster = cluster

    def layout(self, vp) -> PinLayout | None:
        if not len(self.xy):
            return None
        margin = 30 * vp.res
        min_x, min_y, max_x, max_y = vp.extent
        x, y = self.xy[:, 0], self.xy[:, 1]
        inside = np.nonzero((x >= min_x - margin) & (x <= max_x + margin) & (y >= min_y - margin)
                            & (y <= max_y + 3 * margin))[0]
        if not len(inside):
            return None
        classes = self.classes[inside]
        clusters = choose_clusters(self.cluster, x[inside], y[inside], vp.res, self.pulsing[inside], classes)
        if clusters is not None and len(clusters.counts):
            bubble_xy = vp.to_screen(np.column_stack([clusters.x, clusters.y]))
            counts, worst = clusters.counts, clusters.worst
            inside = inside[clusters.singles]   # singles stay sorted, so classes stay ascending
            classes = self.classes[inside]
        else:
            bubble_xy, counts, worst = np.empty((0, 2)), np.empty(0, np.int64), np.empty(0, np.int64)
        screen = vp.to_screen(self.xy[inside])
        # One pin per pixel and class: whatever is left never costs more sprites than can be seen.
        stride = vp.width + 64
        keys = ((classes.astype(np.int64) * (vp.height + 64) + np.floor(screen[:, 1]).astype(np.int64) + 32)
                * stride + np.floor(screen[:, 0]).astype(np.int64) + 32)
        _keys, first = np.unique(keys, return_index=True)
        return PinLayout(bubble_xy, counts, worst, screen[first], classes[first])

    def paint(self, painter: QPainter, ctx) -> None:
        vp = ctx.viewport
        layout = self.layout(vp)
        if layout is None:
            return
        ctx.stats[self.key] = layout
        if len(layout.bubble_counts):
            look = (self.cluster or PIN_CLUSTER).look
            looks = [look.with_fill((*self.symbols[int(c)][1][:3], BUBBLE_ALPHA)) for c in layout.bubble_worst.tolist()]
            order = np.lexsort((layout.bubble_counts, layout.bubble_worst))  # the most urgent on top
            draw_bubbles(painter, layout.bubble_xy[:, 0], layout.bubble_xy[:, 1], layout.bubble_counts,
                         looks, vp.dpr, order)
        classes, sx, sy = layout.pin_classes, layout.pin_xy[:, 0], layout.pin_xy[:, 1]
        bounds = np.searchsorted(classes, np.arange(len(self.symbols) + 1))
        for cls, (shape, rgba, size) in enumerate(self.symbols):
            sprite, ax, ay = symbol_sprite(shape, rgba, size, vp.dpr)
            for n, (px, py) in enumerate(zip((sx[bounds[cls]:bounds[cls + 1]] - ax).tolist(),
                                             (sy[bounds[cls]:bounds[cls + 1]] - ay).tolist())):
                if n % CANCEL_CHECK_EVERY == 0 and ctx.cancelled:
                    return
                painter.drawImage(QPointF(px, py), sprite)

    def block_labels(self, ctx) -> None:
        """Mark where this view's pins and bubbles go as taken, for the static map's labels."""
        layout = self.layout(ctx.viewport)
        if layout is not None:
            pins, bubbles = layout.obstacle_rects(self.symbols)
            ctx.labels.block(pins)                # no name covers a case
            ctx.labels.block(bubbles, soft=True)  # a town's name may cover a bubble, as a last resort


class CasePinLayer(LiveLayer):
    key = "cases"
    title = "案件"
    description = ""  # what the pins cover (tooltip of the layer panel), see describe_window

    def __init__(self, cases: Iterable[CaseSummary] = (), *, now: datetime | None = None,
                 pulse_seconds: float = PULSE_SECONDS):
        super().__init__()
        self.colours = [rgba_of(c.colour, c.alpha) for c in PIN_CLASSES]
        self.visible = [c.visible for c in PIN_CLASSES]
        self.pulse_seconds = pulse_seconds
        self.cluster: ClusterStyle | None = PIN_CLUSTER  # None: every case a pin at every scale
        self.pulsing: dict[int, float] = {}  # case id → monotonic time the pulse ends
        # A scoped user's pins (desktop.scope_view): only cases whose grid passes this; the others
        # are not in the layer at all, so counts, legend, clusters and hit tests leave them out.
        self.in_scope: Callable[[int | None], bool] | None = None
        self._row: dict[int, int] = {}
        self._free: list[int] = []
        self._used = 0
        self._allocate(16)
        self.set_cases(cases, now=now)

    def describe_window(self, closed_days: int, text: str) -> None:
        """Say which cases the pins cover: all open ones plus those closed in ``closed_days`` days."""
        self.title = f"案件（未办结＋近{closed_days}天办结）" if closed_days > 0 else "案件（未办结）"
        self.description = text

    # -- storage -------------------------------------------------------------------------------
    def _allocate(self, capacity: int) -> None:
        """(Re)size the slot arrays to ``capacity``, keeping the used slots."""
        def grown(name: str, fill, dtype, columns: int = 0) -> np.ndarray:
            array = np.full((capacity, columns) if columns else capacity, fill, dtype)
            old = getattr(self, name, None)
            if old is not None and self._used:
                array[:self._used] = old[:self._used]
            return array

        self._xy = grown("_xy", np.nan, np.float64, 2)
        self._base = grown("_base", 0, np.int8)     # class by state
        self._cls = grown("_cls", 0, np.int8)       # class shown: the state's, or overdue
        self._due = grown("_due", np.nan, np.float64)  # deadline (epoch s) of open cases
        self._alive = grown("_alive", False, np.bool_)
        self._ids = grown("_ids", 0, np.int64)
        self._match = grown("_match", True, np.bool_)  # passes the case filter (set_filter); new pins do

    def _slot(self) -> int:
        if self._free:
            return self._free.pop()
        if self._used == len(self._alive):
            self._allocate(2 * len(self._alive))
        self._used += 1
        return self._used - 1

    def set_scope(self, in_scope: Callable[[int | None], bool] | None, cases: Iterable[CaseSummary]) -> None:
        """Keep only the pins of ``cases`` whose grid id passes ``in_scope`` (None: every case)."""
        self.in_scope = in_scope
        self.set_cases(cases)

    def _shows(self, case: CaseSummary) -> bool:
        return case.lon is not None and case.lat is not None and (self.in_scope is None or self.in_scope(case.grid_id))

    def set_cases(self, cases: Iterable[CaseSummary], *, now: datetime | None = None) -> None:
        """Replace every pin (opening a workspace); alarms newer than PULSE_RECENT pulse."""
        now = now or datetime.now()
        located = [c for c in cases if self._shows(c)]
        self._row, self._free, self._used = {}, [], 0
        self._allocate(max(16, 2 * len(located)))
        n = len(located)
        if n:
            x, y = lonlat_to_mercator([c.lon for c in located], [c.lat for c in located])
            self._xy[:n, 0], self._xy[:n, 1] = x, y
            self._base[:n] = [state_class(c.state) for c in located]
            self._due[:n] = [_timestamp(c.due_at) if c.state in OPEN_STATES else np.nan for c in located]
            self._ids[:n] = [c.id for c in located]
            self._alive[:n] = True
            self._row = {c.id: i for i, c in enumerate(located)}
            self._used = n
        self._reclassify(now.timestamp())
        self.pulsing = {}
        for case in located:
            if self._is_alarm(case) and case.created_at and now - case.created_at <= PULSE_RECENT:
                self.pulsing[case.id] = time.monotonic() + self.pulse_seconds
        self.changed()

    # -- the live-feed API -----------------------------------------------------------------------
    def add_pin(self, case: CaseSummary, *, pulse: bool | None = None) -> None:
        """A new case on the map; a new alarm (监测报警, 待受理) pulses unless ``pulse=False``."""
        if case.id in self._row:
            self.update_pin(case)
            return
        if not self._shows(case):
            return
        row = self._slot()
        self._row[case.id] = row
        self._match[row] = True
        self._ids[row], self._alive[row] = case.id, True
        self._write(row, case)
        if pulse or (pulse is None and self._is_alarm(case)):
            self.pulsing[case.id] = time.monotonic() + self.pulse_seconds
        self.changed()

    def update_pin(self, case: CaseSummary) -> None:
        """New state, deadline or place of a case already shown (added if it is not)."""
        row = self._row.get(case.id)
        if row is None:
            self.add_pin(case)
            return
        if not self._shows(case):  # lost its place, or moved out of the user's scope
            self.remove_pin(case.id)
            return
        self._write(row, case)
        if case.state != CaseState.PENDING:
            self.pulsing.pop(case.id, None)  # someone took it up
        self.changed()

    def move_pin(self, case_id: int, lon: float, lat: float) -> None:
        row = self._row.get(case_id)
        if row is None:
            raise KeyError(f"no pin for case {case_id}")
        x, y = lonlat_to_mercator(lon, lat)
        self._xy[row] = float(x), float(y)
        self.changed()

    def remove_pin(self, case_id: int) -> None:
        row = self._row.pop(case_id, None)
        if row is None:
            return
        self._alive[row] = False
        self._xy[row] = np.nan
        self._free.append(row)
        self.pulsing.pop(case_id, None)
        self.changed()

    def _write(self, row: int, case: CaseSummary) -> None:
        x, y = lonlat_to_mercator(case.lon, case.lat)
        self._xy[row] = float(x), float(y)
        self._base[row] = state_class(case.state)
        self._due[row] = _timestamp(case.due_at) if case.state in OPEN_STATES else np.nan
        self._reclassify(time.time(), rows=slice(row, row + 1))

    @staticmethod
    def _is_alarm(case: CaseSummary) -> bool:
        return case.source == CaseSource.ALARM and case.state == CaseState.PENDING

    def _reclassify(self, now_ts: float, rows=slice(None)) -> bool:
        with np.errstate(invalid="ignore"):
            overdue = self._due[rows] < now_ts
        classes = np.where(overdue, OVERDUE, self._base[rows]).astype(np.int8)
        changed = bool(np.any(classes != self._cls[rows]))
        self._cls[rows] = classes
        return changed

    def refresh_overdue(self, now: datetime | None = None) -> bool:
        """Turn pins whose deadline has passed red; True (and a re-render) if any did."""
        if self._reclassify((now or datetime.now()).timestamp(), rows=slice(0, self._used)):
            self.changed()
            return True
        return False

    # -- styling -------------------------------------------------------------------------------
    def set_class_visible(self, key: str, visible: bool) -> None:
        if self.visible[CLASS_INDEX[key]] != visible:
            self.visible[CLASS_INDEX[key]] = visible
            self.changed()

    def set_class_colour(self, key: str, colour: str) -> None:
        index = CLASS_INDEX[key]
        rgba = rgba_of(colour, PIN_CLASSES[index].alpha)
        if self.colours[index] != rgba:
            self.colours[index] = rgba
            self.changed()

    def legend(self) -> list[LegendEntry]:
        counts = np.bincount(self._cls[:self._used][self._alive[:self._used]], minlength=len(PIN_CLASSES))
        return [LegendEntry(c.key, c.label, c.shape, self.colours[i], c.size, checkable=True,
                            visible=self.visible[i], editable=True, count=int(counts[i]))
                for i, c in reversed(list(enumerate(PIN_CLASSES)))]

    def default_colour(self, key: str) -> str:
        return PIN_CLASSES[CLASS_INDEX[key]].colour

    def colour_of(self, key: str) -> str:
        return hex_of(self.colours[CLASS_INDEX[key]])

    # -- reading -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._row)

    def ids(self) -> list[int]:
        return list(self._row)

    def xy_of(self, case_id: int) -> tuple[float, float] | None:
        row = self._row.get(case_id)
        return None if row is None else (float(self._xy[row, 0]), float(self._xy[row, 1]))

    def class_of(self, case_id: int) -> str | None:
        row = self._row.get(case_id)
        return None if row is None else PIN_CLASSES[int(self._cls[row])].key

    def is_shown(self, case_id: int) -> bool:
        row = self._row.get(case_id)
        return row is not None and self.visible[int(self._cls[row])] and bool(self._match[row])

    # -- cross-filtering (desktop.case_views) --------------------------------------------------
    def set_filter(self, case_ids: Iterable[int] | None) -> None:
        """Show only these cases (None: all), as the case table is filtered; a pin added later shows."""
        if case_ids is None:
            self._match[:] = True
        else:
            wanted = np.fromiter(case_ids, np.int64)
            self._match[:] = np.isin(self._ids, wanted)
        self.changed()

    @property
    def filtered(self) -> bool:
        return not bool(self._match[:self._used].all())

    def extent(self):
        xy = self._xy[:self._used][self._alive[:self._used]]
        if not len(xy):
            return None
        return float(xy[:, 0].min()), float(xy[:, 1].min()), float(xy[:, 0].max()), float(xy[:, 1].max())

    def snapshot(self) -> PinSnapshot:
        """The pins as they are now; the same object until something changes (every view change
        asks for one twice: for the pins' render and for the labels' obstacles)."""
        state = (self.version, tuple(self.pulsing), self.cluster)
        cached = getattr(self, "_snapshot", None)
        if cached is not None and cached[0] == state:
            return cached[1]
        snapshot = self._make_snapshot()
        self._snapshot = (state, snapshot)
        return snapshot

    def _make_snapshot(self) -> PinSnapshot:
        used = slice(0, self._used)
        keep = self._alive[used] & np.asarray(self.visible)[self._cls[used]] & self._match[used]
        classes = self._cls[used][keep]
        order = np.argsort(classes, kind="stable")  # grouped by class, drawn bottom class first
        symbols = tuple((c.shape, self.colours[i], c.size) for i, c in enumerate(PIN_CLASSES))
        pulsing = np.zeros(len(order), dtype=bool)
        if self.pulsing:
            now = time.monotonic()
            live = [self._row[c] for c, until in self.pulsing.items() if until > now and c in self._row]
            pulsing = np.isin(np.nonzero(keep)[0], live)[order]
        return PinSnapshot(self.key, self.title, self._xy[used][keep][order], classes[order], symbols, pulsing,
                           self.cluster)
