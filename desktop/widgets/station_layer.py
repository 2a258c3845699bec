"""Monitoring stations: air stations in the colour of their current AQI level (HJ 633-2012),
water stations and enterprise outlets with their own symbols.

The AQI is the hourly (实时报) one of the latest hourly readings, with the PM values
taken as hourly averages (``pm_average="1h"``, see :mod:`gis.aqi`). A station with
no usable reading is grey (无数据), never green: no data is not good air.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen

from desktop.widgets.legend import LegendEntry, rgba_of, symbol_sprite
from desktop.widgets.live_layers import LiveLayer
from desktop.widgets.map_base import MapLayer
from desktop.widgets.map_geometry import lonlat_to_mercator
from gis.aqi import LEVELS, AqiResult, station_hour_aqi
from gis.palettes import NO_DATA_COLOUR, STATION_COLOURS
from gis.storage.readings import StationPoint

LABEL_MAX_RES = 40.0  # m per px: closer than this, air stations show their AQI number


@dataclass(frozen=True, slots=True)
class StationClass:
    key: str
    label: str
    colour: str
    shape: str
    size: float


# Drawn in this order: the worst air on top.
STATION_CLASSES = (
    StationClass("water", "水质自动站", STATION_COLOURS["water"], "triangle", 14.0),
    StationClass("outlet", "企业排口", STATION_COLOURS["outlet"], "square", 11.0),
    StationClass("aqi-none", "空气站 无数据", NO_DATA_COLOUR, "dot", 14.0),
    *(StationClass(f"aqi{level.number}", f"{level.name}（{level.lowest}–{level.highest}）", level.colour, "dot", 14.0)
      for level in LEVELS),
)
CLASS_INDEX = {c.key: i for i, c in enumerate(STATION_CLASSES)}
# The legend reads as AQI tables do, 优 first; symbols of other kinds after them.
_LEGEND_ORDER = [f"aqi{level.number}" for level in LEVELS] + ["aqi-none", "water", "outlet"]


def station_class(kind: str, result: AqiResult | None) -> int:
    if kind in ("water", "outlet"):
        return CLASS_INDEX[kind]
    if result is None or result.level is None:
        return CLASS_INDEX["aqi-none"]
    return CLASS_INDEX[f"aqi{result.level.number}"]


class StationSnapshot(MapLayer):
    def __init__(self, key, title, xy, classes, aqi, symbols):
        self.key, self.title = key, title
        self.xy, self.classes, self.aqi, self.symbols = xy, classes, aqi, symbols

    def paint(self, painter: QPainter, ctx) -> None:
        vp = ctx.viewport
        if not len(self.xy):
            return
        screen = vp.to_screen(self.xy)
        inside = (screen[:, 0] > -30) & (screen[:, 0] < vp.width + 30) & (screen[:, 1] > -30) \
            & (screen[:, 1] < vp.height + 30)
        for n in np.nonzero(inside)[0][np.argsort(self.classes[inside], kind="stable")]:
            shape, rgba, size = self.symbols[int(self.classes[n])]
            sprite, ax, ay = symbol_sprite(shape, rgba, size, vp.dpr)
            painter.drawImage(QPointF(screen[n, 0] - ax, screen[n, 1] - ay), sprite)
        if vp.res <= LABEL_MAX_RES:
            self._paint_numbers(painter, screen, inside)

    def _paint_numbers(self, painter: QPainter, screen, inside) -> None:
        font = QFont()
        font.setFamilies(["Noto Sans CJK SC", "Microsoft YaHei", "sans-serif"])
        font.setPointSizeF(8.0)
        font.setBold(True)
        halo = QPen(QColor(255, 255, 255, 235), 3.0)
        for n in np.nonzero(inside & (self.aqi >= 0))[0]:
            path = QPainterPath()
            path.addText(QPointF(screen[n, 0] + 9, screen[n, 1] + 4), font, str(int(self.aqi[n])))
            painter.strokePath(path, halo)
            painter.fillPath(path, QColor("#263238"))


class StationLayer(LiveLayer):
    key = "stations"
    title = "监测站点"

    def __init__(self, stations: Sequence[StationPoint] = (), latest: Mapping[int, Mapping[str, float]] | None = None):
        super().__init__()
        self.stations = [s for s in stations if s.lon is not None and s.lat is not None]
        self.ids = np.asarray([s.id for s in self.stations], dtype=np.int64)
        x, y = lonlat_to_mercator([s.lon for s in self.stations], [s.lat for s in self.stations])
        self.xy = np.column_stack([np.atleast_1d(x), np.atleast_1d(y)]) if self.stations else np.empty((0, 2))
        self.colours = [rgba_of(c.colour) for c in STATION_CLASSES]
        self.visible = [True] * len(STATION_CLASSES)
        self._row = {int(i): n for n, i in enumerate(self.ids)}
        self.set_readings(latest or {}, notify=False)

    def set_readings(self, latest: Mapping[int, Mapping[str, float]], *, notify: bool = True) -> None:
        """New latest readings (``gis.storage.readings.latest_hourly_by_station``): recolour."""
        self.results: dict[int, AqiResult | None] = {
            s.id: station_hour_aqi(latest.get(s.id, {})) if s.kind == "air" else None for s in self.stations}
        self.classes = np.asarray([station_class(s.kind, self.results[s.id]) for s in self.stations], dtype=np.int8)
        self.aqi = np.asarray([r.aqi if r is not None and r.aqi is not None else -1
                               for r in (self.results[s.id] for s in self.stations)], dtype=np.int64)
        if notify:
            self.changed()

    def aqi_of(self, station_id: int) -> AqiResult | None:
        return self.results.get(station_id)

    def class_of(self, station_id: int) -> str | None:
        row = self._row.get(station_id)
        return None if row is None else STATION_CLASSES[int(self.classes[row])].key

    def set_class_visible(self, key: str, visible: bool) -> None:
        if self.visible[CLASS_INDEX[key]] != visible:
            self.visible[CLASS_INDEX[key]] = visible
            self.changed()

    def set_class_colour(self, key: str, colour: str) -> None:
        if key.startswith("aqi"):
            raise ValueError("AQI colours are fixed by HJ 633-2012")
        self.colours[CLASS_INDEX[key]] = rgba_of(colour)
        self.changed()

    def legend(self) -> list[LegendEntry]:
        counts = np.bincount(self.classes.astype(np.int64), minlength=len(STATION_CLASSES)) if len(self.classes) \
            else np.zeros(len(STATION_CLASSES), dtype=np.int64)
        return [LegendEntry(c.key, c.label, c.shape, self.colours[i], c.size, checkable=True, visible=self.visible[i],
                            editable=not c.key.startswith("aqi"), count=int(counts[i]))
                for i, c in sorted(enumerate(STATION_CLASSES), key=lambda ic: _LEGEND_ORDER.index(ic[1].key))]

    def __len__(self) -> int:
        return len(self.stations)

    def extent(self):
        if not len(self.xy):
            return None
        return float(self.xy[:, 0].min()), float(self.xy[:, 1].min()), float(self.xy[:, 0].max()), \
            float(self.xy[:, 1].max())

    def snapshot(self) -> StationSnapshot:
        keep = np.asarray(self.visible, dtype=bool)[self.classes] if len(self.classes) else np.zeros(0, bool)
        symbols = tuple((c.shape, self.colours[i], c.size) for i, c in enumerate(STATION_CLASSES))
        aqi = np.where(self.classes >= CLASS_INDEX["aqi1"], self.aqi, -1)
        return StationSnapshot(self.key, self.title, self.xy[keep].copy(), self.classes[keep].copy(), aqi[keep], symbols)
