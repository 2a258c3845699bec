"""What boundary editing draws over the map on the GUI thread: cheap, per frame.

Vertex handles of the edited level, the grids chosen for a merge, the sketch of a polygon or
split line being drawn (with the rubber segment to the cursor), the preview of a vertex drag,
the selected vertex, the shared edge under the cursor / picked (with its two grids tinted and
the preview of a drag) and the snap marker. Everything is kept in Web Mercator metres, so a
frame only applies the viewport's affine transform. The tools set the state; the controller
sets handles and selection from the session.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen

from desktop.widgets.map_geometry import qpolygonf
from desktop.widgets.map_viewport import MapViewport

HANDLE_PX = 7.0
MAX_HANDLES = 6000            # more vertices than this in view: zoom in to see handles
HANDLE_FILL = QColor("#ffffff")
HANDLE_LINE = QColor("#c62828")
SKETCH = QColor("#d500f9")
SPLIT = QColor("#ff3d00")
DRAG = QColor("#2962ff")
SNAP_VERTEX = QColor("#ff1744")
SNAP_EDGE = QColor("#ff9100")
CHOSEN_FILL = QColor(41, 98, 255, 60)
CHOSEN_LINE = QColor("#2962ff")
EDITED_LINE = QColor(255, 109, 0, 170)  # grids changed and not yet saved
SHARED = QColor("#00c853")               # the picked shared edge
SHARED_HOVER = QColor(0, 200, 83, 150)   # the shared edge a click would pick
PAIR_FILL = QColor(0, 200, 83, 40)       # the two grids on either side of it


@dataclass
class Sketch:
    """A polygon (``kind="polygon"``: finished rings + the open one) or a line being drawn."""

    kind: str
    points: list[tuple[float, float]] = field(default_factory=list)   # mercator, the open ring/line
    rings: list[list[tuple[float, float]]] = field(default_factory=list)  # finished rings (outer first)
    cursor: tuple[float, float] | None = None
    marks: list[tuple[float, float]] = field(default_factory=list)     # e.g. where a split line crosses


class EditOverlay:
    """State of the editing feedback; ``paint(painter, viewport)`` is called by the canvas."""

    def __init__(self, canvas):
        self.canvas = canvas
        self.handles = np.empty((0, 2))                    # mercator vertices of the edited level
        self.edited: list[np.ndarray] = []                 # rings of grids changed in the session
        self.chosen: list[np.ndarray] = []                 # rings of grids chosen (merge)
        self.sketch: Sketch | None = None
        self.drag: list[tuple[tuple[float, float], tuple[float, float], tuple[float, float]]] = []
        self.selected_vertex: tuple[float, float] | None = None
        self.snap: tuple[tuple[float, float], str] | None = None  # mercator point, "vertex" | "edge"
        self.pair: list[np.ndarray] = []                   # rings of the grids either side of a shared edge
        self.shared: np.ndarray | None = None              # mercator polyline of the picked shared edge
        self.shared_hover: np.ndarray | None = None        # the shared edge under the cursor
        self.shared_preview: np.ndarray | None = None      # where a drag would put the picked edge
        self.enabled = True

    def changed(self) -> None:
        self.canvas.update()

    def clear_feedback(self) -> None:
        """Forget what a tool showed (sketch, drag, snap, chosen vertex, shared edge)."""
        self.sketch, self.drag, self.selected_vertex, self.snap = None, [], None, None
        self.pair, self.shared, self.shared_hover, self.shared_preview = [], None, None, None
        self.changed()

    # -- painting --------------------------------------------------------------------------
    def paint(self, painter: QPainter, viewport: MapViewport) -> None:
        if not self.enabled:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        edited = QPen(EDITED_LINE, 2.0)
        edited.setStyle(Qt.PenStyle.DashLine)
        self._paint_rings(painter, viewport, self.edited, None, edited)
        self._paint_rings(painter, viewport, self.chosen, CHOSEN_FILL, QPen(CHOSEN_LINE, 3.0))
        self._paint_rings(painter, viewport, self.pair, PAIR_FILL, QPen(Qt.PenStyle.NoPen))
        self._paint_shared(painter, viewport)
        self._paint_handles(painter, viewport)
        self._paint_drag(painter, viewport)
        self._paint_sketch(painter, viewport)
        if self.selected_vertex is not None:
            p = QPointF(*viewport.world_to_screen(*self.selected_vertex))
            painter.setPen(QPen(HANDLE_LINE, 2.0))
            painter.setBrush(HANDLE_LINE)
            painter.drawRect(QRectF(p.x() - 5, p.y() - 5, 10, 10))
        self._paint_snap(painter, viewport)
        painter.restore()

    @staticmethod
    def _paint_rings(painter, viewport, rings, fill, pen) -> None:
        if not rings:
            return
        path = QPainterPath()
        path.setFillRule(Qt.FillRule.OddEvenFill)
        for ring in rings:
            path.addPolygon(qpolygonf(viewport.to_screen(ring)))
            path.closeSubpath()
        if fill is not None:
            painter.fillPath(path, fill)
        painter.strokePath(path, pen)

    def handles_in_view(self, viewport: MapViewport) -> np.ndarray:
        if not len(self.handles):
            return self.handles
        x0, y0, x1, y1 = viewport.extent
        h = self.handles
        inside = (h[:, 0] >= x0) & (h[:, 0] <= x1) & (h[:, 1] >= y0) & (h[:, 1] <= y1)
        return h[inside]

    def _paint_handles(self, painter, viewport) -> None:
        shown = self.handles_in_view(viewport)
        if not len(shown) or len(shown) > MAX_HANDLES:
            return
        # Square-capped fat points from one buffer copy: a frame with thousands of handles stays cheap.
        points = qpolygonf(viewport.to_screen(shown))
        for colour, size in ((HANDLE_LINE, HANDLE_PX + 1.0), (HANDLE_FILL, HANDLE_PX - 2.0)):
            pen = QPen(colour, size)
            pen.setCapStyle(Qt.PenCapStyle.SquareCap)
            painter.setPen(pen)
            painter.drawPoints(points)

    def _paint_drag(self, painter, viewport) -> None:
        if not self.drag:
            return
        pen = QPen(DRAG, 2.0)
        pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for before, here, after in self.drag:
            points = viewport.to_screen(np.array([before, here, after], dtype=float))
            painter.drawPolyline(qpolygonf(points))
        here = QPointF(*viewport.world_to_screen(*self.drag[0][1]))
        painter.setPen(QPen(DRAG, 2.0))
        painter.setBrush(QColor(255, 255, 255))
        painter.drawEllipse(here, 5.0, 5.0)

    def _paint_shared(self, painter, viewport) -> None:
        def line(points, pen, halo: float = 0.0) -> None:
            polyline = qpolygonf(viewport.to_screen(points))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            if halo:  # a white casing keeps the line readable over any fill or basemap
                casing = QPen(QColor(255, 255, 255, 230), pen.widthF() + halo)
                casing.setCapStyle(Qt.PenCapStyle.RoundCap)
                casing.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
                painter.setPen(casing)
                painter.drawPolyline(polyline)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
            painter.setPen(pen)
            painter.drawPolyline(polyline)

        if self.shared_hover is not None and len(self.shared_hover) >= 2:
            line(self.shared_hover, QPen(SHARED_HOVER, 5.0))
        if self.shared is not None and len(self.shared) >= 2:
            faded = self.shared_preview is not None
            line(self.shared, QPen(QColor(0, 200, 83, 110) if faded else SHARED, 5.0), 0.0 if faded else 3.0)
            painter.setPen(QPen(QColor("#1b5e20"), 2.0))  # its two ends, which never move
            painter.setBrush(QColor(255, 255, 255))
            for x, y in viewport.to_screen(self.shared[[0, -1]]).tolist():
                painter.drawEllipse(QPointF(x, y), 5.0, 5.0)
        if self.shared_preview is not None and len(self.shared_preview) >= 2:
            pen = QPen(DRAG, 3.0)
            pen.setStyle(Qt.PenStyle.DashLine)
            line(self.shared_preview, pen, 3.0)

    def _paint_sketch(self, painter, viewport) -> None:
        sketch = self.sketch
        if sketch is None:
            return
        colour = SPLIT if sketch.kind == "line" else SKETCH
        fill = QColor(colour)
        fill.setAlpha(45)
        for ring in sketch.rings:
            points = viewport.to_screen(np.array(ring + ring[:1], dtype=float))
            path = QPainterPath()
            path.addPolygon(qpolygonf(points))
            painter.fillPath(path, fill)
            painter.setPen(QPen(colour, 2.0))
            painter.drawPolyline(qpolygonf(points))
        live = list(sketch.points) + ([sketch.cursor] if sketch.cursor is not None else [])
        if live:
            points = viewport.to_screen(np.array(live, dtype=float))
            if sketch.kind == "polygon" and len(live) >= 3:
                path = QPainterPath()
                path.addPolygon(qpolygonf(points))
                path.closeSubpath()
                painter.fillPath(path, fill)
            painter.setPen(QPen(colour, 2.0))
            painter.drawPolyline(qpolygonf(points))
            if sketch.kind == "polygon" and len(live) >= 3:  # the closing segment, dashed
                pen = QPen(colour, 1.5)
                pen.setStyle(Qt.PenStyle.DashLine)
                painter.setPen(pen)
                painter.drawLine(QPointF(*points[-1]), QPointF(*points[0]))
            painter.setPen(QPen(colour, 1.5))
            painter.setBrush(QColor(255, 255, 255))
            for x, y in points[:len(sketch.points)].tolist():
                painter.drawEllipse(QPointF(x, y), 3.5, 3.5)
        if sketch.marks:
            painter.setPen(QPen(QColor("#000000"), 1.5))
            painter.setBrush(QColor("#ffea00"))
            for x, y in viewport.to_screen(np.array(sketch.marks, dtype=float)).tolist():
                painter.drawEllipse(QPointF(x, y), 6.0, 6.0)

    def _paint_snap(self, painter, viewport) -> None:
        if self.snap is None:
            return
        (x, y), kind = self.snap
        p = QPointF(*viewport.world_to_screen(x, y))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if kind == "vertex":  # a square around the vertex, as in QGIS
            painter.setPen(QPen(QColor(255, 255, 255, 220), 5.0))
            painter.drawRect(QRectF(p.x() - 8, p.y() - 8, 16, 16))
            painter.setPen(QPen(SNAP_VERTEX, 2.5))
            painter.drawRect(QRectF(p.x() - 8, p.y() - 8, 16, 16))
        else:  # a cross in a circle on the edge
            painter.setPen(QPen(QColor(255, 255, 255, 220), 5.0))
            painter.drawEllipse(p, 8.0, 8.0)
            painter.setPen(QPen(SNAP_EDGE, 2.5))
            painter.drawEllipse(p, 8.0, 8.0)
            painter.drawLine(QPointF(p.x() - 5, p.y() - 5), QPointF(p.x() + 5, p.y() + 5))
            painter.drawLine(QPointF(p.x() - 5, p.y() + 5), QPointF(p.x() + 5, p.y() - 5))
