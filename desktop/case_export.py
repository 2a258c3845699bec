"""Export the filtered cases to Excel on a worker thread, with a progress dialog that can cancel."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QThread, Signal, Qt
from PySide6.QtWidgets import QFileDialog, QProgressDialog, QWidget
from sqlalchemy import Engine

from gis.io.case_export import ExportCancelled, export_cases_xlsx
from gis.storage.case_queries import CaseFilter, CaseOrder


class CaseExportJob(QThread):
    """Writes one workbook; ``progressed``/``succeeded``/``failed`` arrive queued on the GUI thread."""

    progressed = Signal(int, int)  # rows written, rows in all
    succeeded = Signal(str, int)   # path, rows
    failed = Signal(str)           # message ("" when cancelled)

    def __init__(self, engine: Engine, f: CaseFilter, path: str | Path, *, order: CaseOrder = CaseOrder(),
                 criteria: Sequence[tuple[str, str]] = (), parent=None):
        super().__init__(parent)
        self.engine, self.filter, self.order = engine, f, order
        self.path, self.criteria = str(path), list(criteria)
        self._cancelled = False

    def cancel(self) -> None:
        self._cancelled = True

    def _progress(self, done: int, total: int) -> bool:
        self.progressed.emit(done, total)
        return not self._cancelled

    def run(self) -> None:
        try:
            connection = self.engine.connect()
            if self.engine.dialect.name == "postgresql":
                # One snapshot: the count and every batch see the same cases.
                connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection:
                f = self.filter if self.filter.now else self.filter.replace(now=datetime.now())
                written = export_cases_xlsx(connection, f, self.path, order=self.order, criteria=self.criteria,
                                            progress=self._progress)
        except ExportCancelled:
            self.failed.emit("")
            return
        except Exception as exc:  # shown to the user; nothing half-written is left behind
            self.failed.emit(f"{exc.__class__.__name__}: {exc}")
            return
        self.succeeded.emit(self.path, written)


def ask_export_path(parent: QWidget) -> str | None:
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    path, _ = QFileDialog.getSaveFileName(parent, "导出案件到 Excel", f"案件-{stamp}.xlsx", "Excel 工作簿 (*.xlsx)")
    if not path:
        return None
    return path if path.lower().endswith(".xlsx") else path + ".xlsx"


def run_export_with_progress(parent: QWidget, job: CaseExportJob) -> QProgressDialog:
    """Start ``job`` under a modeless progress dialog whose 取消 button cancels it."""
    dialog = QProgressDialog("正在导出案件…", "取消", 0, 100, parent)
    dialog.setWindowTitle("导出 Excel")
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(300)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)

    def progressed(done: int, total: int) -> None:
        dialog.setMaximum(max(total, 1))
        dialog.setValue(done)
        dialog.setLabelText(f"正在导出案件… {done:,} / {total:,}")

    job.progressed.connect(progressed)
    job.succeeded.connect(lambda *_: dialog.close())
    job.failed.connect(lambda *_: dialog.close())
    dialog.canceled.connect(job.cancel)
    job.start()
    return dialog
