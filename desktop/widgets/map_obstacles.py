"""Point symbols of the live layers, as obstacles for the static map's grid names.

Case pins and stations are rendered in their own image (``live_layers``), after and apart
from the grid names. So that a name never covers a pin, a cluster bubble or a station, the
static render job starts with :class:`LabelObstacles`: it draws nothing, it only marks the
screen cells those symbols will take in the job's label placer (``RenderContext.labels``).
It lays the pins out exactly as the pin layer will (same clustering), from immutable
snapshots taken when the job starts; a pin added later moves names on the next render.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtGui import QPainter

from desktop.widgets.map_base import MapLayer, RenderContext
from desktop.widgets.map_points import point_rects
from desktop.widgets.station_layer import LABEL_MAX_RES as AQI_NUMBER_MAX_RES

AQI_NUMBER_PX = 28.0  # width of the number an air station carries beside its dot


class LabelObstacles(MapLayer):
    key = "label-obstacles"
    title = "注记避让"

    def __init__(self, snapshots):
        self.snapshots = tuple(snapshots)

    def paint(self, painter: QPainter, ctx: RenderContext) -> None:
        vp = ctx.viewport
        for snapshot in self.snapshots:
            if hasattr(snapshot, "block_labels"):
                snapshot.block_labels(ctx)
                continue
            xy = getattr(snapshot, "xy", None)
            if xy is None or not len(xy):
                continue
            screen = vp.to_screen(np.asarray(xy))
            on_screen = (screen[:, 0] > -20) & (screen[:, 0] < vp.width + 20) & (screen[:, 1] > -20) \
                & (screen[:, 1] < vp.height + 20)
            sizes = [symbol[2] for symbol in getattr(snapshot, "symbols", ())] or [14.0]
            half = max(sizes) / 2 + 1
            rects = point_rects(screen[on_screen], half, half)
            aqi = getattr(snapshot, "aqi", None)
            if aqi is not None and vp.res <= AQI_NUMBER_MAX_RES:  # the AQI number to the right of air stations
                numbered = np.asarray(aqi)[on_screen] >= 0
                rects[numbered, 2] += AQI_NUMBER_PX
            ctx.labels.block(rects)


def label_obstacles(live_layers) -> LabelObstacles | None:
    """An obstacle layer for the visible live layers (GUI thread: it takes their snapshots)."""
    snapshots = [layer.snapshot() for layer in live_layers if hasattr(layer, "snapshot")]
    return LabelObstacles(snapshots) if snapshots else None
