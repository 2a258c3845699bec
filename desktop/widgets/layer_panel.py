"""The layer panel: basemap choice, then every layer (top first) with its legend.

A view over three models: the canvas (visibility, opacity, order), the basemap
controller, and the workspace's ``MapStyles``. Every user edit goes to the canvas
and into the styles, then ``stylesChanged`` tells the window to save; changes made
elsewhere (the View menu) come back through ``canvas.layerStyleChanged``. Qt
signals are blocked while the panel writes its own widgets, so nothing echoes.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QColorDialog,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.widgets.basemap import BasemapController
from desktop.widgets.basemap_picker import BasemapPicker
from desktop.widgets.legend import SWATCH_SIZE, LegendEntry, hex_of, swatch_icon
from desktop.widgets.map_layers import GridFillLayer, GridLayer, MapLayer
from desktop.widgets.map_styling import apply_styles, filled_grid_layers, is_live, legend_entries, refill
from gis.grid_statistics import GRID_STATISTICS
from gis.map_styles import MapStyles

KEY_ROLE = Qt.ItemDataRole.UserRole
CLASS_ROLE = Qt.ItemDataRole.UserRole + 1
FILL_OPACITY_OVER_TILES = 0.35  # an opaque district fill would hide the basemap


class LayerPanel(QWidget):
    stylesChanged = Signal()

    def __init__(self, canvas, basemaps: BasemapController, parent: QWidget | None = None):
        super().__init__(parent)
        self.canvas, self.basemaps = canvas, basemaps
        self._styles = MapStyles()
        self._stats: dict = {}  # gis.grid_statistics of the workspace, for fills by a statistic
        self._loaded: list[MapLayer] = []
        self._loading = False  # applying saved styles is not a change to save
        self._rebuild_timer = QTimer(self)
        self._rebuild_timer.setSingleShot(True)
        self._rebuild_timer.setInterval(0)
        self._rebuild_timer.timeout.connect(self._rebuild)
        self.picker = BasemapPicker(basemaps)
        self.picker.chosen.connect(self._on_basemap_chosen)
        self.basemap_combo, self.notice = self.picker.combo, self.picker.notice
        self.tree = QTreeWidget()
        self.tree.setHeaderHidden(True)
        self.tree.setIconSize(SWATCH_SIZE)
        self.tree.setRootIsDecorated(True)
        self.tree.itemChanged.connect(self._on_item_changed)
        self.tree.currentItemChanged.connect(lambda *_: self._sync_controls())
        self.tree.itemDoubleClicked.connect(lambda item, _col: self._edit_colour(item))
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.valueChanged.connect(self._on_opacity)
        self.opacity_text = QLabel("100%")
        self.width = QDoubleSpinBox()
        self.width.setRange(0.0, 12.0)
        self.width.setSingleStep(0.2)
        self.width.setSuffix(" 像素")
        self.width.setSpecialValueText(" ")  # shown while no grid level is selected
        self.width.valueChanged.connect(self._on_width)
        self.fill_by = QComboBox()  # fill the selected grid level by a statistic
        self.fill_by.addItem("无（不按统计填色）", None)
        for key, (name, _unit) in GRID_STATISTICS.items():
            self.fill_by.addItem(f"按{name}", key)
        self.fill_by.setToolTip("选中某级网格后，按统计值分级填色（5 级分位数，图例见该级“填色”图层）")
        self.fill_by.currentIndexChanged.connect(self._on_fill_by)
        self.up, self.down = QToolButton(), QToolButton()
        self.up.setText("上移")
        self.down.setText("下移")
        self.up.clicked.connect(lambda: self._move_current(+1))
        self.down.clicked.connect(lambda: self._move_current(-1))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.picker)
        layout.addWidget(self.tree, 1)
        for label, widgets in (("不透明度", (self.opacity, self.opacity_text)), ("线宽", (self.width,)),
                               ("填色", (self.fill_by,)), ("顺序", (self.up, self.down))):
            row = QHBoxLayout()
            row.addWidget(QLabel(label))
            for widget in widgets:
                row.addWidget(widget, 1 if widget is self.opacity else 0)
            row.addStretch(0 if widget is self.opacity_text else 1)
            layout.addLayout(row)

        canvas.layerStyleChanged.connect(self._on_canvas_style)
        self._sync_controls()

    # -- loading -------------------------------------------------------------------------------
    def styles(self) -> MapStyles:
        return self._styles

    def set_statistics(self, stats: dict | None) -> None:
        """Per-grid statistics (``gis.grid_statistics``) that grid levels can be filled by."""
        self._stats = dict(stats or {})

    def update_statistics(self, stats: dict) -> bool:
        """New values of some statistics (the live feed): levels filled by one are re-classed in
        place and the map re-rendered, nothing reloaded; True if any level showed a changed one."""
        self._stats.update(stats)
        refilled, legend_changed = False, False
        for grids in filled_grid_layers(self.canvas.layers()):
            if grids.fill_by not in stats:
                continue
            before = grids.fill_state()
            refill(grids, stats[grids.fill_by])
            after = grids.fill_state()
            if after is not before:  # an unchanged fill keeps its object
                refilled = True
                legend_changed = legend_changed or before.breaks != after.breaks
        if refilled:
            self.canvas.refresh()
        if legend_changed:
            self._rebuild_timer.start()  # the class bounds in the legend
        return refilled

    def refresh_legend(self) -> None:
        """Write the layers' entries again (a layer's features or counts changed, not its style)."""
        self._rebuild_timer.start()

    def load(self, layers: list[MapLayer], styles: MapStyles | None, *, zoom_to_full: bool = False) -> None:
        """A workspace's layers (as loaded) with its saved styles, onto the canvas."""
        self._loaded = list(layers)
        self._styles = styles if styles is not None else MapStyles()
        self._loading = True
        try:
            self._apply(zoom_to_full=zoom_to_full)
            for layer in layers:
                style = self._styles.layers.get(layer.key)
                self.canvas.set_layer_visible(layer.key, style.visible if style else True)
                self.canvas.set_layer_opacity(layer.key, style.opacity if style else 1.0)
            if not self.basemaps.set_basemap(self._styles.basemap) and self._styles.basemap_def:
                self._use_shared_basemap(self._styles.basemap_def)
        finally:
            self._loading = False
        self._rebuild()

    def _use_shared_basemap(self, definition: dict) -> None:
        from gis.tile_sources import Basemap

        try:
            basemap = self.basemaps.add_basemap(Basemap.from_json(definition), save=False)
        except (TypeError, ValueError):
            return
        self.basemaps.set_basemap(basemap)

    def _apply(self, *, zoom_to_full: bool = False) -> None:
        self.canvas.set_layers(apply_styles(self._loaded, self._styles, self._stats), zoom_to_full=zoom_to_full)

    # -- edits (also the API the tests use) --------------------------------------------------------
    def set_visible(self, key: str, visible: bool) -> None:
        self.canvas.set_layer_visible(key, visible)  # comes back through _on_canvas_style

    def set_opacity(self, key: str, opacity: float) -> None:
        self.canvas.set_layer_opacity(key, opacity)

    def set_class_visible(self, key: str, klass: str, visible: bool) -> None:
        self._styles.layer(key).klass(klass).visible = visible
        layer = self.canvas.layer(key)
        if layer is not None and hasattr(layer, "set_class_visible"):
            layer.set_class_visible(klass, visible)
        item = self.item_for(key, klass)
        if item is not None:  # called from code: the tick follows; from the tick itself: no change
            self.tree.blockSignals(True)
            item.setCheckState(0, Qt.CheckState.Checked if visible else Qt.CheckState.Unchecked)
            self.tree.blockSignals(False)
        self._changed(rebuild=False)

    def set_colour(self, key: str, klass: str, colour: str) -> None:
        """A legend class's colour (``klass`` "" = the layer's line or fill colour)."""
        style = self._styles.layer(key)
        if klass:
            style.klass(klass).colour = colour
        else:
            style.colour = colour
        self._apply()
        self._changed()

    def set_line_width(self, key: str, width: float) -> None:
        self._styles.layer(key).width = width
        self._apply()
        self._changed()

    def set_fill_statistic(self, key: str, statistic: str | None) -> None:
        """Fill grid level ``key`` (``grid-N``) by a statistic (``None``: its plain fill), and show the fill."""
        if statistic is not None and statistic not in GRID_STATISTICS:
            raise ValueError(f"unknown grid statistic {statistic!r} for layer {key}; "
                             f"expected one of {', '.join(GRID_STATISTICS)}")
        self._styles.layer(key).fill_by = statistic
        self._apply()
        if statistic is not None:
            self.canvas.set_layer_visible(f"{key}-fill", True)
        self._changed()

    def move_layer(self, key: str, steps: int) -> bool:
        """Move a layer up (+) or down (−) among its kind (live layers always stay above)."""
        keys = [layer.key for layer in self.canvas.layers()]
        if key not in keys:
            return False
        live = {layer.key for layer in self.canvas.layers() if is_live(layer)}
        group = [k for k in keys if (k in live) == (key in live)]
        index = group.index(key)
        target = min(max(index + steps, 0), len(group) - 1)
        if target == index:
            return False
        group.insert(target, group.pop(index))
        others = [k for k in keys if (k in live) != (key in live)]
        self._styles.order = (others + group) if key in live else (group + others)
        self._apply()
        self._changed()
        return True

    def choose_basemap(self, basemap_id: str) -> bool:
        return self.picker.choose(basemap_id)

    def _on_basemap_chosen(self, basemap, was_plain: bool) -> None:
        self._styles.basemap = basemap.id
        self._styles.basemap_def = None if basemap.builtin else basemap.to_json()
        if was_plain and basemap.layers:
            for layer in self.canvas.layers():
                if isinstance(layer, GridFillLayer) and self.canvas.layer_opacity(layer.key) >= 0.999:
                    self.canvas.set_layer_opacity(layer.key, FILL_OPACITY_OVER_TILES)
        self._changed()

    # -- from the canvas and the basemap controller -------------------------------------------------
    def _on_canvas_style(self, key: str) -> None:
        style = self._styles.layer(key)
        style.visible = self.canvas.is_layer_visible(key)
        style.opacity = self.canvas.layer_opacity(key)
        item = self.item_for(key)
        if item is not None:
            self.tree.blockSignals(True)
            item.setCheckState(0, Qt.CheckState.Checked if style.visible else Qt.CheckState.Unchecked)
            self.tree.blockSignals(False)
        self._sync_controls()
        self._changed(rebuild=False)

    def _changed(self, *, rebuild: bool = True) -> None:
        if self._loading:
            return
        self._styles.order = [layer.key for layer in self.canvas.layers()]
        if rebuild:
            # Later, never inside an item's own signal: clearing the tree there deletes the
            # item whose setCheckState() is still on the stack.
            self._rebuild_timer.start()
        self.stylesChanged.emit()

    # -- widgets -----------------------------------------------------------------------------------
    def item_for(self, key: str, klass: str | None = None) -> QTreeWidgetItem | None:
        for n in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(n)
            if item.data(0, KEY_ROLE) != key:
                continue
            if klass is None:
                return item
            return next((item.child(c) for c in range(item.childCount())
                         if item.child(c).data(0, CLASS_ROLE) == klass), None)
        return None

    def _rebuild(self) -> None:
        current = self.tree.currentItem()
        selected = current.data(0, KEY_ROLE) if current is not None else None
        expanded = {self.tree.topLevelItem(n).data(0, KEY_ROLE) for n in range(self.tree.topLevelItemCount())
                    if self.tree.topLevelItem(n).isExpanded()}
        self.tree.blockSignals(True)
        self.tree.clear()
        for layer in reversed(self.canvas.layers()):  # top layer first, as layer panels list them
            entries = legend_entries(layer)
            count = f"（{len(layer):,}）" if hasattr(layer, "__len__") else ""
            item = QTreeWidgetItem([layer.title + count])
            if getattr(layer, "description", ""):
                item.setToolTip(0, layer.description)  # e.g. which cases the pins cover
            item.setData(0, KEY_ROLE, layer.key)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(0, Qt.CheckState.Checked if self.canvas.is_layer_visible(layer.key)
                               else Qt.CheckState.Unchecked)
            if len(entries) == 1 and not entries[0].key:
                item.setIcon(0, swatch_icon(entries[0]))
                item.setData(0, CLASS_ROLE, "")
            else:
                for entry in entries:
                    item.addChild(self._class_item(entry))
            self.tree.addTopLevelItem(item)
            item.setExpanded(layer.key in expanded or (is_live(layer) and not expanded))
            if layer.key == selected:
                self.tree.setCurrentItem(item)
        self.tree.blockSignals(False)
        self._sync_controls()

    @staticmethod
    def _class_item(entry: LegendEntry) -> QTreeWidgetItem:
        text = entry.label + (f"（{entry.count:,}）" if entry.count is not None else "")
        child = QTreeWidgetItem([text])
        child.setIcon(0, swatch_icon(entry))
        child.setData(0, CLASS_ROLE, entry.key)
        if entry.checkable:
            child.setFlags(child.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            child.setCheckState(0, Qt.CheckState.Checked if entry.visible else Qt.CheckState.Unchecked)
        if entry.editable:
            child.setToolTip(0, "双击更改颜色")
        return child

    def _selected_key(self) -> str | None:
        item = self.tree.currentItem()
        while item is not None and item.parent() is not None:
            item = item.parent()
        return None if item is None else item.data(0, KEY_ROLE)

    def _sync_controls(self) -> None:
        key = self._selected_key()
        layer = self.canvas.layer(key) if key else None
        for widget in (self.opacity, self.up, self.down):
            widget.setEnabled(layer is not None)
        self.width.setEnabled(isinstance(layer, GridLayer))
        grid = layer if isinstance(layer, GridLayer) else layer.grids if isinstance(layer, GridFillLayer) else None
        self.fill_by.setEnabled(grid is not None and bool(self._stats))
        self.fill_by.blockSignals(True)
        style = self._styles.layers.get(grid.key) if grid is not None else None
        self.fill_by.setCurrentIndex(max(0, self.fill_by.findData(style.fill_by if style else None)))
        self.fill_by.blockSignals(False)
        if not isinstance(layer, GridLayer):
            self.width.blockSignals(True)
            self.width.setValue(self.width.minimum())
            self.width.blockSignals(False)
        self.opacity.blockSignals(True)
        self.opacity.setValue(round(100 * (self.canvas.layer_opacity(key) if key else 1.0)))
        self.opacity.blockSignals(False)
        self.opacity_text.setText(f"{self.opacity.value()}%")
        if isinstance(layer, GridLayer):
            self.width.blockSignals(True)
            self.width.setValue(layer.style.width)
            self.width.blockSignals(False)

    def _on_item_changed(self, item: QTreeWidgetItem, _column: int) -> None:
        checked = item.checkState(0) == Qt.CheckState.Checked
        if item.parent() is None:
            self.set_visible(item.data(0, KEY_ROLE), checked)
        else:
            self.set_class_visible(item.parent().data(0, KEY_ROLE), item.data(0, CLASS_ROLE), checked)

    def _on_opacity(self, value: int) -> None:
        self.opacity_text.setText(f"{value}%")
        key = self._selected_key()
        if key:
            self.set_opacity(key, value / 100)

    def _on_width(self, value: float) -> None:
        key = self._selected_key()
        if key and value >= 0.1 and isinstance(self.canvas.layer(key), GridLayer):
            self.set_line_width(key, value)

    def _on_fill_by(self, _index: int) -> None:
        layer = self.canvas.layer(self._selected_key() or "")
        grid = layer if isinstance(layer, GridLayer) else layer.grids if isinstance(layer, GridFillLayer) else None
        if grid is not None:
            self.set_fill_statistic(grid.key, self.fill_by.currentData())

    def _move_current(self, steps: int) -> None:
        key = self._selected_key()
        if key:
            self.move_layer(key, steps)

    def _edit_colour(self, item: QTreeWidgetItem) -> None:
        key = item.data(0, KEY_ROLE) if item.parent() is None else item.parent().data(0, KEY_ROLE)
        klass = item.data(0, CLASS_ROLE)
        layer = self.canvas.layer(key)
        entry = next((e for e in legend_entries(layer) if e.key == (klass or "")), None) if layer else None
        if entry is None or not entry.editable:
            return
        from PySide6.QtGui import QColor

        colour = QColorDialog.getColor(QColor(hex_of(entry.colour)), self, f"{layer.title} {entry.label} 颜色")
        if colour.isValid():
            self.set_colour(key, klass or "", colour.name())
