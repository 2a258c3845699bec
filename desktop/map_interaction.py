"""What the map does with the user's hands: identify, hover, select, search, view history.

The window owns the data and the docks; this object owns the indexes built
from the data (hit-testing, search, per-grid counts — made in a worker thread
when a workspace arrives, so loading never stalls the GUI) and turns canvas
signals into panel content, highlights and view changes.
"""
from __future__ import annotations

import concurrent.futures
import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QObject, Qt, Signal
from PySide6.QtWidgets import QLabel

from desktop.map_features import FeatureLookup, MapIndexes, build_indexes
from desktop.widgets.map_geometry import lonlat_to_mercator
from desktop.widgets.map_hit import CASE_PIN_LIFT_PX, Hit, VersionedPointIndex
from desktop.widgets.map_hover import HoverController
from desktop.widgets.map_overlays import MapMarker
from desktop.widgets.map_selection import SelectionLayer, combine_selection
from desktop.widgets.map_status import ScaleCombo
from desktop.widgets.map_tools import TOOL_CLASSES, MapTool
from desktop.widgets.search_box import SearchBox, SearchIndex
from desktop.widgets.view_history import ViewHistory
from gis.crs import format_gk3

if TYPE_CHECKING:
    from desktop.main_window import MainWindow

log = logging.getLogger(__name__)

HOVER_RADIUS_PX = 7.0
IDENTIFY_RADIUS_PX = 8.0
LAYER_OF_KIND = {"source": "sources", "case": "cases", "station": "stations"}
POINT_ZOOM_SCALE = 4000


class MapInteraction(QObject):
    indexesReady = Signal()
    _built = Signal(object, object)  # generation, MapIndexes (from the worker thread, queued)
    selectionChanged = Signal(int)

    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window, self.canvas = window, window.canvas
        self.data = None
        self._indexes: MapIndexes | None = None
        self._future: concurrent.futures.Future | None = None
        self._generation = 0
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="map-index")
        self._closed = False
        self._built.connect(self._on_built)
        self.features: FeatureLookup | None = None
        self.selected: list[int] = []

        self.tools: dict[str, MapTool] = {cls.id: cls(self.canvas) for cls in TOOL_CLASSES}
        self.canvas.set_map_tool(self.tools["pan"])
        self.history = ViewHistory()
        self._restoring = False
        self.canvas.viewChanged.connect(self._record_view)

        self.search_box = SearchBox()
        self.search_box.featureChosen.connect(self.go_to)
        self.search_box.notFound.connect(lambda text: self._say(f"未找到“{text}”"))
        self.hover = HoverController(self.canvas, self.pick, self.describe)
        self.canvas.clicked.connect(self.identify_at)
        self.canvas.rectangleSelected.connect(self._on_rectangle)
        window.info_panel.featureActivated.connect(lambda kind, fid: self.show_feature(kind, fid))

        self.gk_label = QLabel(format_gk3(float("nan"), 0.0))
        self.gk_label.setToolTip("CGCS2000 高斯-克吕格 3° 分带坐标：X 为北坐标，Y 为带号加东坐标")
        self.scale_combo = ScaleCombo()
        self.selection_label = QLabel()
        self.canvas.cursorMoved.connect(lambda lon, lat: self.gk_label.setText(format_gk3(lon, lat)))
        self.canvas.scaleChanged.connect(self.scale_combo.set_scale)
        self.scale_combo.scaleEntered.connect(self.canvas.zoom_to_scale)
        for widget in (self.gk_label, self.scale_combo, self.selection_label):
            window.statusBar().addPermanentWidget(widget)

    # -- data -----------------------------------------------------------------------------
    def set_data(self, data) -> None:
        """A new workspace: forget selection and history, build the indexes in the background."""
        self.data = data
        self._generation += 1
        self._indexes, self.features = None, None
        self.hover.reset()
        self.set_selection([])
        self.history.clear()
        self.search_box.set_index(SearchIndex())
        generation = self._generation
        if self._closed:  # the window closed while the workspace was still loading
            return
        self._future = self._executor.submit(build_indexes, data)
        self._future.add_done_callback(
            lambda f: self._built.emit(generation, f.result()) if f.exception() is None else None)

    def _on_built(self, generation: int, indexes: MapIndexes) -> None:
        if generation == self._generation and self._indexes is None:
            self._adopt(indexes)

    def _adopt(self, indexes: MapIndexes) -> None:
        self._indexes, self.features = indexes, indexes.features
        static = indexes.hits.points.get("case")
        if static is not None:  # pins come and go with the live feed: follow the pin layer
            indexes.hits.set_points(VersionedPointIndex(
                "case", lambda: self._shown_pins(static), lambda: self._pins_version(), lift_px=CASE_PIN_LIFT_PX))
        self.search_box.set_index(indexes.search)
        self.indexesReady.emit()

    def indexes(self, wait: bool = True) -> MapIndexes | None:
        """The indexes of the current data; a click in the first split second waits for them."""
        if self._indexes is None and wait and self._future is not None:
            try:
                self._adopt(self._future.result())
            except Exception as exc:  # the map still works, only picking does not
                log.exception("building the map's hit-test and search indexes failed")
                self._future = None
                self._say(f"地图索引建立失败：{exc}")
        return self._indexes

    def _live_layer(self, key: str):
        layer = self.canvas.layer(key)
        return layer if all(hasattr(layer, name) for name in ("version", "ids", "is_shown", "xy_of")) else None

    def _pins_version(self):
        layer = self._live_layer("cases")
        return None if layer is None else (id(layer), layer.version)

    def _shown_pins(self, static):
        """Ids and mercator positions of the case pins shown now (hidden classes excluded)."""
        layer = self._live_layer("cases")
        if layer is None:
            return static.ids, static.xy
        ids = [case_id for case_id in layer.ids() if layer.is_shown(case_id)]
        return ids, [layer.xy_of(case_id) for case_id in ids]

    def station_aqi(self, station_id: int):
        layer = self.canvas.layer("stations")
        return layer.aqi_of(station_id) if hasattr(layer, "aqi_of") else None

    def grid_counts(self, grid_id: int) -> tuple[int, int] | None:
        indexes = self.indexes()
        return None if indexes is None else indexes.counts.get(grid_id, (0, 0))

    def shutdown(self) -> None:
        self._closed = True
        self._executor.shutdown(wait=True, cancel_futures=True)

    # -- what is visible --------------------------------------------------------------------
    def visible_levels(self) -> set[int]:
        viewport = self.canvas.viewport()
        return {layer.level for layer in self.canvas.layers()
                if getattr(layer, "level", None) and hasattr(layer, "visible_at")
                and self.canvas.is_layer_visible(layer.key) and layer.visible_at(viewport)}

    def visible_kinds(self) -> set[str]:
        return {kind for kind, key in LAYER_OF_KIND.items() if self.canvas.is_layer_visible(key)}

    # -- hover ------------------------------------------------------------------------------
    def pick(self, lon: float, lat: float) -> Hit | None:
        """The one feature under the cursor: a point on top, else the deepest visible grid."""
        indexes = self.indexes(wait=False)
        if indexes is None:
            return None
        x, y = (float(v) for v in lonlat_to_mercator(lon, lat))
        hit = indexes.hits.point_at(x, y, self.canvas.viewport().res, HOVER_RADIUS_PX, self.visible_kinds())
        if hit is not None:
            return hit
        found = indexes.hits.grids.at(lon, lat, self.visible_levels() or None)
        return Hit("grid", *found[0]) if found else None

    def label(self, kind: str, feature_id: int) -> str:
        return self.features.label(kind, feature_id) if self.features else ""

    def marker(self, kind: str, feature_id: int) -> MapMarker | None:
        return self.features.marker(kind, feature_id) if self.features else None

    def describe(self, hit: Hit) -> tuple[str, MapMarker | None]:
        """Tooltip text and hover marker of a hit."""
        counts = self._indexes.counts if self._indexes else None
        text = self.features.tooltip(hit, counts)
        if hit.kind == "station" and (result := self.station_aqi(hit.id)) is not None and result.aqi is not None:
            text += f"\nAQI {result.aqi}（{result.level.name}）"
        return text, self.marker(hit.kind, hit.id)

    # -- identify ---------------------------------------------------------------------------
    def identify_at(self, lon: float, lat: float) -> Hit | None:
        """A click: show the top feature at the point; the rest are links in the panel."""
        indexes = self.indexes()
        if indexes is None:
            return None
        hits = indexes.hits.identify(lon, lat, self.canvas.viewport().res, IDENTIFY_RADIUS_PX,
                                     kinds=self.visible_kinds())
        levels = self.visible_levels()
        points = [h for h in hits if h.kind != "grid"]
        grids = [h for h in hits if h.kind == "grid"]
        shown_grids = [h for h in grids if not levels or h.level in levels] or grids
        ordered = points + shown_grids[:1] + [h for h in grids if h not in shown_grids[:1]]
        if not ordered:
            self._say("此处没有要素")
            return None
        top, others = ordered[0], [(h.kind, h.id, self.label(h.kind, h.id)) for h in ordered[1:]]
        self.show_feature(top.kind, top.id, others=others)
        return top

    def show_feature(self, kind: str, feature_id: int, *, others=(), zoom: bool = False) -> None:
        window, panel = self.window, self.window.info_panel
        grid_row = window.grid_proxy.mapFromSource(window.grid_model.index_for_grid(feature_id)) \
            if kind == "grid" else QModelIndex()  # a source or case: no grid is "current" any more
        selection = window.grid_view.selectionModel()
        selection.blockSignals(True)  # the tree would zoom; the caller decides that
        window.grid_view.setCurrentIndex(grid_row)
        selection.blockSignals(False)
        if kind == "grid":
            window.grid_view.scrollTo(grid_row)
            window.show_grid(feature_id, zoom=zoom, others=others)
            return
        feature = self.features.feature(kind, feature_id) if self.features else None
        if feature is None:
            return
        self.canvas.set_highlight(None)
        grid = self.data.grid(feature.grid_id) if getattr(feature, "grid_id", None) else None
        if kind == "source":
            panel.show_source(feature, self.features.categories.get(feature.category_id, ""),
                              grid.name if grid else "", others)
        elif kind == "case":
            panel.show_case(feature, others)
        else:
            panel.show_station(feature, grid.name if grid else "", others, aqi=self.station_aqi(feature_id))
        if zoom:
            self.canvas.zoom_to_point(feature.lon, feature.lat, POINT_ZOOM_SCALE)
        window.info_dock.show()

    # -- search -----------------------------------------------------------------------------
    def go_to(self, kind: str, feature_id: int) -> None:
        """Zoom to a feature found by the search box, show it, and flash it."""
        self.show_feature(kind, feature_id, zoom=True)
        marker = self.marker(kind, feature_id)
        if marker is not None:
            self.canvas.flash(marker)
        self._say(f"已定位：{self.label(kind, feature_id)}")

    def focus_search(self) -> None:
        self.search_box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_box.selectAll()

    # -- selection --------------------------------------------------------------------------
    def _on_rectangle(self, min_lon: float, min_lat: float, max_lon: float, max_lat: float, modifiers: int) -> None:
        indexes = self.indexes()
        if indexes is None:
            return
        grids = indexes.hits.grids
        levels = self.visible_levels() or set(grids.levels.tolist())
        level = max(levels) if levels else None
        if (min_lon, min_lat) == (max_lon, max_lat):
            found = [grid_id for grid_id, _ in grids.at(min_lon, min_lat, [level])][:1]
        else:
            found = grids.intersecting((min_lon, min_lat, max_lon, max_lat), [level])
        self.set_selection(combine_selection(self.selected, found, Qt.KeyboardModifier(modifiers)))

    def set_selection(self, grid_ids) -> None:
        self.selected = sorted(set(grid_ids))
        grids = [self.data.grid(i) for i in self.selected] if self.data else []
        self.canvas.set_selection_layer(SelectionLayer(self.selected, [g.boundary for g in grids])
                                        if grids else None)
        self.selection_label.setText(f"已选网格 {len(self.selected):,} 个" if self.selected else "")
        self.selectionChanged.emit(len(self.selected))

    def zoom_to_selection(self) -> None:
        indexes = self.indexes()
        box = indexes.hits.grids.bbox_of(self.selected) if indexes and self.selected else None
        if box is None:
            self._say("没有选中的网格")
            return
        self.canvas.zoom_to_bbox(box)

    def zoom_to_current_grid(self) -> None:
        current = self.window.info_panel.current
        if current is None:
            self._say("请先选择或识别一个网格")
        elif current[0] == "grid":
            self.window.show_grid(current[1], zoom=True)
        else:
            self.show_feature(*current, zoom=True)

    # -- history ----------------------------------------------------------------------------
    def _record_view(self) -> None:
        if not self._restoring:
            vp = self.canvas.viewport()
            self.history.record((vp.cx, vp.cy, vp.res))

    def _restore(self, view) -> None:
        if view is None:
            return
        self._restoring = True
        try:
            cx, cy, res = view
            self.canvas.set_viewport(replace(self.canvas.viewport(), cx=cx, cy=cy, res=res))
        finally:
            self._restoring = False

    def back(self) -> None:
        self._restore(self.history.back())

    def forward(self) -> None:
        self._restore(self.history.forward())

    def _say(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 6000)
