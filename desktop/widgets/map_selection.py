"""Selected grids: a small value (ids) and the layer that draws them with the map.

The selection is drawn by the render job, not on the GUI thread, because a
rectangle over a district can select thousands of fourth-level grids.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPainter, QPen

from desktop.widgets.map_geometry import bbox_union, boxes_in_view, qpolygonf, ring_arrays
from desktop.widgets.map_layers import CANCEL_CHECK_EVERY, MapLayer, RenderContext

SELECT_FILL = QColor(255, 160, 0, 70)
SELECT_LINE = QColor("#e65100")


def combine_selection(current: Iterable[int], found: Iterable[int], modifiers: Qt.KeyboardModifier) -> list[int]:
    """Shift adds to the selection, Ctrl takes away, otherwise the new set replaces it (QGIS' rules)."""
    current, found = set(current), set(found)
    if modifiers & Qt.KeyboardModifier.ControlModifier:
        return sorted(current - found)
    if modifiers & Qt.KeyboardModifier.ShiftModifier:
        return sorted(current | found)
    return sorted(found)


class SelectionLayer(MapLayer):
    """Translucent fill and a strong outline for each selected grid; immutable like every layer."""

    key = "selection"
    title = "选中网格"

    def __init__(self, grid_ids: Iterable[int], geometries):
        self.grid_ids = tuple(grid_ids)
        self.rings = ring_arrays(list(geometries))

    def __len__(self) -> int:
        return len(self.grid_ids)

    def extent(self):
        return bbox_union(self.rings.feature_bbox)

    def paint(self, painter: QPainter, ctx: RenderContext) -> None:
        vp, rings = ctx.viewport, self.rings
        if not rings.ring_count:
            return
        visible = boxes_in_view(rings.ring_bbox, vp.extent)
        pen = QPen(SELECT_LINE, 2.2)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.setBrush(SELECT_FILL)
        holed = np.bincount(rings.ring_feature, minlength=len(rings.feature_bbox)) > 1
        for n, r in enumerate(visible):
            if n % CANCEL_CHECK_EVERY == 0 and ctx.cancelled:
                return
            if holed[rings.ring_feature[r]]:
                painter.setBrush(Qt.BrushStyle.NoBrush)  # a fill would cover the hole; the outline says enough
            painter.drawPolygon(qpolygonf(vp.to_screen(rings.ring(r))))
            painter.setBrush(SELECT_FILL)
