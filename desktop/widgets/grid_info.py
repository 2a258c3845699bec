"""The 公示牌 of one grid: name, level, code, 四至 and who answers for it."""
from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from gis.domain import LEVEL_NAMES, Grid, Person, Role

HOTLINE = "12369"  # national environmental hotline (DOMAIN.md, 公示牌)


def grid_info_html(grid: Grid, staff: list[tuple[Role, Person]], parent_name: str = "") -> str:
    rows = [("名称", grid.name), ("级别", LEVEL_NAMES.get(grid.level, str(grid.level))), ("编码", grid.code)]
    if parent_name:
        rows.append(("上级网格", parent_name))
    if grid.area_m2:
        rows.append(("面积", f"{grid.area_m2 / 1e6:.2f} 平方公里"))
    bounds = [("东至", grid.east), ("南至", grid.south), ("西至", grid.west), ("北至", grid.north)]
    rows += [(label, text) for label, text in bounds if text]
    table = "".join(f"<tr><td style='color:#607d8b;padding-right:8px'>{escape(k)}</td>"
                    f"<td>{escape(str(v))}</td></tr>" for k, v in rows)
    people = "".join(
        f"<tr><td style='color:#607d8b;padding-right:8px'>{escape(str(role))}</td>"
        f"<td>{escape(person.name)}</td><td style='padding-left:8px'>{escape(person.phone)}</td></tr>"
        for role, person in staff) or "<tr><td>（未配置人员）</td></tr>"
    duties = f"<p><b>职责</b><br>{escape(grid.duties)}</p>" if grid.duties else ""
    return (f"<h3 style='margin:0'>{escape(grid.name)}</h3><table>{table}</table>"
            f"<p style='margin-bottom:2px'><b>责任人</b></p><table>{people}</table>{duties}"
            f"<p style='color:#607d8b'>环保举报热线 {HOTLINE}</p>")


class GridInfoPanel(QWidget):
    """A read-only view; the window decides what to show (it owns the queries)."""

    EMPTY_TEXT = "在左侧网格目录中选择一个网格，查看其四至与责任人。"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.label = QLabel(self.EMPTY_TEXT)
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setMargin(8)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(self.label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)

    def show_grid(self, grid: Grid, staff: list[tuple[Role, Person]], parent_name: str = "") -> None:
        self.label.setText(grid_info_html(grid, staff, parent_name))

    def clear(self) -> None:
        self.label.setText(self.EMPTY_TEXT)

    def text(self) -> str:
        return self.label.text()
