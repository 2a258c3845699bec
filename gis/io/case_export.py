"""Excel export of the filtered cases: what the table shows, every row of it, in its order.

openpyxl's write-only workbook streams rows to disk, so memory stays flat for a million cases;
rows are read by keyset batches (``iter_cases``). A sheet holds at most 1,048,576 rows, so a
larger export continues on 案件(2), 案件(3)… A second sheet records the filter and the time of
the export, so a printed table still says what it is.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection

from gis.domain import OPEN_STATES, CaseSummary
from gis.storage.case_queries import CaseFilter, CaseOrder, count_cases, iter_cases

HEADERS = ("编号", "来源", "类别", "状态", "网格", "上报时间", "期限", "办结时间", "是否超期", "地址", "描述", "经度", "纬度")
WIDTHS = (16, 10, 12, 9, 18, 17, 17, 17, 9, 26, 48, 11, 10)
SHEET_ROWS = 1_048_576
SHEET_NAME = "案件"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"


class ExportCancelled(Exception):
    """The progress callback asked to stop; the partial file is removed."""


def case_row(case: CaseSummary, now: datetime) -> list:
    overdue = case.state in OPEN_STATES and case.due_at is not None and case.due_at < now
    return [case.number, case.source, case.category, case.state, case.grid_name, case.created_at, case.due_at,
            case.closed_at, "是" if overdue else "", (case.extra or {}).get("address", ""), case.description,
            case.lon, case.lat]


def export_cases_xlsx(connection: Connection, f: CaseFilter, path: str | Path, *,
                      order: CaseOrder = CaseOrder(), criteria: Sequence[tuple[str, str]] = (),
                      progress: Callable[[int, int], bool | None] | None = None, batch: int = 5000) -> int:
    """Write every case matching ``f`` to ``path`` (.xlsx); return how many were written.

    ``progress(done, total)`` is called after each batch; returning False cancels (the partial
    file is deleted and :class:`ExportCancelled` raised). ``criteria`` are (label, value) lines
    for the 筛选条件 sheet.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    path = Path(path)
    now = f.at
    total = count_cases(connection, f)
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)

    def new_sheet(n: int):
        sheet = workbook.create_sheet(SHEET_NAME if n == 1 else f"{SHEET_NAME}({n})")
        sheet.freeze_panes = "A2"
        for i, width in enumerate(WIDTHS, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = width
        header = []
        for text in HEADERS:
            cell = WriteOnlyCell(sheet, value=text)
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        return sheet

    def dated(sheet, value):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATETIME_FORMAT
        return cell

    sheets, sheet, rows_in_sheet, written = 1, None, 0, 0
    try:
        sheet = new_sheet(1)
        for cases in iter_cases(connection, f, order, batch=batch):
            for case in cases:
                if rows_in_sheet == SHEET_ROWS - 1:
                    sheets += 1
                    sheet, rows_in_sheet = new_sheet(sheets), 0
                row = case_row(case, now)
                for i in (5, 6, 7):
                    if row[i] is not None:
                        row[i] = dated(sheet, row[i])
                sheet.append(row)
                rows_in_sheet += 1
            written += len(cases)
            if progress is not None and progress(written, max(total, written)) is False:
                raise ExportCancelled(f"导出已取消（已写 {written:,} 条）")
        about = workbook.create_sheet("筛选条件")
        about.column_dimensions["A"].width = 14
        about.column_dimensions["B"].width = 60
        for label, value in [("导出时间", now.strftime("%Y-%m-%d %H:%M")), ("案件数", f"{written}"), *criteria]:
            about.append([label, value])
        workbook.save(path)
    except BaseException:
        for open_sheet in workbook.worksheets:  # finish the temporary files so nothing leaks
            try:
                if not open_sheet.closed:
                    open_sheet.close()
            except Exception:
                pass
        path.unlink(missing_ok=True)
        raise
    return written
