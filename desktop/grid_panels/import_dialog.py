"""Import grids with a preview: every feature on a small map and in a table, with its problems.

Level, CRS (the file's own, WGS84, CGCS2000, GCJ-02, BD-09 or any EPSG code), Shapefile text
encoding and the field mapping (name, code, parent code) are chosen here; the preview re-checks
after each change (off the GUI thread) with ``import-grids``' own dry run (gis.io.grid_preview).
导入 is enabled only when no feature has a problem, and imports all of them in one transaction
(nothing half-imported). KML/KMZ from Google Earth and 奥维 are read as any other format.
"""
from __future__ import annotations

import shapely
from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHeaderView, QLabel,
    QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from desktop.workers import run_in_background
from gis.domain import LEVEL_NAMES
from gis.io.grid_preview import ImportPreview, preview_grids

CRS_CHOICES = (("文件自带坐标系", None), ("WGS84 (EPSG:4326)", "EPSG:4326"), ("CGCS2000 (EPSG:4490)", "EPSG:4490"),
               ("GCJ-02（高德、腾讯）", "gcj02"), ("BD-09（百度）", "bd09"))
ENCODINGS = (("自动（.cpg / UTF-8 / GBK）", None), ("UTF-8", "utf-8"), ("GBK (cp936)", "gbk"))
AUTO = "（自动识别）"
_BAD = QColor("#fdecea")


class PreviewMap(QWidget):
    """The file's features in lon/lat (good ones green), the chosen one red."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.geometries: list = []
        self.chosen: int | None = None
        self.setMinimumSize(260, 220)

    def set_geometries(self, geometries) -> None:
        self.geometries = list(geometries)
        self.chosen = None
        self.update()

    def choose(self, row: int | None) -> None:
        self.chosen = row
        self.update()

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("#f4f1e8"))
        shown = [g for g in self.geometries if g is not None and not g.is_empty]
        if not shown:
            painter.setPen(QColor("#607d8b"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "没有可显示的要素")
            return
        x0, y0, x1, y1 = shapely.total_bounds(shown)
        w, h = max(x1 - x0, 1e-9), max(y1 - y0, 1e-9)
        k = min((self.width() - 16) / w, (self.height() - 16) / h)
        ox, oy = (self.width() - w * k) / 2, (self.height() - h * k) / 2

        def path_of(geom) -> QPainterPath:
            path = QPainterPath()
            for part in shapely.get_parts(geom):
                if isinstance(part, shapely.Polygon):
                    for ring in [part.exterior, *part.interiors]:
                        path.addPolygon(QPolygonF([QPointF(ox + (x - x0) * k, oy + (y1 - y) * k)
                                                   for x, y in ring.coords]))
                        path.closeSubpath()
                elif isinstance(part, shapely.Point):
                    path.addEllipse(QPointF(ox + (part.x - x0) * k, oy + (y1 - part.y) * k), 3, 3)
            return path

        for row, geom in enumerate(self.geometries):
            if geom is None or geom.is_empty or row == self.chosen:
                continue
            painter.setPen(QPen(QColor("#2e7d32"), 1))
            painter.setBrush(QColor(46, 125, 50, 40))
            painter.drawPath(path_of(geom))
        if self.chosen is not None and 0 <= self.chosen < len(self.geometries) and self.geometries[self.chosen] is not None:
            painter.setPen(QPen(QColor("#c62828"), 2.5))
            painter.setBrush(QColor(198, 40, 40, 60))
            painter.drawPath(path_of(self.geometries[self.chosen]))


class ImportDialog(QDialog):
    def __init__(self, store, path, *, level: int = 3, parent=None):
        super().__init__(parent)
        self.store = store
        self.path = str(path)
        self.preview: ImportPreview | None = None
        self.imported = 0
        self.busy = False
        self._generation = 0
        self.setWindowTitle(f"导入网格 — {self.path.rsplit('/', 1)[-1]}")
        self.resize(980, 640)

        self.level_box = QComboBox()
        for n, name in LEVEL_NAMES.items():
            self.level_box.addItem(name, n)
        self.level_box.setCurrentIndex(self.level_box.findData(level))
        self.crs_box = QComboBox()
        self.crs_box.setEditable(True)  # or type EPSG:4527 (CGCS2000 3° Gauss-Krüger zone 39)…
        for text, value in CRS_CHOICES:
            self.crs_box.addItem(text, value)
        self.crs_box.setToolTip("也可直接输入 EPSG 代码，如 EPSG:4527（CGCS2000 3度带 39 带）")
        self.encoding_box = QComboBox()
        for text, value in ENCODINGS:
            self.encoding_box.addItem(text, value)
        self.name_box, self.code_box, self.parent_box = QComboBox(), QComboBox(), QComboBox()
        for box in (self.name_box, self.code_box, self.parent_box):
            box.addItem(AUTO, None)
        form = QFormLayout()
        form.addRow("网格级别", self.level_box)
        form.addRow("坐标系", self.crs_box)
        form.addRow("文字编码", self.encoding_box)
        form.addRow("名称字段", self.name_box)
        form.addRow("编码字段", self.code_box)
        form.addRow("上级编码字段", self.parent_box)
        options = QWidget()
        options.setLayout(form)

        self.map = PreviewMap()
        self.table = QTableWidget(0, 6)
        self.table.setHorizontalHeaderLabels(["序号", "编码", "名称", "上级编码", "面积(㎡)", "问题"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.currentCellChanged.connect(lambda row, *_: self.map.choose(row))
        self.summary = QLabel("正在检查…")
        self.summary.setWordWrap(True)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(options)
        left_layout.addWidget(self.map, 1)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(self.table)
        splitter.setStretchFactor(1, 2)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.import_button = self.buttons.addButton("全部导入", QDialogButtonBox.ButtonRole.AcceptRole)
        self.import_button.setEnabled(False)
        self.buttons.accepted.connect(self.run_import)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.buttons)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self.refresh)
        for box in (self.level_box, self.encoding_box, self.name_box, self.code_box, self.parent_box):
            box.currentIndexChanged.connect(lambda *_: self._timer.start())
        self.crs_box.currentTextChanged.connect(lambda *_: self._timer.start())
        self.refresh()

    # -- options -------------------------------------------------------------------------------
    def options(self) -> dict:
        crs_text = self.crs_box.currentText().strip()
        index = self.crs_box.findText(crs_text)
        src_crs = self.crs_box.itemData(index) if index >= 0 else (crs_text or None)
        return {"level": self.level_box.currentData(), "src_crs": src_crs,
                "encoding": self.encoding_box.currentData(), "name_field": self.name_box.currentData(),
                "code_field": self.code_box.currentData(), "parent_code_field": self.parent_box.currentData()}

    def set_field(self, which: str, field: str | None) -> None:
        box = {"name": self.name_box, "code": self.code_box, "parent": self.parent_box}[which]
        box.setCurrentIndex(max(0, box.findData(field)))

    # -- checking ------------------------------------------------------------------------------
    def refresh(self) -> None:
        self._generation += 1
        generation, options, store, path = self._generation, self.options(), self.store, self.path
        self.busy = True
        self.import_button.setEnabled(False)
        self.summary.setText("正在检查…")
        run_in_background(lambda: preview_grids(path, store=store, **options),
                          lambda preview: self._shown(generation, preview),
                          lambda exc: self._shown(generation, ImportPreview(path, options["level"],
                                                                            file_problems=[str(exc)])),
                          receiver=self)

    def _shown(self, generation: int, preview: ImportPreview) -> None:
        if generation != self._generation:
            return
        self.busy = False
        self.preview = preview
        self._fill_fields(preview.fields)
        self.table.setRowCount(len(preview.rows))
        for row, item in enumerate(preview.rows):
            values = (str(item.number), item.code, item.name, item.parent_code,
                      f"{item.area_m2:,.0f}" if item.area_m2 else "", "；".join(item.problems))
            for column, text in enumerate(values):
                cell = QTableWidgetItem(text)
                if item.problems:
                    cell.setBackground(QBrush(_BAD))
                self.table.setItem(row, column, cell)
        self.map.set_geometries([item.geometry for item in preview.rows])
        bad = sum(1 for item in preview.rows if item.problems)
        lines = list(preview.file_problems)
        if preview.ok:
            lines.insert(0, f"共 {len(preview.rows)} 个要素，检查通过，可以全部导入。")
        elif preview.rows:
            lines.insert(0, f"共 {len(preview.rows)} 个要素，其中 {bad} 个有问题：修正文件或调整设置后才能导入（不会只导入一部分）。")
        lines += [f"注意：{note}" for note in preview.notes]
        self.summary.setText("\n".join(lines))
        self.import_button.setEnabled(preview.ok)

    def _fill_fields(self, fields: list[str]) -> None:
        for box in (self.name_box, self.code_box, self.parent_box):
            have = [box.itemData(i) for i in range(1, box.count())]
            if have == list(fields):
                continue
            chosen = box.currentData()
            box.blockSignals(True)
            box.clear()
            box.addItem(AUTO, None)
            for name in fields:
                box.addItem(name, name)
            box.setCurrentIndex(max(0, box.findData(chosen)))
            box.blockSignals(False)

    # -- importing -----------------------------------------------------------------------------
    def run_import(self) -> bool:
        from gis.io.grids_io import import_grids
        from gis.io.vector import ImportProblems

        if self.preview is None or not self.preview.ok or self.busy:
            return False
        try:
            self.imported = import_grids(self.store, self.path, **self.options())
        except ImportProblems as exc:  # someone imported the same codes meanwhile: nothing was written
            self.summary.setText("未导入：\n" + "\n".join(exc.problems))
            self.import_button.setEnabled(False)
            return False
        self.accept()
        return True
