"""The info panel: what the user clicked (or found, or picked in the tree).

A grid shows its 公示牌 — name, level, code, 四至, the people responsible with
phones — plus how many pollution sources and open cases lie in it (counted
with its sub-grids). A source, case or station shows its own fields. Other
features at the same spot are listed as links, so a click on a pin over a
village still lets the user reach the village.

The panel is a read-only view; the window owns the queries (staff) and hands
in plain values.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from gis.domain import HOTLINE
from gis.domain import LEVEL_NAMES, OPEN_STATES, STATION_KIND_NAMES, Grid, Person, Role

MUTED = "color:#607d8b;padding-right:8px"


def rollup_counts(grids: Iterable, sources: Iterable, cases: Iterable) -> dict[int, tuple[int, int]]:
    """grid id → (pollution sources, open cases) in it and all its sub-grids."""
    grids = list(grids)
    source_count = Counter(s.grid_id for s in sources if s.grid_id is not None)
    open_count = Counter(c.grid_id for c in cases if c.grid_id is not None and c.state in OPEN_STATES)
    parent = {g.id: g.parent_id for g in grids}
    totals = {g.id: [source_count.get(g.id, 0), open_count.get(g.id, 0)] for g in grids}
    for grid in sorted(grids, key=lambda g: -g.level):  # children before parents
        up = parent.get(grid.id)
        if up in totals:
            totals[up][0] += totals[grid.id][0]
            totals[up][1] += totals[grid.id][1]
    return {grid_id: (a, b) for grid_id, (a, b) in totals.items()}


def _table(rows: Sequence[tuple[str, object]]) -> str:
    return "<table>" + "".join(
        f"<tr><td style='{MUTED}'>{escape(k)}</td><td>{v if isinstance(v, Markup) else escape(str(v))}</td></tr>"
        for k, v in rows if v not in (None, "")) + "</table>"


class Markup(str):
    """Text already in HTML (escaped where needed)."""


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def _others_html(others: Sequence[tuple[str, int, str]]) -> str:
    if not others:
        return ""
    links = "<br>".join(f"<a href='{kind}:{fid}'>{escape(label)}</a>" for kind, fid, label in others)
    return f"<p style='margin-top:10px'><b>此处还有</b><br>{links}</p>"


def grid_html(grid: Grid, staff: Sequence[tuple[Role, Person]], parent_name: str = "",
              counts: tuple[int, int] | None = None) -> str:
    rows: list[tuple[str, object]] = [("级别", LEVEL_NAMES.get(grid.level, str(grid.level))), ("编码", grid.code),
                                      ("上级网格", parent_name)]
    if grid.area_m2:
        rows.append(("面积", f"{grid.area_m2 / 1e6:.2f} 平方公里"))
    rows += [("东至", grid.east), ("南至", grid.south), ("西至", grid.west), ("北至", grid.north)]
    if counts is not None:
        rows += [("污染源", f"{counts[0]:,} 家"),
                 ("未办结案件", Markup(f"<b style='color:#c62828'>{counts[1]:,} 件</b>" if counts[1]
                                        else "0 件"))]
    people = "".join(
        f"<tr><td style='{MUTED}'>{escape(str(role))}</td><td>{escape(person.name)}</td>"
        f"<td style='padding-left:8px'>{escape(person.phone)}</td></tr>" for role, person in staff
    ) or "<tr><td>（未配置人员）</td></tr>"
    duties = f"<p><b>职责</b><br>{escape(grid.duties)}</p>" if grid.duties else ""
    return (f"<h3 style='margin:0'>{escape(grid.name)}</h3>{_table(rows)}"
            f"<p style='margin-bottom:2px'><b>责任人</b></p><table>{people}</table>{duties}"
            f"<p style='color:#607d8b'>环保举报热线 {HOTLINE}</p>")


def source_html(source, category: str = "", grid_name: str = "") -> str:
    key = Markup("<b style='color:#c62828'>是</b>") if getattr(source, "is_key", False) else "否"
    contact = " ".join(part for part in (source.contact_name, source.contact_phone) if part)
    rows = [("类别", category), ("重点污染源", key), ("状态", source.status), ("地址", source.address),
            ("联系人", contact), ("排污许可证", source.permit_no),
            ("最近检查", source.last_inspected.isoformat() if source.last_inspected else "未检查"),
            ("所属网格", grid_name), ("位置", f"{source.lon:.6f}, {source.lat:.6f}")]
    return f"<h3 style='margin:0'>{escape(source.name)}</h3><p style='{MUTED}'>污染源</p>{_table(rows)}"


def case_html(case, now: datetime | None = None) -> str:
    now = now or datetime.now()
    state = escape(str(case.state))
    if case.state in OPEN_STATES and case.due_at is not None and case.due_at < now:
        state += " <b style='color:#c62828'>（已超期）</b>"
    rows = [("状态", Markup(state)), ("来源", case.source), ("类别", case.category), ("所属网格", case.grid_name),
            ("登记时间", _when(case.created_at)), ("办理期限", _when(case.due_at)), ("办结时间", _when(case.closed_at))]
    if case.lon is not None:
        rows.append(("位置", f"{case.lon:.6f}, {case.lat:.6f}"))
    description = f"<p>{escape(case.description)}</p>" if case.description else ""
    return f"<h3 style='margin:0'>案件 {escape(case.number)}</h3>{_table(rows)}{description}"


def _aqi_markup(result) -> Markup | str:
    """``AQI 76 良`` in the level's colour (HJ 633), with the primary pollutants."""
    if result is None or result.aqi is None:
        return ""
    level = result.level
    primary = f"，首要污染物 {'、'.join(str(p) for p in result.primary)}" if result.primary else ""
    return Markup(f"<b>{result.aqi}</b> <span style='background:{level.colour};padding:0 4px'>"
                  f"{escape(level.name)}</span>{escape(primary)}")


def station_html(station, grid_name: str = "", aqi=None) -> str:
    kind = STATION_KIND_NAMES.get(getattr(station, "kind", ""), getattr(station, "kind", ""))
    rows = [("类型", kind), ("设备编号(MN)", getattr(station, "mn", "")), ("AQI", _aqi_markup(aqi)),
            ("运行", "在线" if getattr(station, "active", True) else "停用"), ("所属网格", grid_name),
            ("位置", f"{station.lon:.6f}, {station.lat:.6f}")]
    return f"<h3 style='margin:0'>{escape(station.name)}</h3><p style='{MUTED}'>监测站点</p>{_table(rows)}"


class IdentifyPanel(QWidget):
    """Rich text in a scroll area; links under 此处还有 emit ``featureActivated(kind, id)``."""

    EMPTY_TEXT = "单击地图上的网格、污染源、案件或站点，或在左侧网格目录中选择网格，查看其信息。"
    featureActivated = Signal(str, int)
    staffRequested = Signal(int)  # grid id: the 联系卡/编辑负责人 link under a grid
    editRequested = Signal(int)   # grid id: the 编辑属性 link, shown while an edit session is open

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.label = QLabel(self.EMPTY_TEXT)
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.label.setMargin(8)
        self.label.linkActivated.connect(self._on_link)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(self.label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        self.current: tuple[str, int] | None = None
        self.edit_links = False  # set by the edit controller while editing

    def _show(self, kind: str, feature_id: int, html: str, others) -> None:
        self.current = (kind, feature_id)
        self.label.setText(html + _others_html(others))

    def show_grid(self, grid: Grid, staff, parent_name: str = "", counts: tuple[int, int] | None = None,
                  others: Sequence[tuple[str, int, str]] = ()) -> None:
        link = f"<p><a href='staff:{grid.id}'>联系卡 / 编辑负责人</a>"
        link += f" · <a href='edit:{grid.id}'>编辑属性（名称、编码、四至）</a></p>" if self.edit_links else "</p>"
        self._show("grid", grid.id, grid_html(grid, staff, parent_name, counts) + link, others)

    def show_source(self, source, category: str = "", grid_name: str = "", others=()) -> None:
        self._show("source", source.id, source_html(source, category, grid_name), others)

    def show_case(self, case, others=(), now: datetime | None = None) -> None:
        self._show("case", case.id, case_html(case, now), others)

    def show_station(self, station, grid_name: str = "", others=(), aqi=None) -> None:
        """``aqi``: the station's current gis.aqi.AqiResult, if it has one."""
        self._show("station", station.id, station_html(station, grid_name, aqi), others)

    def clear(self) -> None:
        self.current = None
        self.label.setText(self.EMPTY_TEXT)

    def text(self) -> str:
        return self.label.text()

    def _on_link(self, href: str) -> None:
        kind, _, feature_id = href.partition(":")
        if kind == "staff" and feature_id.isdigit():
            self.staffRequested.emit(int(feature_id))
        elif kind == "edit" and feature_id.lstrip("-").isdigit():
            self.editRequested.emit(int(feature_id))
        elif feature_id.isdigit():
            self.featureActivated.emit(kind, int(feature_id))
