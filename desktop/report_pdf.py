"""The period report as an A4 PDF: cover, KPIs, charts, maps, the overdue list, recurring problems.

Drawn with QPdfWriter + QPainter: text stays text (selectable; Qt embeds a subset of the CJK font),
charts are vectors, the maps are images from the window's renderer. Written to a temporary file
beside the target and renamed, so a failure never leaves half a PDF.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMarginsF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPageLayout, QPageSize, QPainter, QPdfWriter, QPen

from desktop import report_charts as charts
from desktop.report_layout import BODY_PT, CAPTION_PT, Flow, draw_text
from desktop.pdf_text import fix_pdf_text
from desktop.report_style import (ACCENT, BOTTOM, CLOSED_COLOUR, DPI, LEFT, MUTED, NEW_COLOUR, RED, RIGHT, RULE,
                                  WIDTH, mm, ui_families)
from gis.aqi import LEVELS
from gis.report.build import PeriodReport
from gis.report.files import atomic_output
from gis.report.tables import (aqi_table, grid_table, kpi_table, overdue_table, recurring_table, source_table,
                               top_grid_table)

SECTIONS = ("一", "二", "三", "四", "五", "六", "七")
MAP_W, MAP_H = 83.0, 100.0  # mm, each of the two maps side by side


def _summary(report: PeriodReport) -> list[str]:
    k = {kpi.name: kpi for kpi in report.kpis}
    lines = [
        f"新增案件 {k['新增案件'].value_text} 件（环比{k['新增案件'].change_text}），"
        f"办结 {k['办结案件'].value_text} 件，按期办结率 {k['按期办结率'].value_text}。",
        f"截至期末超期未办结 {k['期末超期未办结'].value_text} 件；监测报警 {k['监测报警'].value_text} 次，"
        f"24小时内反馈率 {k['报警24小时内反馈率'].value_text}。",
    ]
    district = next((a for a in report.aqi if a.name == "全区"), None)
    if district is not None:
        if district.valid_days:
            lines.append(f"全区空气质量有效监测 {district.valid_days} 天，优良 {district.good_days} 天"
                         f"（优良率 {district.good_share:.1f}%）。")
        else:
            lines.append("本期无有效的空气质量日均数据。")
    if report.recurring:
        top = report.recurring[0]
        lines.append(f"重复发生问题 {len(report.recurring)} 处，最突出为{top.grid}“{top.category}”（{top.count} 次）。")
    return lines


def _cover(painter: QPainter, report: PeriodReport) -> None:
    centre = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter
    draw_text(painter, QRectF(LEFT, mm(28), WIDTH, mm(8)), "内部资料  注意保存", 10, colour=MUTED,
              align=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    draw_text(painter, QRectF(LEFT, mm(62), WIDTH, mm(16)), report.district or "", 24, bold=True, colour=RED,
              align=centre)
    draw_text(painter, QRectF(LEFT, mm(80), WIDTH, mm(18)), f"网格化环境监管{report.period.report_name}", 30,
              bold=True, colour=RED, align=centre)
    painter.setPen(QPen(RED, mm(0.8)))
    painter.drawLine(QPointF(LEFT, mm(106)), QPointF(RIGHT, mm(106)))
    painter.setPen(QPen(RED, mm(0.25)))
    painter.drawLine(QPointF(LEFT, mm(107.6)), QPointF(RIGHT, mm(107.6)))
    draw_text(painter, QRectF(LEFT, mm(114), WIDTH, mm(9)), report.period.label, 16, bold=True, align=centre)
    draw_text(painter, QRectF(LEFT, mm(124), WIDTH, mm(8)), f"（{report.period.span}）", 12, align=centre)

    box = QRectF(LEFT + mm(8), mm(150), WIDTH - mm(16), mm(62))
    painter.setPen(QPen(RULE, mm(0.3)))
    painter.setBrush(QColor("#f7f9fb"))
    painter.drawRect(box)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    draw_text(painter, QRectF(box.left() + mm(6), box.top() + mm(4), box.width(), mm(7)), "本期要点", 12, bold=True,
              colour=ACCENT)
    y = box.top() + mm(13)
    for line in _summary(report):
        rect = QRectF(box.left() + mm(10), y, box.width() - mm(16), mm(11))
        draw_text(painter, QRectF(box.left() + mm(6), y, mm(4), mm(5)), "●", 6, colour=ACCENT)
        draw_text(painter, rect, line, BODY_PT, align=Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                  wrap=True)
        y += mm(11)

    draw_text(painter, QRectF(LEFT, mm(240), WIDTH, mm(9)), report.bureau, 15, bold=True, align=centre)
    draw_text(painter, QRectF(LEFT, mm(250), WIDTH, mm(8)),
              f"{report.generated_at.year}年{report.generated_at.month}月{report.generated_at.day}日", 12,
              align=centre)


def _frame(painter: QPainter, report: PeriodReport, page: int, total: int) -> None:
    """Running header (not on the cover) and footer with the page number."""
    if page > 1:
        draw_text(painter, QRectF(LEFT, mm(12), WIDTH, mm(6)), report.title, 8.5, colour=MUTED)
        draw_text(painter, QRectF(LEFT, mm(12), WIDTH, mm(6)), f"{report.period.label}（{report.period.span}）",
                  8.5, colour=MUTED, align=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        painter.setPen(QPen(ACCENT, mm(0.35)))
        painter.drawLine(QPointF(LEFT, mm(19)), QPointF(RIGHT, mm(19)))
    painter.setPen(QPen(RULE, mm(0.2)))
    painter.drawLine(QPointF(LEFT, BOTTOM + mm(6)), QPointF(RIGHT, BOTTOM + mm(6)))
    footer = QRectF(LEFT, BOTTOM + mm(7), WIDTH, mm(6))
    draw_text(painter, footer, f"{report.bureau} · 生成于 {report.generated_at:%Y-%m-%d %H:%M}", CAPTION_PT,
              colour=MUTED)
    draw_text(painter, footer, f"第 {page} 页  共 {total} 页", CAPTION_PT, colour=MUTED,
              align=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


def _day_labels(report: PeriodReport) -> tuple[list[str], int]:
    labels = [f"{d.day.month}/{d.day.day}" for d in report.daily]
    every = 1 if len(labels) <= 16 else (3 if len(labels) <= 40 else 7)
    return labels, every


def _case_section(flow: Flow, report: PeriodReport, number: str) -> None:
    flow.heading(f"{number}、案件情况", keep=mm(70))
    categories = report.by_category[:12]
    height = max(mm(40), mm(6.2) * max(len(categories), 4) + mm(4))
    flow.subheading("（一）新增案件的类别与来源", keep=height)

    def by_kind(painter, rect):
        left = QRectF(rect.left(), rect.top(), rect.width() * 0.6, rect.height())
        right = QRectF(rect.left() + rect.width() * 0.64, rect.top(), rect.width() * 0.36, min(rect.height(), mm(30)))
        charts.horizontal_bars(painter, left, categories, NEW_COLOUR)
        charts.horizontal_bars(painter, right, report.by_source, ACCENT)
    flow.figure(height, by_kind)
    if len(report.by_category) > len(categories):
        flow.caption(f"类别较多，图中列出前 {len(categories)} 类；完整数据见附表。")
    flow.table(source_table(report), widths=[24, 12, 12])
    flow.space(mm(4))

    flow.subheading("（二）各二级网格案件情况", keep=mm(62))
    grids = [r for r in report.by_grid]
    flow.figure(mm(62), lambda painter, rect: charts.grouped_bars(
        painter, rect, [r.name for r in grids],
        [("新增", NEW_COLOUR, [r.new for r in grids]), ("办结", CLOSED_COLOUR, [r.closed for r in grids])]))
    flow.table(grid_table(report))
    flow.space(mm(4))
    flow.subheading("（三）新增案件最多的三级网格（前十）", keep=mm(25))
    flow.table(top_grid_table(report), empty="本期无新增案件")
    flow.space(mm(4))

    flow.subheading("（四）每日新增与办结", keep=mm(58))
    labels, every = _day_labels(report)
    series = [("新增", NEW_COLOUR, [d.new for d in report.daily]), ("办结", CLOSED_COLOUR, [d.closed for d in report.daily])]
    if len(labels) <= 16:
        flow.figure(mm(58), lambda painter, rect: charts.grouped_bars(painter, rect, labels, series))
    else:
        flow.figure(mm(58), lambda painter, rect: charts.line_chart(painter, rect, labels, series, label_every=every))


def _air_section(flow: Flow, report: PeriodReport, number: str) -> None:
    flow.heading(f"{number}、空气质量", keep=mm(60))
    parts = [(level.name, QColor(level.colour)) for level in LEVELS] + [("无有效数据", QColor("#d9d9d9"))]
    rows = [(a.name, [a.levels.get(level.number, 0) for level in LEVELS] + [a.no_data]) for a in report.aqi]
    height = mm(9) + mm(6.5) * max(len(rows), 2)
    flow.figure(height, lambda painter, rect: charts.stacked_bars(painter, rect, rows, parts))
    flow.caption("各站点本期每日空气质量级别的天数（颜色按HJ 633-2012），“全区”为各站点日均浓度的平均。")
    flow.table(aqi_table(report), widths=[27, 7, 7, 9, 9, 9, 9, 11, 9], empty="无空气自动监测站")
    flow.caption("注：" + aqi_table(report).note)


def _map_section(flow: Flow, report: PeriodReport, number: str, maps) -> None:
    from desktop.widgets.pin_layer import PIN_CLASSES

    flow.heading(f"{number}、案件分布图", keep=mm(MAP_H + 16))
    titles = (f"图1  截至{report.as_of:%Y年%m月%d日 %H:%M}未办结案件", "图2  本期新增案件（按期末状态着色）")
    gap = mm(4)
    width = (WIDTH - gap) / 2

    def paint(painter, rect):
        for k, (image, title) in enumerate(zip(maps, titles)):
            box = QRectF(rect.left() + k * (width + gap), rect.top(), width, mm(MAP_H))
            painter.drawImage(box, image)
            painter.setPen(QPen(RULE, mm(0.2)))
            painter.drawRect(box)
            draw_text(painter, QRectF(box.left(), box.bottom() + mm(1.5), width, mm(6)), title, 9, bold=True,
                      align=Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter)
        charts.legend(painter, rect.left() + mm(1), rect.top() + mm(MAP_H) + mm(11),
                      [(c.label, QColor(c.colour)) for c in PIN_CLASSES])
    flow.figure(mm(MAP_H + 15), paint)
    flow.caption("底图为区、街道（乡镇）、村（社区）三级网格；红色为截至期末已超过办理时限的案件，灰色为已办结案件。"
                 "标注数字的圆点为邻近案件的聚合数量。")


def layout_report(flow: Flow, report: PeriodReport, maps) -> None:
    numbers = iter(SECTIONS)
    flow.new_page()  # the cover is page 1
    flow.heading(f"{next(numbers)}、主要指标", keep=mm(60))
    flow.table(kpi_table(report), widths=[22, 7, 20, 20, 18])
    flow.caption("注：" + kpi_table(report).note + f"期末超期未办结按{report.as_of:%Y-%m-%d %H:%M}的状态统计。")
    flow.space(mm(4))
    _case_section(flow, report, next(numbers))
    flow.space(mm(4))
    _air_section(flow, report, next(numbers))
    if maps:
        flow.space(mm(4))
        _map_section(flow, report, next(numbers), maps)
    flow.space(mm(4))
    number = next(numbers)
    flow.heading(f"{number}、超期未办结案件（{len(report.overdue)} 件）", keep=mm(30))
    table = overdue_table(report)
    flow.caption(table.note)
    flow.table(table, widths=[6, 17, 12, 17, 8, 16, 21, 9], empty="截至期末无超期未办结案件")
    flow.space(mm(4))
    flow.heading(f"{next(numbers)}、重复发生问题", keep=mm(30))
    table = recurring_table(report)
    flow.caption(table.note)
    flow.table(table, widths=[6, 12, 15, 6, 26, 35], empty="本期无重复发生问题")


def render_maps(connection, report: PeriodReport) -> list:
    """The two map images (open at the end; the period's cases), from the window's renderer."""
    from desktop.report_map import read_district, render_case_map

    width = round(mm(MAP_W) / DPI * 96)  # logical pixels at screen density; ×2 for print sharpness
    height = round(mm(MAP_H) / DPI * 96)
    district = read_district(connection)
    return [render_case_map(connection, report.open_at_end, at=report.as_of, width=width, height=height,
                            district=district),
            render_case_map(connection, report.new_cases, at=report.as_of, width=width, height=height,
                            show_closed=True, district=district)]


def write_report_pdf(report: PeriodReport, path: str | Path, *, maps=()) -> int:
    """Write the PDF (through a temporary file); returns the number of pages."""
    with atomic_output(path) as temporary:
        writer = QPdfWriter(temporary)
        writer.setResolution(DPI)
        writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait,
                                         QMarginsF(0, 0, 0, 0), QPageLayout.Unit.Millimeter))
        writer.setTitle(report.title + f"（{report.period.label}）")
        writer.setCreator(report.bureau)
        flow = Flow(writer)
        layout_report(flow, report, maps)
        pages = flow.pages
        painter = QPainter()
        if not painter.begin(writer):
            raise OSError(f"cannot write {path}")
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            for number, ops in enumerate(pages, 1):
                if number > 1:
                    writer.newPage()
                if number == 1:
                    _cover(painter, report)
                for op in ops:
                    painter.save()
                    op(painter)
                    painter.restore()
                _frame(painter, report, number, len(pages))
        finally:
            painter.end()
        fix_pdf_text(temporary, ui_families())
    return len(pages)


