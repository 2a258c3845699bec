"""The basemap row of the layer panel: the choice, its settings menu, and its warning.

The settings menu holds the small dialogs: the Tianditu key, an XYZ server (intranet
or OSM-style), an MBTiles file. Choosing a basemap that needs a key asks for it first.
"""
from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.widgets.basemap import BasemapController
from gis.tile_sources import TIANDITU, Basemap, TileSource, mbtiles_basemap


def label_of(basemap: Basemap, tokens: dict[str, str]) -> str:
    """Combo text: the name plus what the user must know before choosing it."""
    notes = []
    if basemap.gcj02:
        notes.append("GCJ-02 坐标，叠加有偏移")
    if basemap.missing_tokens(tokens):
        notes.append("需填写密钥")
    return basemap.name + (f"（{'，'.join(notes)}）" if notes else "")


def prompt_token(parent: QWidget, basemaps: BasemapController) -> bool:
    """Ask for the Tianditu key; True if one was entered."""
    current = basemaps.config.tokens.get(TIANDITU, "")
    text, ok = QInputDialog.getText(parent, "天地图密钥", "天地图 Web 服务密钥（tk），可在 console.tianditu.gov.cn 申请：",
                                    QLineEdit.EchoMode.Normal, current)
    if not ok or not text.strip():
        return False
    basemaps.set_token(TIANDITU, text.strip())
    return True


def xyz_basemap(url: str, name: str = "") -> Basemap:
    """A basemap of one XYZ template typed by the user (intranet or OSM-style server)."""
    url = url.strip()
    if not all(part in url for part in ("{z}", "{x}")) or not ("{y}" in url or "{-y}" in url):
        raise ValueError("地址模板必须含有 {z}、{x} 和 {y}（或 {-y}）")
    host = urlsplit(url.replace("{s}", "a")).hostname or "tiles"
    basemap_id = f"xyz-{hashlib.sha1(url.encode()).hexdigest()[:8]}"
    title = name.strip() or host
    subdomains = ("a", "b", "c") if "{s}" in url else ()
    return Basemap(basemap_id, title, (TileSource(basemap_id, title, url, subdomains=subdomains, max_zoom=19),))


def basemap_menu(parent: QWidget, basemaps: BasemapController, on_added) -> QMenu:
    menu = QMenu(parent)

    def add_xyz() -> None:
        url, ok = QInputDialog.getText(parent, "添加瓦片服务", "XYZ 地址模板，如 http://10.0.0.5/tiles/{z}/{x}/{y}.png：")
        if not ok or not url.strip():
            return
        name, _ = QInputDialog.getText(parent, "添加瓦片服务", "名称：")
        try:
            basemap = basemaps.add_basemap(xyz_basemap(url, name))
        except ValueError as exc:
            QMessageBox.warning(parent, "无法添加瓦片服务", str(exc))
            return
        on_added(basemap)

    def add_mbtiles() -> None:
        path, _ = QFileDialog.getOpenFileName(parent, "添加离线底图", "", "MBTiles 文件 (*.mbtiles);;所有文件 (*)")
        if not path:
            return
        try:
            basemap = basemaps.add_basemap(mbtiles_basemap(path))
        except (OSError, ValueError) as exc:
            QMessageBox.warning(parent, "无法打开离线底图", str(exc))
            return
        on_added(basemap)

    menu.addAction("天地图密钥…", lambda: prompt_token(parent, basemaps) and basemaps.basemapChanged.emit(
        basemaps.current().id))
    menu.addAction("添加 XYZ 瓦片服务…", add_xyz)
    menu.addAction("添加离线 MBTiles 文件…", add_mbtiles)
    return menu


class BasemapPicker(QWidget):
    """底图 [combo] [设置], and below it the GCJ-02 / missing-key notice."""

    chosen = Signal(object, bool)  # the Basemap, whether the map was plain before

    def __init__(self, basemaps: BasemapController, parent: QWidget | None = None):
        super().__init__(parent)
        self.basemaps = basemaps
        self.combo = QComboBox()
        self.combo.setObjectName("basemapCombo")
        self.combo.activated.connect(lambda row: self.choose(self.combo.itemData(row)))
        settings = QToolButton()
        settings.setText("设置")
        settings.setToolTip("底图设置：天地图密钥、局域网瓦片服务、离线 MBTiles 文件")
        settings.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        settings.setMenu(basemap_menu(self, basemaps, lambda basemap: (self.refresh(), self.choose(basemap.id))))
        self.notice = QLabel()
        self.notice.setObjectName("basemapNotice")
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("QLabel#basemapNotice { background: #fff3cd; color: #7a4f01; padding: 4px;"
                                  " border: 1px solid #e0c068; }")
        self.notice.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel("底图"))
        row.addWidget(self.combo, 1)
        row.addWidget(settings)
        layout.addLayout(row)
        layout.addWidget(self.notice)
        basemaps.noticeChanged.connect(self._show_notice)
        basemaps.basemapChanged.connect(lambda _id: self.refresh())
        self.refresh()

    def choose(self, basemap_id: str) -> bool:
        basemap = self.basemaps.config.find(basemap_id)
        if basemap is None:
            return False
        if basemap.missing_tokens(self.basemaps.config.effective_tokens()) and not prompt_token(self, self.basemaps):
            self.refresh()
            return False
        was_plain = not self.basemaps.current().layers
        self.basemaps.set_basemap(basemap)
        self.chosen.emit(basemap, was_plain)
        return True

    def refresh(self) -> None:
        self.combo.blockSignals(True)
        self.combo.clear()
        tokens = self.basemaps.config.effective_tokens()
        for basemap in self.basemaps.basemaps():
            self.combo.addItem(label_of(basemap, tokens), basemap.id)
        self.combo.setCurrentIndex(max(0, self.combo.findData(self.basemaps.current().id)))
        self.combo.blockSignals(False)

    def _show_notice(self, text: str) -> None:
        # The window shows the full warning over the map; the panel keeps a short form.
        short = "⚠ GCJ-02 底图：叠加图层与底图有 100–700 米偏差（数据未偏移）" if "GCJ-02" in text else text
        self.notice.setText(short)
        self.notice.setToolTip(text)
        self.notice.setVisible(bool(text))
