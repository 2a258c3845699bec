"""What the map shows and how: basemap, layer panel, saved styles, live pins and stations.

The window owns the data and the store; this object owns the basemap controller,
the layer dock, the GCJ-02 banner over the map and the alarm pulse, and writes the
workspace's ``map_styles`` setting a moment after the last change (a slider drag
is one write, not fifty).
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QFrame, QLabel, QScrollArea
from sqlalchemy.exc import SQLAlchemyError

from desktop.widgets.basemap import BasemapController
from desktop.widgets.layer_panel import LayerPanel
from desktop.widgets.pin_layer import CasePinLayer
from desktop.widgets.pin_pulse import PulseOverlay
from desktop.widgets.station_layer import StationLayer
from gis.map_styles import write_map_styles

if TYPE_CHECKING:
    from desktop.main_window import MainWindow

log = logging.getLogger(__name__)
SAVE_DELAY_MS = 800
OVERDUE_CHECK_MS = 60_000  # pins turn red within a minute of their deadline


class MapLayerControl(QObject):
    def __init__(self, window: MainWindow, *, basemaps: BasemapController | None = None):
        super().__init__(window)
        self.window = window
        canvas = window.canvas
        self.basemaps = basemaps or BasemapController(canvas, parent=self)
        self.basemaps.canvas = canvas
        self.panel = LayerPanel(canvas, self.basemaps)
        self.panel.setMinimumWidth(240)
        self.dock = QDockWidget("图层", window)
        self.dock.setObjectName("layerDock")  # saveState() needs names
        scroll = QScrollArea()  # a short screen scrolls the panel rather than growing the window
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.panel)
        self.dock.setWidget(scroll)
        self.dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                              | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        if getattr(window, "info_dock", None) is not None:
            window.splitDockWidget(window.info_dock, self.dock, Qt.Orientation.Vertical)
        legend = getattr(window, "legend", None)
        if legend is not None:
            legend.hide()  # the layer panel shows the legend now, with swatches per class

        self.banner = QLabel()
        self.banner.setObjectName("basemapBanner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("QLabel#basemapBanner { background: #ffe0b2; color: #8a3b00; padding: 5px 10px;"
                                  " border-bottom: 1px solid #f0a060; font-weight: bold; }")
        self.banner.hide()
        layout = window.centralWidget().layout()
        layout.insertWidget(max(0, layout.indexOf(canvas)), self.banner)
        self.basemaps.noticeChanged.connect(self._show_notice)
        self.basemaps.problem.connect(lambda text: window.statusBar().showMessage(text, 10_000))

        self.pulse = PulseOverlay(canvas)
        self._store = None
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self.save)
        self.panel.stylesChanged.connect(self._save_timer.start)
        canvas.layerStyleChanged.connect(self._sync_menu)
        self._overdue = QTimer(self)
        self._overdue.setInterval(OVERDUE_CHECK_MS)
        self._overdue.timeout.connect(self.check_overdue)

    def check_overdue(self) -> None:
        """Pins whose deadline has passed turn red; grid levels filled by overdue cases follow."""
        if self.pins is not None and self.pins.refresh_overdue():
            live = getattr(self.window, "live", None)
            if live is not None:
                live.refresh_statistics_soon()

    # -- data --------------------------------------------------------------------------
    def set_data(self, data) -> None:
        """A workspace arrived: its layers with its saved styles, onto the canvas."""
        self.flush()
        self._store = self.window.store
        self.panel.set_statistics(getattr(data, "grid_stats", None))  # grid levels filled by a statistic
        self.panel.load(data.layers, data.map_styles, zoom_to_full=True)
        self.pulse.set_pins(self.pins)
        self._overdue.start()

    @property
    def pins(self) -> CasePinLayer | None:
        """The case pins, for the live feed: ``add_pin``/``move_pin``/``update_pin``/``remove_pin``."""
        layer = self.window.canvas.layer(CasePinLayer.key)
        return layer if isinstance(layer, CasePinLayer) else None

    @property
    def stations(self) -> StationLayer | None:
        layer = self.window.canvas.layer(StationLayer.key)
        return layer if isinstance(layer, StationLayer) else None

    # -- saving ------------------------------------------------------------------------
    def save(self) -> bool:
        self._save_timer.stop()
        if self._store is None:
            return False
        try:
            with self._store.engine.begin() as connection:
                write_map_styles(connection, self.panel.styles())
        except (SQLAlchemyError, OSError) as exc:  # a read-only or unreachable workspace keeps its old styles
            log.warning("saving map styles failed: %s", exc)
            self.window.statusBar().showMessage(f"地图样式未能保存：{exc}", 8000)
            return False
        return True

    def flush(self) -> None:
        """Write pending style changes now (before the workspace is closed or switched)."""
        if self._save_timer.isActive():
            self.save()

    def shutdown(self) -> None:
        self.flush()
        self._overdue.stop()
        self.pulse.timer.stop()
        self.basemaps.shutdown()

    # -- views -------------------------------------------------------------------------
    def _show_notice(self, text: str) -> None:
        self.banner.setText(f"⚠ {text}" if text else "")
        self.banner.setVisible(bool(text))

    def _sync_menu(self, key: str) -> None:
        menu = getattr(self.window, "layer_menu", None)
        if menu is None:
            return
        for action in menu.actions():
            if action.data() == key:
                action.blockSignals(True)
                action.setChecked(self.window.canvas.is_layer_visible(key))
                action.blockSignals(False)
