"""网格属性: a grid's name, code and 四至, edited inside the edit session.

`GridAttributeDialog` shows one grid of a `gis.editing.GridEditSession`. 建议 fills the four
四至 fields from the grid's boundary as it is now in the session (`gis.four_bounds`); a grid
whose suggestion changed since it was loaded (its own or a neighbour's boundary or name was
edited) is flagged: a yellow note says what the new suggestion is, and the fields that differ
from it are tinted. Mistakes (an empty name or code, a code another grid has) are said in the
dialog and keep it open. On 确定 the changed fields become one `SetGridFieldsCommand`, pushed
by the edit controller (one undo step); nothing is written before the session is saved.

`show_in_info_panel` keeps the identify panel on the session's version of its grid while editing.
"""
from __future__ import annotations

import shapely
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget,
)

from gis.domain import LEVEL_NAMES, Grid
from gis.editing import GridEditSession
from gis.four_bounds import PREFIX, SECTORS, FourBounds, suggest_four_bounds

SIDE_LABELS = {"east": "东至", "south": "南至", "west": "西至", "north": "北至"}
FLAG_STYLE = "QLabel { background: #fff3cd; color: #7a4f01; border: 1px solid #e0c068; padding: 6px; }"
ERROR_STYLE = "QLabel { color: #c62828; font-weight: bold; }"
DIFFERS_STYLE = "QLineEdit { background: #fff8e1; }"


def suggested_four_bounds(session: GridEditSession, grid_id: int) -> FourBounds | None:
    """四至 from the grid's current boundary and its same-level neighbours in the session."""
    grid = session.grid(grid_id)
    if not isinstance(grid.boundary, (shapely.Polygon, shapely.MultiPolygon)) or grid.boundary.is_empty:
        return None
    around = session.same_level_near(grid.level, shapely.box(*grid.boundary.bounds))
    return suggest_four_bounds(around, outside=session.outside).get(grid_id)


def attribute_errors(session: GridEditSession, grid_id: int, name: str, code: str) -> list[str]:
    """What is wrong with the name and code typed for ``grid_id`` (empty: nothing)."""
    grid = session.grid(grid_id)
    errors = []
    if not name.strip():
        errors.append("网格名称不能为空")
    code = code.strip()
    if not code:
        errors.append("网格编码不能为空")
    elif code != grid.code:
        other = next((g for g in session.grids.values() if g.code == code and g.id != grid_id), None)
        if other is not None:
            where = "同级" if other.level == grid.level else LEVEL_NAMES.get(other.level, "")
            errors.append(f"编码 {code} 已被{where}网格“{other.name}”使用，同一编码只能用于一个网格")
    return errors


class GridAttributeDialog(QDialog):
    """Name, code and 四至 of one grid of an edit session; ``changes()`` are the edited fields."""

    def __init__(self, session: GridEditSession, grid_id: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.session, self.grid_id = session, grid_id
        grid: Grid = session.grid(grid_id)
        self.grid = grid
        self.flagged: FourBounds | None = session.four_bounds.flagged.get(grid_id)
        self.setWindowTitle(f"网格属性 — {grid.name}")

        parent_grid = session.grids.get(grid.parent_id) if grid.parent_id is not None else None
        facts = [LEVEL_NAMES.get(grid.level, f"{grid.level}级网格")]
        if parent_grid is not None:
            facts.append(f"上级：{parent_grid.name}")
        if grid.area_m2:
            facts.append(f"面积 {grid.area_m2 / 1e4:,.2f} 公顷")
        head = QLabel(" · ".join(facts))
        head.setStyleSheet("color: #555;")

        self.name_edit = QLineEdit(grid.name)
        self.code_edit = QLineEdit(grid.code)
        self.side_edits = {side: QLineEdit(getattr(grid, side)) for side in SECTORS}
        form = QFormLayout()
        form.addRow("名称：", self.name_edit)
        form.addRow("编码：", self.code_edit)
        for side in SECTORS:
            self.side_edits[side].setPlaceholderText(f"如：{PREFIX[side]}某某街道")
            form.addRow(f"{SIDE_LABELS[side]}：", self.side_edits[side])

        self.suggest_button = QPushButton("建议")
        self.suggest_button.setToolTip("按网格现在的边界推算四至：沿东、南、西、北各段边界相邻的同级网格"
                                       + (f"，边界之外为“{session.outside}”" if session.outside else ""))
        self.suggest_button.clicked.connect(self.fill_suggestion)
        self.suggest_button.setEnabled(suggested_four_bounds(session, grid_id) is not None)
        suggest_row = QHBoxLayout()
        suggest_row.addWidget(QLabel("四至可由边界推算："))
        suggest_row.addWidget(self.suggest_button)
        suggest_row.addStretch(1)

        self.flag_label = QLabel()
        self.flag_label.setWordWrap(True)
        self.flag_label.setStyleSheet(FLAG_STYLE)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.hide()

        self.buttons = QDialogButtonBox()
        self.ok_button = self.buttons.addButton("确定", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton("取消", QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(head)
        layout.addWidget(self.flag_label)
        layout.addLayout(form)
        layout.addLayout(suggest_row)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        for edit in (self.name_edit, self.code_edit, *self.side_edits.values()):
            edit.textEdited.connect(self._edited)
        self._show_flag()
        self.resize(480, self.sizeHint().height())

    # -- 四至 ------------------------------------------------------------------------------------
    def fill_suggestion(self) -> FourBounds | None:
        """建议: put the 四至 derived from the current boundary into the four fields."""
        suggestion = suggested_four_bounds(self.session, self.grid_id)
        if suggestion is None:
            return None
        for side in SECTORS:
            self.side_edits[side].setText(getattr(suggestion, side))
        self._show_flag()
        return suggestion

    def _show_flag(self) -> None:
        flagged = self.flagged
        now = self.four_bounds()
        for side, edit in self.side_edits.items():
            differs = flagged is not None and getattr(flagged, side) != getattr(now, side)
            edit.setStyleSheet(DIFFERS_STYLE if differs else "")
            edit.setToolTip(f"建议：{PREFIX[side]}{getattr(flagged, side) or '—'}" if differs else "")
        if flagged is None:
            self.flag_label.hide()
            return
        if now == flagged:
            self.flag_label.setText("四至已与边界推算的建议一致，确定后标记解除。")
        else:
            phrases = "，".join(f"{PREFIX[s]}{getattr(flagged, s) or '—'}" for s in SECTORS)
            self.flag_label.setText(f"⚠ 边界或相邻网格修改后，四至建议已变化（标黄的项与建议不同）：{phrases}。"
                                    "可点“建议”填入，或自行修改。")
        self.flag_label.show()

    def four_bounds(self) -> FourBounds:
        return FourBounds(*(self.side_edits[side].text().strip() for side in SECTORS))

    # -- result ----------------------------------------------------------------------------------
    def changes(self) -> dict[str, str]:
        """The fields whose text differs from the grid's (trimmed), for `SetGridFieldsCommand`."""
        typed = {"name": self.name_edit.text().strip(), "code": self.code_edit.text().strip(),
                 **{side: self.side_edits[side].text().strip() for side in SECTORS}}
        return {field: value for field, value in typed.items() if value != getattr(self.grid, field)}

    def errors(self) -> list[str]:
        return attribute_errors(self.session, self.grid_id, self.name_edit.text(), self.code_edit.text())

    def _edited(self) -> None:
        self.error_label.hide()
        self._show_flag()

    def accept(self) -> None:
        errors = self.errors()
        if errors:
            self.error_label.setText("；".join(errors))
            self.error_label.show()
            (self.name_edit if not self.name_edit.text().strip() else self.code_edit).setFocus()
            return
        super().accept()


def show_in_info_panel(controller, codes=None) -> None:
    """The info panel shows its grid as the edit session has it (with the 编辑属性 link) while
    editing, as loaded otherwise; ``codes``: only if its grid is one of these (after a change)."""
    window = controller.window
    panel = window.info_panel
    if hasattr(panel, "edit_links"):
        panel.edit_links = controller.session is not None
    current = getattr(panel, "current", None)
    if not current or current[0] != "grid":
        return
    grid_id = current[1]
    if codes is not None and controller._codes.get(grid_id, ("",))[0] not in codes:
        return
    if controller.session is not None:
        grid, parent_of = controller.session.grids.get(grid_id), controller.session.grids.get
    else:
        data = window.data
        grid, parent_of = (data.grid(grid_id), data.grid) if data is not None else (None, None)
    if grid is None:
        panel.clear()
        return
    staff = []
    if grid_id > 0:  # a grid drawn in this session has nobody assigned yet
        from gis.storage.people import current_staff

        try:
            with window.store.engine.connect() as connection:
                staff = current_staff(connection, [grid_id]).get(grid_id, [])
        except Exception:  # noqa: BLE001 — the panel still shows the grid itself
            staff = []
    parent = parent_of(grid.parent_id) if grid.parent_id is not None else None
    interaction = window.interaction
    counts = interaction.grid_counts(grid_id) if grid_id > 0 and interaction.indexes(wait=False) else None
    panel.show_grid(grid, staff, parent.name if parent else "", counts)
