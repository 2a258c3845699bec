"""Period reports (周报/月报/季报) for the bureau's leadership meeting: figures, tables, workbook.

The PDF is drawn by ``desktop.report_pdf``; everything here is pure Python.
"""
from gis.report.build import PeriodReport, build_report
from gis.report.files import OutputError, atomic_output, check_writable
from gis.report.period import KINDS, Period, PeriodError, period_containing, resolve_period
from gis.report.tables import ReportTable, report_tables
from gis.report.xlsx import write_report_xlsx

__all__ = ["KINDS", "OutputError", "Period", "PeriodError", "PeriodReport", "ReportTable", "atomic_output",
           "build_report", "check_writable", "period_containing", "report_tables", "resolve_period",
           "write_report_xlsx"]
