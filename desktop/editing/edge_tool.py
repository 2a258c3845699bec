"""修改公共边 (R): pick the shared edge of two grids, then drag it or draw its new course.

- Hover over an edge two grids of the edited level share: the whole shared stretch (from one
  junction to the next) lights up.
- Click it, or click inside one grid and then inside its neighbour: it is picked, both grids
  are tinted and named in the status bar.
- Drag the picked edge: its inner vertices follow the cursor, its two ends stay (a one-segment
  edge bends through the grabbed point); a preview while dragging, one undo step at release.
- Or draw its new course: click at one end of it (snapped), click along the way, double-click
  or Enter at the other end. Backspace removes the last point; Esc cancels the line, a second
  Esc drops the picked edge.

Both ways every grid along the edge follows (the parents whose border it is, the children
ending on it): `gis.editing.MoveSharedEdgeCommand` / `ReshapeSharedEdgeCommand` do the work.
The edge is found again from its two grids after every change, so it stays pickable after a
split, a merge or an undo.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import shapely
from PySide6.QtGui import QKeyEvent

from desktop.editing.tools import ENTER_KEYS, _merc, _SketchTool, mercator_rings
from desktop.widgets.map_geometry import lonlat_to_mercator
from desktop.widgets.map_tools import CLICK_SLOP_PX, LEFT, MapMouseEvent
from gis.editing import MoveSharedEdgeCommand, ReshapeSharedEdgeCommand, TopologyError
from gis.editing.chains import shared_chains
from gis.editing.rings import Key, key
from gis.editing.session import GridEditSession

_M_PER_DEG = 111_320.0


@dataclass(frozen=True)
class SharedEdge:
    """The common boundary stretch of grids ``a`` and ``b``: vertex keys in ``a``'s ring order."""

    a: int
    b: int
    chain: tuple[Key, ...]

    @property
    def ends(self) -> tuple[Key, Key]:
        return self.chain[0], self.chain[-1]

    def line(self) -> shapely.LineString:
        return shapely.LineString(self.chain)

    def middle(self) -> tuple[float, float]:
        point = shapely.line_interpolate_point(self.line(), 0.5, normalized=True)
        return float(point.x), float(point.y)

    def mercator(self) -> np.ndarray:
        xy = np.asarray(self.chain, dtype=float)
        x, y = lonlat_to_mercator(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])


class SharedEdges:
    """Finds shared edges among the grids of one level of a session.

    Chains are cached per pair of grid *objects*: an edit replaces a grid by a new object, so a
    cached chain can never outlive the geometry it came from.
    """

    def __init__(self, session: GridEditSession, level: int):
        self.session, self.level = session, level
        self._cache: dict[tuple[int, int], tuple[object, object, list]] = {}

    def level_ids(self, ids) -> list[int]:
        grids = self.session.grids
        return sorted(i for i in ids if i in grids and grids[i].level == self.level)

    def chains(self, a: int, b: int) -> list[list[Key]]:
        ga, gb = self.session.grids.get(a), self.session.grids.get(b)
        if ga is None or gb is None:
            return []
        cached = self._cache.get((a, b))
        if cached is not None and cached[0] is ga and cached[1] is gb:
            return cached[2]
        try:
            chains = shared_chains(ga.boundary, gb.boundary)
        except TopologyError:  # one grid encloses the other: no stretch with two ends
            chains = []
        self._cache[(a, b)] = (ga, gb, chains)
        return chains

    def _pairs(self, ids):
        return itertools.combinations(self.level_ids(ids), 2)

    def through_segment(self, u: Key, v: Key) -> SharedEdge | None:
        """The shared edge that contains the segment ``u–v``."""
        for a, b in self._pairs(self.session.index.grids_with_all([u, v])):
            for chain in self.chains(a, b):
                if any({chain[i], chain[i + 1]} == {u, v} for i in range(len(chain) - 1)):
                    return SharedEdge(a, b, tuple(chain))
        return None

    def through_vertex(self, k: Key) -> SharedEdge | None:
        """The shared edge having ``k`` as one of its inner vertices."""
        for a, b in self._pairs(self.session.index.grids_at(k)):
            for chain in self.chains(a, b):
                if k in chain[1:-1]:
                    return SharedEdge(a, b, tuple(chain))
        return None

    def ending_at(self, k: Key) -> list[SharedEdge]:
        """Every shared edge with an end at ``k``."""
        return [SharedEdge(a, b, tuple(chain)) for a, b in self._pairs(self.session.index.grids_at(k))
                for chain in self.chains(a, b) if k in (chain[0], chain[-1])]

    def between(self, a: int, b: int, near=None) -> SharedEdge | None:
        """The shared edge of grids ``a`` and ``b`` (the one nearest ``near`` if they share several)."""
        chains = self.chains(a, b)
        if not chains:
            return None
        if near is not None and len(chains) > 1:
            point = shapely.Point(near)
            chains = [min(chains, key=lambda c: shapely.LineString(c).distance(point))]
        return SharedEdge(a, b, tuple(chains[0]))

    def with_ends(self, start: Key, end: Key) -> SharedEdge | None:
        """The shared edge running from ``start`` to ``end`` (either way)."""
        return next((edge for edge in self.ending_at(start) if set(edge.ends) == {start, end}), None)


class SharedEdgeTool(_SketchTool):
    id = "edit_shared_edge"
    text = "修改公共边"
    tooltip = ("单击两个网格的公共边（或先后单击两个相邻网格）选中它：拖动可整体移动；"
               "或从它的一个端点起单击画出新走向，到另一端点双击或回车结束。两侧网格一起改变，一步撤销")
    shortcut = "R"
    kind = "line"
    gestures = (
        ("修改公共边：选中公共边", "单击公共边 / 先后单击两个相邻网格"),
        ("修改公共边：整体移动", "拖动选中的公共边"),
        ("修改公共边：画出新走向", "从端点起单击，双击或回车结束"),
    )

    def __init__(self, canvas, controller):
        super().__init__(canvas, controller)
        self.selected: SharedEdge | None = None
        self.first: int | None = None                    # the first of two grids clicked
        self._grab: tuple[MapMouseEvent, tuple[float, float]] | None = None  # press on the edge, point grabbed
        self._offset: tuple[float, float] | None = None  # of a drag under way (lon/lat degrees)
        self._edges: SharedEdges | None = None
        controller.sessionChanged.connect(lambda _codes: self._follow_session())
        controller.editEnded.connect(self._forget)

    @property
    def busy(self) -> bool:
        return super().busy or self._offset is not None

    def edges(self) -> SharedEdges | None:
        session = self.controller.session
        if session is None:
            return None
        if self._edges is None or self._edges.session is not session or self._edges.level != self.controller.level:
            self._edges = SharedEdges(session, self.controller.level)
        return self._edges

    # -- picking ---------------------------------------------------------------------------------
    def edge_at(self, event: MapMouseEvent, result=False) -> SharedEdge | None:
        """The shared edge under the cursor (within the snap tolerance, snapping on or off);
        ``result``: the snap already found there."""
        edges = self.edges()
        if result is False:
            result = self.controller.snap(event.lon, event.lat, force=True)
        if edges is None or result is None:
            return None
        if result.kind == "edge":
            return edges.through_segment(key(result.edge[0]), key(result.edge[1]))
        return edges.through_vertex(key(result.point))

    def end_at(self, event: MapMouseEvent) -> Key | None:
        """The end of a shared edge under the cursor: where a new course starts."""
        edges = self.edges()
        result = self.controller.snap(event.lon, event.lat, force=True)
        if edges is None or result is None or result.kind != "vertex":
            return None
        k = key(result.point)
        return k if edges.ending_at(k) else None

    def select(self, edge: SharedEdge | None, *, say: bool = True) -> None:
        self.selected, self.first = edge, None
        self._show_selection()
        if edge is None or not say:
            return
        session = self.controller.session
        a, b = session.grid(edge.a), session.grid(edge.b)
        length = _length_m(edge.chain)
        self.controller.say(f"已选中“{a.name}”与“{b.name}”的公共边（{len(edge.chain)} 个顶点，约 {length:,.0f} 米）："
                            "拖动整体移动，或从端点起画出新走向")

    def _show_selection(self) -> None:
        overlay, session = self.overlay, self.controller.session
        ids = [self.selected.a, self.selected.b] if self.selected else [self.first] if self.first is not None else []
        overlay.pair = [ring for i in ids if session is not None and i in session.grids
                        for ring in mercator_rings(session.grids[i].boundary)]
        overlay.shared = self.selected.mercator() if self.selected is not None else None
        overlay.changed()

    def _pick_grid(self, event: MapMouseEvent) -> None:
        controller = self.controller
        grid = controller.grid_at(event.lon, event.lat)
        if grid is None:
            self.select(None)
            return
        if self.first is None or self.first == grid.id:
            self.selected, self.first = None, grid.id
            self._show_selection()
            controller.say(f"已选“{grid.name}”：再单击与它相邻的网格，选中两者的公共边")
            return
        first = controller.session.grid(self.first)
        edge = self.edges().between(self.first, grid.id, near=(event.lon, event.lat))
        if edge is None:
            self.first = grid.id
            self._show_selection()
            controller.say(f"“{first.name}”与“{grid.name}”没有公共边；已改选“{grid.name}”，再单击与它相邻的网格",
                           warn=True)
            return
        self.select(edge)

    def _follow_session(self) -> None:
        """After any change (this tool's, another tool's, undo): find the picked edge again."""
        if self.selected is None:
            if self.first is not None and (self.controller.session is None
                                           or self.first not in self.controller.session.grids):
                self.first = None
                self._show_selection()
            return
        edges = self.edges()
        edge = edges.between(self.selected.a, self.selected.b, near=self.selected.middle()) if edges else None
        self.selected = edge
        self._show_selection()

    def _forget(self) -> None:
        self.selected, self.first, self._grab, self._offset, self._edges = None, None, None, None, None

    # -- mouse -----------------------------------------------------------------------------------
    def press(self, event: MapMouseEvent) -> None:
        super().press(event)
        if event.button != LEFT or self.points or self.selected is None:
            return
        grab = self._grab_point(event)
        if grab is not None:
            self._grab = (event, grab)

    def _grab_point(self, event: MapMouseEvent) -> tuple[float, float] | None:
        """The point of the picked edge under the press (not at its ends, which stay put)."""
        res = self.canvas.viewport().res
        merc = shapely.LineString(self.selected.mercator())
        here = shapely.Point(event.x, event.y)
        slop = self.controller.snap_px * res
        if merc.distance(here) > slop:
            return None
        ends = self.selected.mercator()[[0, -1]]
        if np.hypot(*(ends - [event.x, event.y]).T).min() <= slop:
            return None
        line = self.selected.line()
        point = line.interpolate(line.project(shapely.Point(event.lon, event.lat)))
        return float(point.x), float(point.y)

    def move(self, event: MapMouseEvent) -> None:
        if self._grab is not None and event.buttons & LEFT:
            press, grab = self._grab
            if self._offset is None and (event.pos - press.pos).manhattanLength() < CLICK_SLOP_PX:
                return
            self._offset = (event.lon - press.lon, event.lat - press.lat)
            self.overlay.shared_preview = _mercator_line(self._moved_line(grab, self._offset))
            self.overlay.shared_hover = None
            self.controller.show_snap(None)
            self.overlay.changed()
            return
        if self.points or self.rings:
            super().move(event)
            return
        if self.controller.session is None:
            return
        # Idle: show what a click would do (start a course at an end, or pick an edge).
        result = self.controller.snap(event.lon, event.lat, force=True)
        self.controller.show_snap(result)
        hover = self.edge_at(event, result)
        shown = hover.mercator() if hover is not None and hover != self.selected else None
        if (shown is None) != (self.overlay.shared_hover is None) or (
                shown is not None and not np.array_equal(shown, self.overlay.shared_hover)):
            self.overlay.shared_hover = shown
            self.overlay.changed()

    def _moved_line(self, grab, offset) -> list[tuple[float, float]]:
        chain = self.selected.chain
        dx, dy = offset
        if len(chain) == 2:  # one segment: it bends through the grabbed point
            return [chain[0], (grab[0] + dx, grab[1] + dy), chain[1]]
        return [chain[0], *((x + dx, y + dy) for x, y in chain[1:-1]), chain[-1]]

    def release(self, event: MapMouseEvent) -> None:
        grab, offset = self._grab, self._offset
        self._grab = self._offset = None
        if offset is not None and event.button == LEFT:
            self._press = None
            self.overlay.shared_preview = None
            self.overlay.changed()
            self._drop(grab[1], (event.lon - grab[0].lon, event.lat - grab[0].lat))
            return
        if self.points or self.rings or event.button != LEFT:
            super().release(event)  # a click adds a point to the course being drawn
            return
        press, self._press = self._press, None
        if press is None or (event.pos - press.pos).manhattanLength() >= CLICK_SLOP_PX:
            return
        end = self.end_at(event)
        if end is not None:
            self.overlay.shared_hover = None
            self.add_point(end)  # the start of a new course
            self.controller.say("画出公共边的新走向：单击添加点，到另一端点双击或回车结束；Esc 取消")
            return
        edge = self.edge_at(event)
        if edge is not None:
            self.select(edge)
            return
        result = self.controller.snap(event.lon, event.lat, force=True)
        if result is not None and result.kind == "edge":
            self.select(None, say=False)
            self.controller.say("这条边不是两个同级网格的公共边（是外边界）", warn=True)
            return
        self._pick_grid(event)

    def _drop(self, grab, offset) -> None:
        """One command for the whole drag."""
        controller, session, edge = self.controller, self.controller.session, self.selected
        near = edge.middle()
        if len(edge.chain) == 2:
            line = self._moved_line(grab, offset)
            make = lambda: ReshapeSharedEdgeCommand(session, edge.a, edge.b, line, near=near)  # noqa: E731
        else:
            make = lambda: MoveSharedEdgeCommand(session, edge.a, edge.b, offset, near=near)  # noqa: E731
        if controller.run(make, "移动公共边"):
            moved = _middle(self._moved_line(grab, offset))
            self.select(self.edges().between(edge.a, edge.b, near=moved), say=False)  # the edge where it is now

    def double_click(self, event: MapMouseEvent) -> None:
        if self.points:  # only a course being drawn ends on a double-click
            super().double_click(event)

    def key_press(self, event: QKeyEvent) -> bool:
        if not (self.points or self.rings):
            return False
        if event.key() in ENTER_KEYS:
            self.finish()
            return True
        return super().key_press(event)

    def cancel(self) -> None:
        """Esc: first the course being drawn or the drag, then the picked edge."""
        if self.points or self.rings or self._offset is not None:
            self._grab = self._offset = None
            self.overlay.shared_preview = None
            super().cancel()
            return
        self.select(None)
        self.overlay.shared_hover = None
        self.overlay.changed()

    def deactivate(self) -> None:
        self._grab = self._offset = None
        self.points, self.rings = [], []
        self.overlay.sketch = None
        self.overlay.shared_preview = self.overlay.shared_hover = None
        self.select(None, say=False)
        super().deactivate()

    # -- a new course ----------------------------------------------------------------------------
    def finish(self, hole: bool = False) -> None:
        controller, session = self.controller, self.controller.session
        if len(self.points) < 2:
            controller.say("新的公共边至少需要两个点", warn=True)
            return
        edges = self.edges()
        self.points[-1] = self._onto_end(self.points[-1])
        start, end = key(self.points[0]), key(self.points[-1])
        edge = self.selected if self.selected is not None and set(self.selected.ends) == {start, end} else None
        edge = edge or edges.with_ends(start, end)
        if edge is None:
            controller.say("新线必须从两个网格公共边的一个端点开始、在另一个端点结束（请吸附到端点）", warn=True)
            return
        points, near = list(self.points), edge.middle()
        if controller.run(lambda: ReshapeSharedEdgeCommand(session, edge.a, edge.b, points, near=near), "修改公共边"):
            super().cancel()
            self.select(self.edges().between(edge.a, edge.b, near=_middle(points)), say=False)

    def _onto_end(self, point) -> tuple[float, float]:
        """The last point, moved onto an end of a shared edge within the tolerance (snapping off)."""
        result = self.controller.snap(point[0], point[1], force=True)
        if result is not None and result.kind == "vertex" and self.edges().ending_at(key(result.point)):
            return result.point
        return point


def _middle(points) -> tuple[float, float]:
    point = shapely.line_interpolate_point(shapely.LineString(points), 0.5, normalized=True)
    return float(point.x), float(point.y)


def _mercator_line(points) -> np.ndarray:
    return np.array([_merc(*p) for p in points], dtype=float)


def _length_m(chain) -> float:
    xy = np.asarray(chain, dtype=float)
    scale = np.array([np.cos(np.radians(xy[:, 1].mean())) * _M_PER_DEG, _M_PER_DEG])
    return float(np.hypot(*(np.diff(xy, axis=0) * scale).T).sum())
