"""The report's tables as plain rows with Chinese headers: one source for the PDF and the workbook."""
from __future__ import annotations

from dataclasses import dataclass

from gis.aqi import LEVELS
from gis.report.build import PeriodReport
from gis.report.kpi import share

TEXT, COUNT, PERCENT, DATETIME = "text", "count", "percent", "datetime"
KPI = "kpi"  # a count, or a percentage when the row's unit (column 1) is "%"


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    kind: str = TEXT        # text, count, percent (12.5 = 12.5 %), datetime or kpi
    width: float = 10       # relative width (characters in the workbook)


@dataclass(frozen=True, slots=True)
class ReportTable:
    key: str
    title: str              # also the sheet name (at most 31 characters)
    columns: tuple[Column, ...]
    rows: list[tuple]
    note: str = ""


def kpi_table(report: PeriodReport) -> ReportTable:
    rows = [(k.name, k.unit, k.value, k.previous, k.change_text) for k in report.kpis]
    return ReportTable("kpi", "主要指标", (
        Column("指标", TEXT, 20), Column("单位", TEXT, 6), Column(f"本期（{report.period.label}）", KPI, 18),
        Column(f"上期（{report.previous.label}）", KPI, 18), Column("环比变化", TEXT, 16)), rows,
        "两项比率的变化以百分点计，上期为0时不计变化率；")


def category_table(report: PeriodReport) -> ReportTable:
    total = sum(n for _, n in report.by_category)
    rows = [(name, n, share(n, total)) for name, n in report.by_category]
    return ReportTable("category", "案件类别", (Column("问题类别", TEXT, 18), Column("新增案件", COUNT, 10),
                                              Column("占比", PERCENT, 10)), rows)


def source_table(report: PeriodReport) -> ReportTable:
    total = sum(n for _, n in report.by_source)
    rows = [(name, n, share(n, total)) for name, n in report.by_source]
    return ReportTable("source", "案件来源", (Column("案件来源", TEXT, 18), Column("新增案件", COUNT, 10),
                                            Column("占比", PERCENT, 10)), rows)


def grid_table(report: PeriodReport) -> ReportTable:
    rows = [(r.name, r.new, r.closed, r.open_at_end, r.overdue_at_end) for r in report.by_grid]
    return ReportTable("grid", "二级网格", (Column("二级网格", TEXT, 18), Column("新增", COUNT, 9),
                                          Column("办结", COUNT, 9), Column("期末未办结", COUNT, 11),
                                          Column("期末超期", COUNT, 10)), rows)


def top_grid_table(report: PeriodReport) -> ReportTable:
    rows = [(i, r.name, r.parent, r.new, r.overdue_at_end) for i, r in enumerate(report.top_grids, 1)]
    return ReportTable("top_grids", "三级网格前十", (Column("排名", COUNT, 6), Column("三级网格", TEXT, 20),
                                                 Column("所属二级网格", TEXT, 16), Column("新增", COUNT, 9),
                                                 Column("期末超期", COUNT, 10)), rows)


def daily_table(report: PeriodReport) -> ReportTable:
    rows = [(d.day.isoformat(), d.new, d.closed) for d in report.daily]
    return ReportTable("daily", "每日新增与办结", (Column("日期", TEXT, 12), Column("新增", COUNT, 9),
                                                Column("办结", COUNT, 9)), rows)


def aqi_table(report: PeriodReport) -> ReportTable:
    columns = (Column("站点", TEXT, 18), *(Column(f"{lv.name}", COUNT, 9) for lv in LEVELS),
               Column("无有效数据", COUNT, 11), Column("优良率", PERCENT, 9))
    rows = [(a.name, *(a.levels.get(lv.number, 0) for lv in LEVELS), a.no_data, a.good_share) for a in report.aqi]
    note = ("日AQI按HJ 633-2012由24小时平均浓度（O3为日最大8小时滑动平均）计算，优先采用站点日数据（CN 2031），"
            "否则由小时数据计算；有效性按GB 3095-2012（日均值至少20个小时值），数据不足的日子计为无有效数据。")
    district = report.aqi[-1] if report.aqi else None
    if district is not None and district.without_o3:
        note += (f"{district.name}有{district.without_o3}天缺O3日最大8小时值（日数据中的O3是24小时均值，不能代替），"
                 "按其余污染物评价，级别可能偏低。")
    return ReportTable("aqi", "空气质量天数", columns, rows, note)


def overdue_table(report: PeriodReport) -> ReportTable:
    rows = [(i, r.number, r.category, r.grid, r.state, r.leader, r.due_at, r.days)
            for i, r in enumerate(report.overdue, 1)]
    return ReportTable("overdue", "超期未办结案件", (
        Column("序号", COUNT, 6), Column("案件编号", TEXT, 16), Column("问题类别", TEXT, 12),
        Column("所在网格", TEXT, 18), Column("状态", TEXT, 8), Column("责任人", TEXT, 20),
        Column("办理时限", DATETIME, 17), Column("超期天数", COUNT, 9)), rows,
        f"截至{report.as_of:%Y年%m月%d日 %H:%M}仍未办结且已过办理时限的案件，按超期时间由长到短排列。")


def recurring_table(report: PeriodReport) -> ReportTable:
    rows = [(i, p.category, p.grid, p.count, p.sources, p.numbers) for i, p in enumerate(report.recurring, 1)]
    return ReportTable("recurring", "重复发生问题", (
        Column("序号", COUNT, 6), Column("问题类别", TEXT, 12), Column("网格", TEXT, 18), Column("次数", COUNT, 7),
        Column("来源", TEXT, 22), Column("案件编号", TEXT, 40)), rows,
        "同一网格内同一类别问题在本期被两次及以上上报。")


def report_tables(report: PeriodReport) -> list[ReportTable]:
    return [kpi_table(report), category_table(report), source_table(report), grid_table(report),
            top_grid_table(report), daily_table(report), aqi_table(report), overdue_table(report),
            recurring_table(report)]


def cell_text(column: Column, value, row: tuple) -> str:
    """A cell as the PDF prints it."""
    if value is None:
        return "—"
    kind = column.kind
    if kind == KPI:
        kind = PERCENT if row[1] == "%" else COUNT
    if kind == COUNT:
        return f"{value:,}" if isinstance(value, int) else f"{value:,.0f}"
    if kind == PERCENT:
        return f"{value:.1f}%"
    if kind == DATETIME:
        return f"{value:%Y-%m-%d %H:%M}"
    return str(value)
