"""The report's tables as a workbook: one sheet per table, Chinese headers, widths and number formats."""
from __future__ import annotations

from pathlib import Path

from gis.report.build import PeriodReport
from gis.report.files import atomic_output
from gis.report.tables import COUNT, DATETIME, KPI, PERCENT, ReportTable, report_tables

FORMATS = {COUNT: "#,##0", PERCENT: '0.0"%"', DATETIME: "yyyy-mm-dd hh:mm"}


def _sheet(workbook, table: ReportTable, heading: str) -> None:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    sheet = workbook.create_sheet(table.title[:31])
    width = len(table.columns)
    sheet.append([f"{heading} · {table.title}"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet.cell(1, 1).font = Font(bold=True, size=13)
    sheet.append([c.header for c in table.columns])
    thin = Side(style="thin", color="9AA5B1")
    for i in range(1, width + 1):
        cell = sheet.cell(2, i)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1F4E79")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = Border(top=thin, bottom=thin, left=thin, right=thin)
    for row in table.rows:
        sheet.append(list(row))
        r = sheet.max_row
        for i, column in enumerate(table.columns, 1):
            kind = column.kind
            if kind == KPI:
                kind = PERCENT if row[1] == "%" else COUNT
            cell = sheet.cell(r, i)
            cell.border = Border(top=thin, bottom=thin, left=thin, right=thin)
            if kind in FORMATS:
                cell.number_format = FORMATS[kind]
            if kind in (COUNT, PERCENT):
                cell.alignment = Alignment(horizontal="right")
            else:
                cell.alignment = Alignment(wrap_text=column.width >= 30, vertical="top")
    for i, column in enumerate(table.columns, 1):
        sheet.column_dimensions[get_column_letter(i)].width = max(column.width, len(column.header) * 2 + 2)
    sheet.freeze_panes = "A3"
    if table.note:
        sheet.append([])
        sheet.append([f"注：{table.note}"])
        sheet.cell(sheet.max_row, 1).font = Font(italic=True, color="555555")


def write_report_xlsx(report: PeriodReport, path: str | Path) -> Path:
    """Write the workbook to ``path`` (through a temporary file: never half-written)."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    heading = f"{report.title}（{report.period.label}，{report.period.span}）"
    for table in report_tables(report):
        _sheet(workbook, table, heading)
    workbook.properties.title = report.title
    workbook.properties.creator = report.bureau
    with atomic_output(path) as temporary:
        workbook.save(temporary)
    return Path(path)
