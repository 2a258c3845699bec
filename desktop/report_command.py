"""``envgrid report OUT.pdf --db URL --period week|month|quarter [--date DATE] [--xlsx OUT.xlsx]``.

Every argument is checked before the database is read; the PDF and the workbook are each written
to a temporary file and renamed, and the workbook only after the PDF succeeded.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def register(subparsers) -> None:
    from gis.cli import add_db_argument
    from gis.report.period import KINDS

    report = subparsers.add_parser("report", help="write the period briefing (周报/月报/季报) as an A4 PDF")
    report.add_argument("out", help="PDF file to write")
    add_db_argument(report)
    report.add_argument("--period", required=True, help=f"one of {', '.join(KINDS)} (natural week Mon–Sun, "
                                                        "calendar month or quarter)")
    report.add_argument("--date", help="a day inside the period, e.g. 2026-11-20 "
                                       "(default: the last complete period before today)")
    report.add_argument("--xlsx", help="also write the report's tables to this workbook (.xlsx)")
    report.add_argument("--no-maps", action="store_true", help="leave out the map pages")
    report.set_defaults(handler=run_report)


def _check_output(path: str, suffix: str, option: str):
    from gis.cli import CliError
    from gis.report.files import OutputError, check_writable

    target = Path(path)
    if target.suffix.lower() != suffix:
        raise CliError(f"{option}: expected a {suffix} file name, got {path!r}")
    try:
        return check_writable(target)
    except OutputError as exc:
        raise CliError(f"{option}: {exc}") from None


def run_report(args) -> int:
    from gis.cli import CliError
    from gis.report.period import PeriodError, resolve_period

    try:
        period = resolve_period(args.period, args.date)
    except PeriodError as exc:
        raise CliError(str(exc)) from None
    out = _check_output(args.out, ".pdf", "OUT")
    xlsx = _check_output(args.xlsx, ".xlsx", "--xlsx") if args.xlsx else None
    if xlsx is not None and xlsx.resolve() == out.resolve():
        raise CliError("--xlsx: the workbook cannot replace the PDF")

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # a PDF never needs a display
    from PySide6.QtGui import QGuiApplication

    from desktop.report_pdf import render_maps, write_report_pdf
    from gis.report.build import build_report
    from gis.report.xlsx import write_report_xlsx
    from gis.storage.store import open_store

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - fonts need it
    started = time.perf_counter()
    store = open_store(args.db, create=False)
    try:
        with store.engine.connect() as connection:
            report = build_report(connection, period)
            maps = [] if args.no_maps else render_maps(connection, report)
    finally:
        store.close()
    try:
        pages = write_report_pdf(report, out, maps=maps)
        if xlsx is not None:
            write_report_xlsx(report, xlsx)
    except OSError as exc:
        raise CliError(f"cannot write the report: {exc}") from None
    extra = f" and {xlsx}" if xlsx is not None else ""
    print(f"wrote {out} ({pages} pages, {report.title}, {report.period.label} {report.period.span}){extra} "
          f"in {time.perf_counter() - started:.1f} s")
    return 0
