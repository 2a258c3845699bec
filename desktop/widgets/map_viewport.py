"""What part of the Web Mercator plane the canvas shows, as an immutable value.

A render job gets one of these and keeps it, so the GUI can move on (pan, zoom,
resize) while the job paints the view it was asked for. Pure arithmetic: no Qt,
so tests can check zoom and pan without a widget.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

EARTH_RADIUS_M = 6378137.0  # the sphere of EPSG:3857
# Scale 1:N is given for a 96-dpi screen, as web maps and QGIS' default do; the
# physical size of the user's pixels is unknown anyway.
METRES_PER_SCREEN_PIXEL = 0.0254 / 96
MIN_RESOLUTION = 0.05    # m per pixel: a few centimetres, deeper zoom shows nothing new
MAX_RESOLUTION = 20000.0  # m per pixel: the whole world in ~2000 px


@dataclass(frozen=True, slots=True)
class MapViewport:
    """Centre and resolution in EPSG:3857 metres, size in logical pixels."""

    cx: float = 0.0
    cy: float = 0.0
    res: float = 1.0  # metres per logical pixel
    width: int = 1
    height: int = 1
    dpr: float = 1.0

    # -- geometry ---------------------------------------------------------------
    @property
    def extent(self) -> tuple[float, float, float, float]:
        half_w = self.width * self.res / 2
        half_h = self.height * self.res / 2
        return self.cx - half_w, self.cy - half_h, self.cx + half_w, self.cy + half_h

    def to_screen(self, xy: np.ndarray) -> np.ndarray:
        """(N, 2) mercator metres → (N, 2) logical pixels (y down)."""
        out = np.empty_like(xy, dtype=np.float64)
        out[:, 0] = (xy[:, 0] - self.cx) / self.res + self.width / 2
        out[:, 1] = self.height / 2 - (xy[:, 1] - self.cy) / self.res
        return out

    def world_to_screen(self, x: float, y: float) -> tuple[float, float]:
        return (x - self.cx) / self.res + self.width / 2, self.height / 2 - (y - self.cy) / self.res

    def screen_to_world(self, sx: float, sy: float) -> tuple[float, float]:
        return self.cx + (sx - self.width / 2) * self.res, self.cy - (sy - self.height / 2) * self.res

    def scale_denominator(self) -> float:
        """N of "1:N" on the ground at the centre (Mercator stretches by 1/cos(lat))."""
        lat = math.atan(math.sinh(self.cy / EARTH_RADIUS_M))
        return self.res * math.cos(lat) / METRES_PER_SCREEN_PIXEL

    # -- derived views ------------------------------------------------------------
    def resized(self, width: int, height: int, dpr: float | None = None) -> MapViewport:
        return replace(self, width=max(1, int(width)), height=max(1, int(height)),
                       dpr=self.dpr if dpr is None else float(dpr))

    def panned(self, dx_px: float, dy_px: float) -> MapViewport:
        """Move the content by (dx, dy) pixels, as a drag does."""
        return replace(self, cx=self.cx - dx_px * self.res, cy=self.cy + dy_px * self.res)

    def zoomed(self, factor: float, anchor: tuple[float, float] | None = None) -> MapViewport:
        """Zoom in by ``factor`` (>1 in) keeping the world point under ``anchor`` fixed."""
        res = min(max(self.res / factor, MIN_RESOLUTION), MAX_RESOLUTION)
        if anchor is None:
            return replace(self, res=res)
        sx, sy = anchor
        wx, wy = self.screen_to_world(sx, sy)
        return replace(self, res=res, cx=wx - (sx - self.width / 2) * res, cy=wy + (sy - self.height / 2) * res)

    def fitted(self, bbox: tuple[float, float, float, float], margin: float = 0.05) -> MapViewport:
        """Show the mercator ``bbox`` whole, centred, with a relative margin."""
        min_x, min_y, max_x, max_y = bbox
        span_x = max(max_x - min_x, 1.0)
        span_y = max(max_y - min_y, 1.0)
        res = max(span_x / self.width, span_y / self.height) * (1 + 2 * margin)
        res = min(max(res, MIN_RESOLUTION), MAX_RESOLUTION)
        return replace(self, cx=(min_x + max_x) / 2, cy=(min_y + max_y) / 2, res=res)
