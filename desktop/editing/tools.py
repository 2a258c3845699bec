"""Boundary editing tools on the map canvas, in the style of ``map_tools``.

Each tool gets mouse events in map coordinates (`MapMouseEvent`) and keys through the edit
controller's event filter (``key_press``; Esc arrives as ``cancel``). A tool only builds a
``gis.editing`` command from what the user did and hands it to the controller; the core
computes, checks and refuses. Feedback (sketch, drag preview, snap marker) goes to the
controller's overlay.

- `DrawPolygonTool` (D): click vertices; double-click or Enter finishes; Backspace removes the
  last vertex; Esc cancels; Shift+Enter / Shift+double-click closes the ring and starts a hole.
- `VertexTool` (V): drag a vertex (preview, one undo step at release; shared vertices move in
  every grid), double-click an edge inserts a vertex, click a vertex then Delete (or
  Ctrl+click) deletes it; click inside a grid picks it (Shift adds) for 合并 / 删除.
- `SplitTool` (X): draw a line across a grid; double-click or Enter splits it.
- `desktop.editing.edge_tool.SharedEdgeTool` (R, 修改公共边): pick the shared edge of two grids,
  drag it or draw its new course.

``gestures`` on a tool class lists the keys and clicks it handles itself (no action behind
them) for the 快捷键 dialog.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import shapely
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QKeyEvent

from desktop.widgets.edit_overlay import Sketch
from desktop.widgets.map_geometry import lonlat_to_mercator
from desktop.widgets.map_tools import CLICK_SLOP_PX, LEFT, MapMouseEvent, MapTool
from gis.editing import (
    AddGridCommand,
    DeleteVertexCommand,
    InsertVertexCommand,
    MoveVertexCommand,
    SplitGridCommand,
)
from gis.editing.rings import key

if TYPE_CHECKING:
    from desktop.editing.controller import EditController
    from desktop.widgets.map_canvas import MapCanvas

SHIFT = Qt.KeyboardModifier.ShiftModifier
CTRL = Qt.KeyboardModifier.ControlModifier
ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


def _merc(lon: float, lat: float) -> tuple[float, float]:
    x, y = lonlat_to_mercator(lon, lat)
    return float(x), float(y)


def mercator_rings(geometry) -> list[np.ndarray]:
    """Every ring of a lon/lat geometry as (n, 2) Web Mercator metres (what the overlay draws)."""
    rings = []
    for ring in shapely.get_rings(shapely.get_parts(geometry)):
        coords = shapely.get_coordinates(ring)
        x, y = lonlat_to_mercator(coords[:, 0], coords[:, 1])
        rings.append(np.column_stack([x, y]))
    return rings


class EditTool(MapTool):
    """Base of the editing tools: snapping helper, no zoom on double-click, key hook."""

    edit_tool = True
    cursor = Qt.CursorShape.CrossCursor
    gestures: tuple[tuple[str, str], ...] = ()

    def __init__(self, canvas: MapCanvas, controller: EditController):
        super().__init__(canvas)
        self.controller = controller

    @property
    def overlay(self):
        return self.controller.overlay

    def snapped(self, event: MapMouseEvent, **kwargs) -> tuple[float, float]:
        """The event's lon/lat, moved onto a vertex or edge within the tolerance (marker shown)."""
        result = self.controller.snap(event.lon, event.lat, **kwargs)
        self.controller.show_snap(result)
        return result.point if result is not None else (event.lon, event.lat)

    def deactivate(self) -> None:
        super().deactivate()
        self.controller.show_snap(None)

    def double_click(self, event: MapMouseEvent) -> None:
        pass

    def key_press(self, event: QKeyEvent) -> bool:
        """True when the key was used (the canvas then does not see it)."""
        return False


class _SketchTool(EditTool):
    """Clicked points of a polygon or a line, with the rubber segment to the cursor."""

    kind = "polygon"
    min_points = 3

    def __init__(self, canvas, controller):
        super().__init__(canvas, controller)
        self.points: list[tuple[float, float]] = []       # lon/lat of the open ring / line
        self.rings: list[list[tuple[float, float]]] = []  # finished rings (outer first, then holes)
        self._press: MapMouseEvent | None = None

    @property
    def busy(self) -> bool:
        return bool(self.points or self.rings)

    def _show(self, cursor: tuple[float, float] | None = None) -> None:
        self.overlay.sketch = Sketch(self.kind, [_merc(*p) for p in self.points],
                                     [[_merc(*p) for p in ring] for ring in self.rings],
                                     _merc(*cursor) if cursor is not None else None, self.marks(cursor))
        self.overlay.changed()

    def marks(self, cursor) -> list[tuple[float, float]]:
        return []

    def press(self, event: MapMouseEvent) -> None:
        if event.button == LEFT:
            self._press = event

    def move(self, event: MapMouseEvent) -> None:
        point = self.snapped(event)
        if self.points or self.rings:
            self._show(point)

    def release(self, event: MapMouseEvent) -> None:
        # No press before it: the release that ends a double-click (Qt sends press, release,
        # double-click, release), whose point the first click already added.
        press, self._press = self._press, None
        if event.button != LEFT or press is None:
            return
        if (event.pos - press.pos).manhattanLength() >= CLICK_SLOP_PX:
            return
        self.add_point(self.snapped(event))

    def add_point(self, lonlat: tuple[float, float]) -> None:
        if self.points and np.allclose(self.points[-1], lonlat, rtol=0, atol=1e-12):
            return
        self.points.append((float(lonlat[0]), float(lonlat[1])))
        self._show(lonlat)

    def double_click(self, event: MapMouseEvent) -> None:
        if event.button != LEFT:
            return
        self._press = None
        point = self.snapped(event)
        last = self.points[-1] if self.points else None
        if last is None or (event.pos - QPointF(*self.canvas.viewport().world_to_screen(*_merc(*last)))
                            ).manhattanLength() >= CLICK_SLOP_PX:
            self.add_point(point)  # a double-click where no click went before it (scripts, some tablets)
        self.finish(hole=bool(event.modifiers & SHIFT))

    def key_press(self, event: QKeyEvent) -> bool:
        if event.key() in ENTER_KEYS:
            self.finish(hole=bool(event.modifiers() & SHIFT))
            return True
        if event.key() == Qt.Key.Key_Backspace:
            self.remove_last()
            return True
        return False

    def remove_last(self) -> None:
        if self.points:
            self.points.pop()
        elif self.rings:  # reopen the last finished ring
            self.points = self.rings.pop()[:-1] if len(self.rings[-1]) > 1 else []
        self._show()

    def cancel(self) -> None:
        self.points, self.rings = [], []
        self.overlay.sketch = None
        self.overlay.changed()

    def finish(self, hole: bool = False) -> None:
        raise NotImplementedError


class DrawPolygonTool(_SketchTool):
    id = "edit_draw"
    text = "绘制网格"
    tooltip = ("单击添加顶点，双击或回车完成，退格删除上一个顶点，Esc 取消；"
               "Shift+回车 / Shift+双击结束当前环并开始画洞")
    shortcut = "D"
    gestures = (
        ("绘制：完成", "双击 / 回车"),
        ("绘制：删除上一个顶点", "退格"),
        ("绘制：取消", "Esc"),
        ("绘制：结束外环，开始画洞", "Shift+回车 / Shift+双击"),
    )

    def finish(self, hole: bool = False) -> None:
        if len(self.points) >= 3:
            self.rings.append(list(self.points))
            self.points = []
        elif self.points:
            self.controller.say("一个环至少需要三个顶点", warn=True)
            return
        if hole:
            self._show()
            self.controller.say("外环已闭合：请绘制洞（内环），回车完成")
            return
        if not self.rings:
            return
        polygon = shapely.Polygon(self.rings[0], self.rings[1:])
        if not polygon.is_valid:
            polygon = shapely.make_valid(polygon)
            polygons = [p for p in shapely.get_parts(polygon) if isinstance(p, shapely.Polygon)]
            polygon = max(polygons, key=lambda p: p.area) if polygons else polygon
        controller = self.controller
        default = f"新网格{len([i for i in controller.session.grids if i < 0]) + 1}"
        name = controller.prompts.ask_name(default)
        if name is None:
            return  # keep the sketch: the user may go on
        level = controller.level
        if controller.run(lambda: AddGridCommand(controller.session, polygon, level=level, name=name,
                                                 avoid_overlap=controller.avoid_overlap), "新建网格"):
            self.cancel()


class SplitTool(_SketchTool):
    id = "edit_split"
    text = "拆分网格"
    tooltip = "画一条穿过网格的线（单击添加点），双击或回车按此线拆分；Esc 取消"
    shortcut = "X"
    gestures = (("拆分：按所画的线拆分", "双击 / 回车"), ("拆分：删除上一个点", "退格"), ("拆分：取消", "Esc"))
    kind = "line"

    def marks(self, cursor) -> list[tuple[float, float]]:
        line = self.points + ([cursor] if cursor is not None else [])
        if len(line) < 2 or self.controller.session is None:
            return []
        shape = shapely.LineString(line)
        out = []
        for grid in self.controller.session.same_level_near(self.controller.level, shape):
            cross = shapely.intersection(shape, grid.boundary.boundary)
            out += [_merc(x, y) for x, y in shapely.get_coordinates(cross).tolist()]
        return out

    def target(self, line: shapely.LineString):
        """The grid of the edited level the line cuts most of."""
        controller = self.controller
        best, length = None, 0.0
        for grid in controller.session.same_level_near(controller.level, line):
            inside = shapely.intersection(line, grid.boundary).length
            if inside > length:
                best, length = grid, inside
        return best

    def finish(self, hole: bool = False) -> None:
        if len(self.points) < 2:
            self.controller.say("拆分线至少需要两个点", warn=True)
            return
        line = shapely.LineString(self.points)
        grid = self.target(line)
        if grid is None:
            self.controller.say("拆分线没有穿过任何正在编辑的网格", warn=True)
            return
        session = self.controller.session
        if self.controller.run(lambda: SplitGridCommand(session, grid.id, line), "拆分"):
            self.cancel()


class VertexTool(EditTool):
    id = "edit_vertex"
    text = "顶点工具"
    tooltip = ("拖动顶点移动（相邻网格共用的顶点一起移动）；双击边插入顶点；单击顶点后按 Delete 删除，"
               "或 Ctrl+单击顶点删除；单击网格内部选中网格（Shift 追加）")
    shortcut = "V"
    gestures = (
        ("顶点：移动（共用顶点一起移动）", "拖动顶点"),
        ("顶点：插入", "双击边"),
        ("顶点：删除", "单击顶点后 Delete / 退格，或 Ctrl+单击顶点"),
        ("选中网格（合并、删除、属性）", "单击网格内部，Shift+单击追加"),
    )

    def __init__(self, canvas, controller):
        super().__init__(canvas, controller)
        self._drag: tuple[int, tuple[float, float], MapMouseEvent] | None = None  # grid, vertex, press
        self._target: tuple[float, float] | None = None
        self._press: MapMouseEvent | None = None
        self.selected: tuple[int, tuple[float, float]] | None = None
        self.move_seconds: list[float] = []  # time spent per drag move (the stress check reads it)

    @property
    def busy(self) -> bool:
        return self._drag is not None

    # -- finding things under the cursor -------------------------------------------------------
    def _level_holder(self, vertex) -> int | None:
        session, level_ids = self.controller.session, {g.id for g in self.controller.grids()}
        holders = sorted(session.index.grids_at(key(vertex)) & level_ids)
        return holders[0] if holders else None

    def vertex_at(self, event: MapMouseEvent) -> tuple[int, tuple[float, float]] | None:
        result = self.controller.snap(event.lon, event.lat, force=True)
        if result is None or result.kind != "vertex":
            return None
        holder = self._level_holder(result.point)
        return (holder, result.point) if holder is not None else None

    def edge_at(self, event: MapMouseEvent):
        result = self.controller.snap(event.lon, event.lat, force=True)
        if result is None or result.kind != "edge":
            return None
        session, level_ids = self.controller.session, {g.id for g in self.controller.grids()}
        u, v = result.edge
        holders = sorted(session.index.grids_with_all([key(u), key(v)]) & level_ids)
        return (holders[0], (u, v), result.point) if holders else None

    # -- mouse ---------------------------------------------------------------------------------
    def press(self, event: MapMouseEvent) -> None:
        if event.button != LEFT or self.controller.session is None:
            return
        self._press = event
        found = self.vertex_at(event)
        if found is None:
            return
        if event.modifiers & CTRL:
            self._delete(*found)
            self._press = None
            return
        self._drag = (found[0], found[1], event)
        self._target = found[1]
        self.overlay.drag = self._preview(found[1], found[1])
        self.overlay.changed()

    def _neighbours(self, vertex) -> list[tuple[tuple[float, float], tuple[float, float]]]:
        """(previous, next) vertex around ``vertex`` in every ring of every grid sharing it."""
        session, k, out = self.controller.session, key(vertex), []
        for grid_id in session.index.grids_at(k):
            for poly in shapely.get_parts(session.grid(grid_id).boundary):
                for ring in shapely.get_rings(poly):
                    coords = shapely.get_coordinates(ring)[:-1]
                    for i in np.nonzero((coords[:, 0] == k[0]) & (coords[:, 1] == k[1]))[0].tolist():
                        out.append((tuple(coords[i - 1]), tuple(coords[(i + 1) % len(coords)])))
        return list(dict.fromkeys(out))

    def _preview(self, vertex, to) -> list:
        if not hasattr(self, "_around") or self._around[0] != vertex:
            self._around = (vertex, [(_merc(*a), _merc(*b)) for a, b in self._neighbours(vertex)])
        here = _merc(*to)
        return [(a, here, b) for a, b in self._around[1]]

    def move(self, event: MapMouseEvent) -> None:
        if self._drag is None:
            if not event.buttons & LEFT:
                self.snapped(event, force=True)  # show what a press would grab
            return
        import time

        started = time.perf_counter()
        grid_id, vertex, _ = self._drag
        k = key(vertex)

        def not_itself(result) -> bool:  # never snap onto the dragged vertex or its own edges
            if result.kind == "vertex":
                return key(result.point) != k
            return k not in (key(result.edge[0]), key(result.edge[1]))

        self._target = self.snapped(event, accept=not_itself)
        self.overlay.drag = self._preview(vertex, self._target)
        self.overlay.changed()
        self.move_seconds.append(time.perf_counter() - started)

    def release(self, event: MapMouseEvent) -> None:
        press, self._press = self._press, None
        if event.button != LEFT:
            return
        drag, self._drag = self._drag, None
        self.overlay.drag = []
        if drag is not None:
            grid_id, vertex, start = drag
            target, self._target = self._target, None
            if (event.pos - start.pos).manhattanLength() >= CLICK_SLOP_PX and target is not None:
                session = self.controller.session
                self.controller.run(lambda: MoveVertexCommand(session, grid_id, vertex, target), "移动顶点")
                self.selected = None
            else:
                self.selected = (grid_id, vertex)
            self._show_selected()
            return
        if press is not None and (event.pos - press.pos).manhattanLength() < CLICK_SLOP_PX:
            self.selected = None
            self._show_selected()
            grid = self.controller.grid_at(event.lon, event.lat)
            current = list(self.controller.chosen)
            if grid is None:
                self.controller.set_chosen(current if event.modifiers & SHIFT else [])
            elif event.modifiers & SHIFT:
                self.controller.set_chosen([i for i in current if i != grid.id] if grid.id in current
                                           else current + [grid.id])
            else:
                self.controller.set_chosen([grid.id])

    def double_click(self, event: MapMouseEvent) -> None:
        if event.button != LEFT or self.controller.session is None:
            return
        found = self.edge_at(event)
        if found is None:
            return
        grid_id, edge, point = found
        session = self.controller.session
        self.controller.run(lambda: InsertVertexCommand(session, grid_id, edge, point), "插入顶点")
        self.selected = None
        self._show_selected()

    def key_press(self, event: QKeyEvent) -> bool:
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.selected is not None:
            self._delete(*self.selected)
            return True
        return False

    def _delete(self, grid_id: int, vertex) -> None:
        session = self.controller.session
        self.controller.run(lambda: DeleteVertexCommand(session, grid_id, vertex), "删除顶点")
        self.selected = None
        self._show_selected()

    def _show_selected(self) -> None:
        self.overlay.selected_vertex = _merc(*self.selected[1]) if self.selected is not None else None
        self.overlay.changed()

    def cancel(self) -> None:
        self._drag, self._target, self._press = None, None, None
        self.overlay.drag = []
        self.selected = None
        self._show_selected()


BASIC_TOOL_CLASSES = (DrawPolygonTool, VertexTool, SplitTool)
