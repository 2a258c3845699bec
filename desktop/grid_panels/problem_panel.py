"""The problem panel: validate a level (or all), list what is wrong, zoom to it, fix it.

Validation runs in the DB pool, never on the GUI thread: over the grids of the edit session
when one is open (what the user sees), else over the workspace. A quick fix is a
``gis.editing`` command; the panel hands it to ``apply(command)`` (the lead wires the edit
controller's ``push``), so it lands on the same undo stack as every other edit. Without an edit
session the panel asks ``editor.start(level)`` for one, and when there is no editor at all it
uses a private session and saves the fix at once (one transaction, audited like any save).

The lower part lists grids flagged for 四至 review with the suggested text; 采纳 writes it.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QDoubleSpinBox, QHBoxLayout, QHeaderView, QLabel, QMenu,
    QPushButton, QSplitter, QTableView, QToolButton, QVBoxLayout, QWidget,
)

from desktop.grid_panels.problem_model import (
    FIXABLE, FourBoundsReviewModel, ProblemTableModel, ReviewRow,
)
from desktop.workers import run_in_background
from gis.domain import LEVEL_NAMES
from gis.editing import (
    FixError, GridEditSession, SaveRefused, TopologyError, accept_four_bounds, fix_command,
)
from gis.four_bounds import SECTORS, FourBounds
from gis.validation import DEFAULT_TOLERANCE_M2, Problem, validate_grids

_REFRESH_AFTER_EDIT_MS = 600


@dataclasses.dataclass(slots=True)
class CheckResult:
    problems: list[Problem]
    review: list[ReviewRow]
    grids: dict[str, tuple[int, str, int]]  # code → (id, name, level), for menus and labels
    in_session: bool


def check_workspace(connection, level: int | None, tolerance_m2: float) -> CheckResult:
    """Problems and 四至 flags as stored (no edit session)."""
    from sqlalchemy import select

    from gis.storage.grids import read_grids
    from gis.storage.people import current_staff
    from gis.storage.schema import four_bounds_review as R

    grids = read_grids(connection)
    staff = current_staff(connection)
    roles = {grid_id: {role for role, _ in entries} for grid_id, entries in staff.items()}
    problems = validate_grids(grids, roles=roles, tolerance_m2=tolerance_m2, level=level)
    by_id = {g.id: g for g in grids}
    review = []
    for row in connection.execute(select(R.c.grid_id, R.c.east, R.c.south, R.c.west, R.c.north)).all():
        grid = by_id.get(row.grid_id)
        if grid is not None and (level is None or grid.level == level):
            review.append(ReviewRow(grid.id, grid.code, grid.name, _written(grid),
                                    FourBounds(row.east, row.south, row.west, row.north)))
    return CheckResult(problems, sorted(review, key=lambda r: r.code),
                       {g.code: (g.id, g.name, g.level) for g in grids}, False)


def check_session(grids, flagged, connection, level: int | None, tolerance_m2: float) -> CheckResult:
    """Problems of an edit session's grids (a snapshot taken on the GUI thread)."""
    from gis.storage.people import current_staff

    staff = current_staff(connection)
    roles = {grid_id: {role for role, _ in entries} for grid_id, entries in staff.items()}
    problems = validate_grids(grids, roles=roles, tolerance_m2=tolerance_m2, level=level)
    by_id = {g.id: g for g in grids}
    review = [ReviewRow(i, by_id[i].code, by_id[i].name, _written(by_id[i]), suggestion)
              for i, suggestion in flagged.items() if i in by_id and (level is None or by_id[i].level == level)]
    return CheckResult(problems, sorted(review, key=lambda r: r.code),
                       {g.code: (g.id, g.name, g.level) for g in grids}, True)


def _written(grid) -> FourBounds:
    return FourBounds(*(getattr(grid, side) for side in SECTORS))


class ProblemPanel(QWidget):
    """Validation problems and 四至 review for a store, optionally bound to an edit controller.

    Parameters
    ----------
    store : gis.storage.store.Store
    editor : object, optional
        The edit controller (``session``, ``push``, ``start(level)``, ``zoom_to_problem``,
        signals ``sessionChanged``/``editStarted``/``editEnded``); anything missing is skipped.
    apply : callable, optional
        ``apply(command)`` puts a ``gis.editing`` command on the undo stack; default
        ``editor.push``.
    zoom : callable, optional
        ``zoom(problem)``; default ``editor.zoom_to_problem``.
    """

    checked = Signal(int)             # number of problems found
    fixApplied = Signal(str)          # the command's label
    problemActivated = Signal(object)  # a Problem the user asked to see
    message = Signal(str)

    def __init__(self, store, *, editor=None, apply: Callable | None = None, zoom: Callable | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.editor = editor
        self._apply = apply
        self._zoom = zoom
        self.result: CheckResult | None = None
        self._generation = 0
        self.running = False

        self.level_box = QComboBox()
        self.level_box.addItem("全部级别", None)
        for level in (1, 2, 3, 4, 5):
            self.level_box.addItem(LEVEL_NAMES[level], level)
        self.tolerance = QDoubleSpinBox()
        self.tolerance.setRange(0.0, 10_000.0)
        self.tolerance.setDecimals(1)
        self.tolerance.setValue(DEFAULT_TOLERANCE_M2)
        self.tolerance.setSuffix(" ㎡")
        self.tolerance.setToolTip("面积不超过此值的空隙和重叠不算错误")
        self.check_button = QPushButton("检查")
        self.check_button.setToolTip("检查几何有效性、空隙、重叠、超出上级网格、缺网格长/网格员")
        self.check_button.clicked.connect(self.refresh)
        self.status = QLabel("尚未检查")
        self.status.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(QLabel("范围"))
        top.addWidget(self.level_box)
        top.addWidget(QLabel("容差"))
        top.addWidget(self.tolerance)
        top.addWidget(self.check_button)
        top.addStretch(1)

        self.model = ProblemTableModel(self)
        self.view = _table(self.model)
        self.view.doubleClicked.connect(lambda index: self.show_problem(index.row()))
        self.view.clicked.connect(lambda index: self.show_problem(index.row()))
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.view.selectionModel().currentRowChanged.connect(lambda *_: self._update_buttons())

        self.zoom_button = QPushButton("定位")
        self.zoom_button.clicked.connect(lambda: self.show_problem(self._row()))
        self.fix_button = QPushButton("快速修复")
        self.fix_button.setToolTip("空隙并入公共边最长的相邻网格；重叠从较小网格中扣除；公共边不一致时吸附顶点")
        self.fix_button.clicked.connect(lambda: self.fix(self._row()))
        self.more_button = QToolButton()
        self.more_button.setText("修复方式…")
        self.more_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.more_menu = QMenu(self.more_button)
        self.more_menu.aboutToShow.connect(lambda: self._fill_fix_menu(self.more_menu, self._row()))
        self.more_button.setMenu(self.more_menu)
        buttons = QHBoxLayout()
        for widget in (self.zoom_button, self.fix_button, self.more_button):
            buttons.addWidget(widget)
        buttons.addStretch(1)

        self.review_model = FourBoundsReviewModel(self)
        self.review_view = _table(self.review_model)
        self.review_view.selectionModel().currentRowChanged.connect(lambda *_: self._update_buttons())
        self.accept_button = QPushButton("采纳建议四至")
        self.accept_button.clicked.connect(lambda: self.accept_review(self.review_view.currentIndex().row()))
        review_box = QWidget()
        review_layout = QVBoxLayout(review_box)
        review_layout.setContentsMargins(0, 0, 0, 0)
        self.review_label = QLabel("四至待核定：0 个网格")
        review_layout.addWidget(self.review_label)
        review_layout.addWidget(self.review_view)
        review_buttons = QHBoxLayout()
        review_buttons.addWidget(self.accept_button)
        review_buttons.addStretch(1)
        review_layout.addLayout(review_buttons)

        problems_box = QWidget()
        problems_layout = QVBoxLayout(problems_box)
        problems_layout.setContentsMargins(0, 0, 0, 0)
        problems_layout.addWidget(self.view)
        problems_layout.addLayout(buttons)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(problems_box)
        splitter.addWidget(review_box)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(splitter, 1)

        self._auto = QTimer(self)
        self._auto.setSingleShot(True)
        self._auto.setInterval(_REFRESH_AFTER_EDIT_MS)
        self._auto.timeout.connect(self._refresh_if_checked)
        self.editor = None
        self.set_editor(editor)
        self._update_buttons()

    def set_editor(self, editor) -> None:
        """Follow an edit controller: validate its session, re-check after its changes."""
        self.editor = editor
        for name in ("sessionChanged", "editStarted", "editEnded", "saved"):
            signal = getattr(editor, name, None)
            if signal is not None:
                signal.connect(self._schedule)  # not QTimer.start: editStarted(int) would set its interval

    def _schedule(self, *_args) -> None:
        self._auto.start()

    # -- checking ----------------------------------------------------------------------------
    @property
    def level(self) -> int | None:
        return self.level_box.currentData()

    def set_level(self, level: int | None) -> None:
        self.level_box.setCurrentIndex(max(0, self.level_box.findData(level)))

    def session(self) -> GridEditSession | None:
        return getattr(self.editor, "session", None)

    def refresh(self) -> None:
        """Validate again (in the background); the table updates when it is done."""
        self._generation += 1
        generation, level, tolerance = self._generation, self.level, self.tolerance.value()
        session = self.session()
        store = self.store
        if session is not None:
            grids, flagged = list(session.grids.values()), dict(session.four_bounds.flagged)

            def work():
                with store.engine.connect() as connection:
                    return check_session(grids, flagged, connection, level, tolerance)
        else:
            def work():
                with store.engine.connect() as connection:
                    return check_workspace(connection, level, tolerance)
        self.running = True
        self.check_button.setEnabled(False)
        self.status.setText("正在检查…")
        run_in_background(work, lambda result: self._done(generation, result),
                          lambda exc: self._failed(generation, exc), receiver=self)

    def _refresh_if_checked(self) -> None:
        if self.result is not None and self.isVisible():
            self.refresh()

    def _done(self, generation: int, result: CheckResult) -> None:
        if generation != self._generation:
            return
        self.running = False
        self.check_button.setEnabled(True)
        self.result = result
        self.model.set_problems(result.problems)
        self.review_model.set_rows(result.review)
        errors = sum(p.is_error for p in result.problems)
        warnings = len(result.problems) - errors
        where = "编辑中的网格" if result.in_session else "工作空间"
        self.status.setText(f"{where}：{errors} 个错误，{warnings} 个警告" if result.problems
                            else f"{where}：未发现问题（全面覆盖、无缝隙）")
        self.review_label.setText(f"四至待核定：{len(result.review)} 个网格")
        self.view.resizeColumnsToContents()
        self.view.horizontalHeader().setStretchLastSection(True)
        self._update_buttons()
        self.checked.emit(len(result.problems))

    def _failed(self, generation: int, exc: Exception) -> None:
        if generation != self._generation:
            return
        self.running = False
        self.check_button.setEnabled(True)
        self.status.setText(f"检查失败：{exc}")

    # -- showing -----------------------------------------------------------------------------
    def _row(self) -> int:
        return self.view.currentIndex().row()

    def _update_buttons(self) -> None:
        problem = self.model.problem_at(self._row())
        self.zoom_button.setEnabled(problem is not None)
        fixable = problem is not None and problem.kind in FIXABLE
        self.fix_button.setEnabled(fixable)
        self.more_button.setEnabled(fixable and problem.kind in ("gap", "overlap"))
        self.accept_button.setEnabled(self.review_model.row_at(self.review_view.currentIndex().row()) is not None)

    def show_problem(self, row: int) -> None:
        problem = self.model.problem_at(row)
        if problem is None:
            return
        zoom = self._zoom or getattr(self.editor, "zoom_to_problem", None)
        if zoom is not None:
            zoom(problem)
        self.problemActivated.emit(problem)

    def _context_menu(self, pos) -> None:
        index = self.view.indexAt(pos)
        if not index.isValid():
            return
        self.view.setCurrentIndex(index)
        menu = QMenu(self)
        menu.addAction("定位到问题", lambda: self.show_problem(index.row()))
        self._fill_fix_menu(menu, index.row(), separator=True)
        menu.exec(self.view.viewport().mapToGlobal(pos))

    def fix_choices(self, problem: Problem) -> list[tuple[str, dict]]:
        """(menu text, fix options) for a problem: whom a gap may go to, which grid an overlap keeps."""
        grids = self.result.grids if self.result else {}
        named = [(code, grids[code]) for code in problem.grids if code in grids]
        if problem.kind == "gap":
            return [(f"空隙并入“{name}”", {"receiver_id": grid_id})
                    for code, (grid_id, name, level) in named if level == problem.level]
        if problem.kind == "overlap":
            return [(f"重叠部分保留给“{name}”", {"keep_id": grid_id}) for code, (grid_id, name, _) in named]
        if problem.kind == "edge_mismatch":
            return [("吸附公共边", {})]
        return []

    def _fill_fix_menu(self, menu: QMenu, row: int, separator: bool = False) -> None:
        if not separator:
            menu.clear()
        problem = self.model.problem_at(row)
        if problem is None:
            return
        choices = self.fix_choices(problem)
        if separator and choices:
            menu.addSeparator()
        for text, options in choices:
            action = QAction(text, menu)
            action.triggered.connect(lambda _=False, p=problem, o=options: self.fix_problem(p, **o))
            menu.addAction(action)
        if not choices and not separator:
            menu.addAction("此类问题没有自动修复").setEnabled(False)

    # -- fixing ------------------------------------------------------------------------------
    def fix(self, row: int, **options) -> bool:
        problem = self.model.problem_at(row)
        return self.fix_problem(problem, **options) if problem is not None else False

    def fix_problem(self, problem: Problem, **options) -> bool:
        """Make the quick fix for ``problem`` and hand it to the undo stack (or save it)."""
        session, private = self._session_for(problem.level)
        if session is None:
            return False
        try:
            command = fix_command(session, problem, **options)
        except (FixError, TopologyError, ValueError, KeyError) as exc:
            self._tell(f"无法自动修复：{exc}", warn=True)
            return False
        if not self._hand_over(session, command, private):
            return False
        self.fixApplied.emit(command.label)
        self._tell(f"已执行：{command.label}" + ("（已保存）" if private else "（可撤销）"))
        self.refresh()
        return True

    def accept_review(self, row: int) -> bool:
        """Write the suggested 四至 of a flagged grid (an undoable field change)."""
        item = self.review_model.row_at(row)
        if item is None:
            return False
        grid = self.result.grids.get(item.code) if self.result else None
        session, private = self._session_for(grid[2] if grid else None)
        if session is None:
            return False
        if item.grid_id not in session.four_bounds.flagged:
            session.four_bounds.flagged[item.grid_id] = item.suggested  # stored flag the session has not seen
        try:
            command = accept_four_bounds(session, item.grid_id)
        except (KeyError, ValueError) as exc:
            self._tell(f"无法采纳四至：{exc}", warn=True)
            return False
        if not self._hand_over(session, command, private):
            return False
        self._tell(f"已采纳“{item.name}”的建议四至")
        self.refresh()
        return True

    def _session_for(self, level: int | None) -> tuple[GridEditSession | None, bool]:
        session = self.session()
        if session is not None:
            return session, False
        start = getattr(self.editor, "start", None)
        if start is not None:
            started = start(level if level in (1, 2, 3, 4) else None)
            session = self.session() if started else None
            return session, False
        with self.store.engine.connect() as connection:
            return GridEditSession.load(connection), True

    def _hand_over(self, session: GridEditSession, command, private: bool) -> bool:
        if not private:
            apply = self._apply or getattr(self.editor, "push", None) or session.push
            result = apply(command)
            return result is not False
        session.push(command)
        try:
            with self.store.engine.connect() as connection:
                session.save(connection)
                connection.commit()
        except SaveRefused as exc:
            self._tell(str(exc), warn=True)
            return False
        except Exception as exc:  # conflict, database: say it, change nothing
            self._tell(f"保存失败：{exc}", warn=True)
            return False
        return True

    def _tell(self, text: str, *, warn: bool = False) -> None:
        self.status.setText(("⚠ " if warn else "") + text)
        self.message.emit(text)


def _table(model) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().setVisible(False)
    view.setWordWrap(False)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    view.horizontalHeader().setStretchLastSection(True)
    return view
