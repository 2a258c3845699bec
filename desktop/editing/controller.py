"""The edit session as the window sees it: start, undo/redo, save, discard, and what tools share.

Public API (the problem panel, the staff panel and the tools use only this):

``session``
    The `gis.editing.GridEditSession` being edited, or None outside an edit session.
``level``
    The grid level chosen at 开始编辑 (the tools draw, split and merge grids of this level).
``undo_stack``
    A ``QUndoStack``; each entry wraps one pure ``gis.editing`` command (`SessionUndoCommand`).
``editStarted(int level)``, ``editEnded()``
    Emitted when a session begins and when it is saved-and-closed or discarded.
``sessionChanged(list codes)``
    After every change to the session's grids (do, undo, redo): the codes of the grids changed.
``saved(object SaveResult)``
    After a successful save.
``push(command) -> bool``
    Put an already created ``gis.editing`` command on the undo stack (it is done at once).
``run(make, what) -> bool``
    Create a command with ``make()`` and push it; a ``TopologyError`` (the core refusing an edit)
    becomes a message instead of an exception. ``InvalidNeighbourError`` is reported loudly.
``zoom_to_problem(problem)``
    Show a validation `Problem` on the map (zoom and flash).
``edit_attributes(grid_id=None)``
    Open 网格属性 (`desktop.editing.attributes`) for a grid (default: the one picked, else the one
    in the info panel); 确定 pushes one ``SetGridFieldsCommand``.
``start(level=None)``, ``save()``, ``discard(confirm=True)``, ``stop()``
    What the 编辑 menu does; all return whether it happened.

The pure commands do the work: a Qt command only calls ``do``/``undo``. The map's grid
layers of the edited levels are rebuilt from the session after each change (no reload).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import shapely
import shiboken6
from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from desktop.editing.attributes import GridAttributeDialog, show_in_info_panel
from desktop.editing.dialogs import EditPrompts
from desktop.editing.session_layers import SessionLayers
from desktop.editing.edge_tool import SharedEdgeTool
from desktop.editing.tools import BASIC_TOOL_CLASSES, mercator_rings
from desktop.widgets.edit_overlay import EditOverlay
from desktop.widgets.map_geometry import lonlat_to_mercator
from desktop.widgets.map_overlays import MapMarker
from gis.domain import LEVEL_NAMES, Grid
from gis.security.permissions import PermissionDenied
from gis.editing import (
    Command,
    GridConflict,
    GridEditSession,
    InvalidNeighbourError,
    SaveError,
    SaveRefused,
    SetGridFieldsCommand,
    Snapper,
    SnapResult,
    TopologyError,
)

DEFAULT_SNAP_PX = 10.0
EDIT_TOOL_CLASSES = (*BASIC_TOOL_CLASSES, SharedEdgeTool)
_M_PER_DEG = 111_320.0


class SessionUndoCommand(QUndoCommand):
    """One pure command on the Qt undo stack. It is done before it is pushed (so a failure never
    enters the stack); the first ``redo`` Qt calls on push is therefore skipped."""

    def __init__(self, command: Command):
        super().__init__(command.label)
        self.command = command
        self._pushed = False

    def redo(self) -> None:
        if not self._pushed:
            self._pushed = True
            return
        self.command.do()

    def undo(self) -> None:
        self.command.undo()


class EditController(QObject):
    editStarted = Signal(int)
    editEnded = Signal()
    sessionChanged = Signal(list)   # codes of the grids that changed
    saved = Signal(object)          # gis.editing.SaveResult
    messageShown = Signal(str)
    chosenChanged = Signal()

    def __init__(self, window, *, prompts: EditPrompts | None = None):
        super().__init__(window)
        self.window = window
        self.canvas = window.canvas
        self.session: GridEditSession | None = None
        self.level: int | None = None
        self.undo_stack = QUndoStack(self)
        self.prompts = prompts or EditPrompts(window)
        self.overlay = EditOverlay(self.canvas)
        self.layers = SessionLayers(window)
        self.snapping = True
        self.snap_px = DEFAULT_SNAP_PX
        self.avoid_overlap = True
        self.chosen: list[int] = []        # grids picked with the vertex tool (merge, delete)
        self._codes: dict[int, tuple[str, int]] = {}  # last known code and level per id (removed grids too)
        self._pending: set[int] = set()
        self._snapper: Snapper | None = None
        self._refresh = QTimer(self)
        self._refresh.setSingleShot(True)
        self._refresh.setInterval(0)
        self._refresh.timeout.connect(self.flush)
        self._saved_any = False
        self.tools = {cls.id: cls(self.canvas, self) for cls in EDIT_TOOL_CLASSES}
        self.canvas.installEventFilter(self)
        window.installEventFilter(self)
        self.canvas.toolChanged.connect(self._on_tool_changed)
        window.dataLoaded.connect(self._on_data_loaded)
        self._store = None
        self.attribute_dialog: GridAttributeDialog | None = None
        self.menu = None  # the last right-click menu shown (map or grid tree)
        self.editStarted.connect(lambda _level: self._refresh_panel())
        self.editEnded.connect(self._refresh_panel)
        self.sessionChanged.connect(self._refresh_panel)

    # -- state -----------------------------------------------------------------------------
    @property
    def editing(self) -> bool:
        return self.session is not None

    @property
    def is_dirty(self) -> bool:
        return self.session is not None and self.session.is_dirty

    def grids(self, level: int | None = None) -> list[Grid]:
        """Polygon grids of ``level`` (default: the edited level) as they are in the session."""
        if self.session is None:
            return []
        return self.session.polygon_grids(self.level if level is None else level)

    def grid_at(self, lon: float, lat: float) -> Grid | None:
        """The grid of the edited level containing the point (the smallest, if several)."""
        point = shapely.Point(lon, lat)
        hits = [g for g in (self.session.same_level_near(self.level, point) if self.session else [])
                if g.boundary.covers(point)]
        return min(hits, key=lambda g: g.boundary.area) if hits else None

    def _on_data_loaded(self) -> None:
        """The workspace was read again while editing: keep showing the session's grids, or end
        the session if it is another workspace now."""
        if self.session is None:
            return
        if self.window.store is not self._store:
            self.stop(reload=False)
            self.say("已打开其他工作空间，编辑已结束（未保存的修改已丢弃）", warn=True)
        elif self.layers.active:
            self.layers.refresh()

    def _on_tool_changed(self, tool) -> None:
        """Hover tooltips and markers would hide the handles: quiet while an editing tool is active."""
        hover = getattr(getattr(self.window, "interaction", None), "hover", None)
        if hover is None:
            return
        editing_tool = bool(getattr(tool, "edit_tool", False))
        hover.enabled = not editing_tool
        if editing_tool:
            hover.reset()

    # -- session ---------------------------------------------------------------------------
    def start(self, level: int | None = None) -> bool:
        """开始编辑: choose a level (asked when not given) and load every grid into a session."""
        if self.session is not None:
            return True
        if self.window.data is None:
            self.say("工作空间尚未加载完成")
            return False
        levels = sorted({g.level for g in self.window.data.grids if g.level in (1, 2, 3, 4)})
        if not levels:
            self.say("此工作空间没有可编辑的网格")
            return False
        if levels[-1] < 4:  # the first grids of the next level are drawn inside the finest ones
            levels.append(levels[-1] + 1)
        if level is None:
            level = self.prompts.choose_level(levels, 3 if 3 in levels else levels[-1])
            if level is None:
                return False
        with self.window.store.engine.connect() as connection:
            session = GridEditSession.load(connection, user=_user_name(self.window))
        self._begin(session, level)
        return True

    def _begin(self, session: GridEditSession, level: int) -> None:
        self.session, self.level = session, level
        self._store = self.window.store
        self._codes = {g.id: (g.code, g.level) for g in session.grids.values()}
        session.listeners.append(self._on_session_changed)
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self.chosen = []
        self.layers.begin()
        self.canvas.add_overlay(self.overlay)
        self._snapper = None
        self._update_overlay()
        self.editStarted.emit(level)
        self.say(f"开始编辑{LEVEL_NAMES.get(level, '')}：拖动顶点、绘制、拆分、合并；Ctrl+Z 撤销")

    def stop(self, *, reload: bool = True) -> None:
        """End the session without asking (after a save or a confirmed discard).

        When something was saved, the workspace is read again (``reload``) so the grid tree,
        search and identify see the saved grids; the view stays where it is.
        """
        if self.session is None:
            return
        tool = self.canvas.map_tool()
        if getattr(tool, "edit_tool", False):
            self.canvas.set_map_tool(self.window.interaction.tools["pan"])
        self.session.listeners.remove(self._on_session_changed)
        self.session = self.level = None
        self.undo_stack.clear()
        self.chosen = []
        self._snapper = None
        self._pending.clear()
        self.overlay.clear_feedback()
        self.canvas.remove_overlay(self.overlay)
        if self._saved_any and reload:  # the saved state is in the database now: read it afresh
            self.layers.forget()
            self._reload_keeping_view()
        elif self._saved_any:
            self.layers.forget()
        else:
            self.layers.end()
        self._saved_any = False
        self.editEnded.emit()

    def discard(self, confirm: bool = True) -> bool:
        """放弃编辑: drop every unsaved change (asks first when there are some)."""
        if self.session is None:
            return False
        if confirm and self.is_dirty and not self.prompts.confirm(
                "放弃编辑", f"放弃本次编辑中未保存的 {len(self.session.dirty_ids())} 个网格的修改？此操作不能撤销。"):
            return False
        self.stop()
        self.say("已放弃编辑")
        return True

    def save(self) -> bool:
        """保存编辑: validate what changed; errors refuse (listed), warnings are shown after."""
        session = self.session
        if session is None:
            return False
        self.flush()
        if not session.is_dirty:
            self.say("没有需要保存的修改")
            return True
        try:
            login = getattr(self.window, "session", None)  # the logged-in seat: its rights are checked
            with self.window.store.engine.connect() as connection:
                result = session.save(connection, **({"actor": login} if login is not None else {}))
        except SaveRefused as exc:
            self.prompts.show_problems(exc.problems, refused=True, zoom=self.zoom_to_problem)
            errors = [p for p in exc.problems if p.is_error]
            self.say(f"有 {len(errors)} 个错误，未保存")
            return False
        except GridConflict as exc:
            return self._resolve(exc)
        except (SaveError, PermissionDenied) as exc:
            self.prompts.warn("保存失败", str(exc))
            return False
        self._after_save(result)
        return True

    def _after_save(self, result) -> None:
        self._saved_any = True
        self.undo_stack.clear()  # the commands refer to the state before the save
        self.undo_stack.setClean()
        self._codes = {g.id: (g.code, g.level) for g in self.session.grids.values()}
        chosen = [result.inserted.get(i, i) for i in self.chosen]
        self.chosen = [i for i in chosen if i in self.session.grids]
        self._snapper = None
        written = set(result.updated) | set(result.inserted.values())
        self.layers.update(self.session, {g.level for g in self.session.grids.values() if g.id in written}
                           or {self.level})
        self._update_overlay()
        moved = f"，{len(result.reassigned)} 个污染源/站点/案件改归新网格" if result.reassigned else ""
        self.say(f"已保存：新建 {len(result.inserted)}、修改 {len(result.updated)}、删除 {len(result.deleted)} 个网格{moved}")
        self.saved.emit(result)
        if result.warnings:
            self.prompts.show_problems(result.warnings, refused=False, zoom=self.zoom_to_problem)

    def _resolve(self, conflict: GridConflict) -> bool:
        choice = self.prompts.resolve_conflict(conflict.conflicts)
        if choice == "mine":
            if any(c.theirs is None for c in conflict.conflicts):
                self.prompts.warn("保存冲突", "有网格已被他人删除，不能用您的版本覆盖")
                return False
            for c in conflict.conflicts:  # their row becomes the base my version replaces (and is kept in history)
                self.session.original[c.grid_id] = c.theirs
            return self.save()
        if choice == "theirs":
            level = self.level
            self.stop()
            self.start(level)
            self.say("已采用他人的版本，您未保存的修改已放弃")
            return False
        self.say("保存冲突：未保存，可继续编辑")
        return False

    def _reload_keeping_view(self) -> None:
        viewport = self.canvas.viewport()

        def restore():
            self.window.dataLoaded.disconnect(restore)
            self.canvas.set_viewport(viewport)

        self.window.dataLoaded.connect(restore)
        self.window.load()

    # -- commands --------------------------------------------------------------------------
    def push(self, command: Command) -> bool:
        """Do ``command`` (a ``gis.editing`` command made for this session) and put it on the stack."""
        if self.session is None:
            raise RuntimeError("no edit session: start editing first")
        command.do()
        self.undo_stack.push(SessionUndoCommand(command))
        self.flush()
        return True

    def run(self, make: Callable[[], Command], what: str = "编辑") -> bool:
        """Create a command and push it; the core's refusal is shown, not raised."""
        if self.session is None:
            self.say("请先开始编辑")
            return False
        try:
            command = make()
        except InvalidNeighbourError as exc:
            self._show_invalid(exc)
            return False
        except (TopologyError, ValueError, KeyError) as exc:
            self.say(f"{what}未执行：{exc}", warn=True)
            return False
        return self.push(command)

    def _show_invalid(self, exc: InvalidNeighbourError) -> None:
        self.overlay.chosen = [ring for g in exc.grids for ring in mercator_rings(g.boundary)]
        self.overlay.changed()
        self.say(str(exc), warn=True)
        self.prompts.warn("相邻网格几何无效", str(exc), loud=True)

    def undo(self) -> None:
        if self.undo_stack.canUndo():
            self.undo_stack.undo()
            self.flush()

    def redo(self) -> None:
        if self.undo_stack.canRedo():
            self.undo_stack.redo()
            self.flush()

    # -- after a change --------------------------------------------------------------------
    def _on_session_changed(self, ids: set[int]) -> None:
        self._pending |= set(ids)
        self._snapper = None
        self._refresh.start()

    def flush(self) -> None:
        """Bring the map and listeners up to date with the session now (normally on the next turn)."""
        self._refresh.stop()
        if self.session is None or not self._pending:
            return
        ids, self._pending = self._pending, set()
        session = self.session
        levels, codes = set(), []
        for grid_id in ids:
            for grid in (session.grids.get(grid_id), session.original.get(grid_id)):
                if grid is not None:
                    levels.add(grid.level)
            current = session.grids.get(grid_id)
            if current is not None:
                self._codes[grid_id] = (current.code, current.level)
            if grid_id in self._codes:  # also a grid gone now (undo of a draw, a merge)
                codes.append(self._codes[grid_id][0])
                levels.add(self._codes[grid_id][1])
        self.chosen = [i for i in self.chosen if i in session.grids]
        self.layers.update(session, levels)
        self._update_overlay()
        self.sessionChanged.emit(sorted(set(codes)))

    def _update_overlay(self) -> None:
        session = self.session
        if session is None:
            return
        vertices = {k for g in session.polygon_grids(self.level)
                    for k in map(tuple, shapely.get_coordinates(g.boundary).tolist())}
        if vertices:
            xy = np.array(sorted(vertices))
            x, y = lonlat_to_mercator(xy[:, 0], xy[:, 1])
            self.overlay.handles = np.column_stack([x, y])
        else:
            self.overlay.handles = np.empty((0, 2))
        self.overlay.edited = [r for i in session.dirty_ids() if i in session.grids
                               and session.grids[i].level == self.level
                               for r in mercator_rings(session.grids[i].boundary)]
        self.overlay.chosen = [r for i in self.chosen for r in mercator_rings(session.grids[i].boundary)]
        self.overlay.changed()
        self.chosenChanged.emit()

    def set_chosen(self, grid_ids) -> None:
        self.chosen = [i for i in dict.fromkeys(grid_ids) if self.session and i in self.session.grids]
        self._update_overlay()
        names = "、".join(self.session.grids[i].name for i in self.chosen) if self.chosen else ""
        self.say(f"已选 {len(self.chosen)} 个网格：{names}" if self.chosen else "未选网格")

    # -- attributes ------------------------------------------------------------------------
    def current_grid_id(self) -> int | None:
        """The grid 网格属性 acts on: the one picked with the vertex tool, else the one in the info panel."""
        if self.session is None:
            return None
        if len(self.chosen) == 1:
            return self.chosen[0]
        current = getattr(self.window.info_panel, "current", None)
        if current and current[0] == "grid" and current[1] in self.session.grids:
            return current[1]
        return None

    def edit_attributes(self, grid_id: int | None = None) -> GridAttributeDialog | None:
        """网格属性: open the dialog (window-modal, not blocking); 确定 is one undoable command."""
        if self.session is None:
            self.say("请先开始编辑（编辑 → 开始编辑）", warn=True)
            return None
        grid_id = self.current_grid_id() if grid_id is None else grid_id
        if grid_id is None or grid_id not in self.session.grids:
            self.say("请先选中一个网格（顶点工具单击网格内部，或在网格目录、地图上选择）", warn=True)
            return None
        if self.attribute_dialog is not None and shiboken6.isValid(self.attribute_dialog):
            self.attribute_dialog.deleteLater()
        dialog = GridAttributeDialog(self.session, grid_id, self.window)
        dialog.accepted.connect(lambda: self._apply_attributes(dialog))
        self.attribute_dialog = dialog
        dialog.open()
        return dialog

    def _apply_attributes(self, dialog: GridAttributeDialog) -> None:
        session, grid_id, changes = dialog.session, dialog.grid_id, dialog.changes()
        if not changes or session is not self.session or grid_id not in session.grids:
            return
        if self.run(lambda: SetGridFieldsCommand(session, grid_id, **changes), "修改属性"):
            self.say(f"已修改“{session.grid(grid_id).name}”的属性（保存编辑后写入数据库）")

    def _refresh_panel(self, codes=None) -> None:
        show_in_info_panel(self, codes)

    # -- snapping --------------------------------------------------------------------------
    def snapper(self) -> Snapper | None:
        """Vertices and edges of the edited level and its parent level (rebuilt after a change)."""
        if self.session is None:
            return None
        if self._snapper is None:
            levels = {self.level, self.level - 1}
            grids = [g for g in self.session.polygon_grids() if g.level in levels]
            self._snapper = Snapper(grids) if grids else None
        return self._snapper

    def tolerance_m(self, lat: float) -> float:
        """The snap tolerance in ground metres at the current zoom."""
        return self.snap_px * self.canvas.viewport().res * float(np.cos(np.radians(lat)))

    def snap(self, lon: float, lat: float, *, force: bool = False,
             accept: Callable[[SnapResult], bool] | None = None) -> SnapResult | None:
        """Where the cursor snaps (None: nowhere within the tolerance, or snapping is off)."""
        if not (self.snapping or force):
            return None
        snapper = self.snapper()
        if snapper is None:
            return None
        result = snapper.snap(lon, lat, self.tolerance_m(lat))
        if result is not None and accept is not None and not accept(result):
            return None
        return result

    def show_snap(self, result: SnapResult | None) -> None:
        if result is None:
            shown = None
        else:
            x, y = lonlat_to_mercator(*result.point)
            shown = ((float(x), float(y)), result.kind)
        if shown != self.overlay.snap:
            self.overlay.snap = shown
            self.overlay.changed()

    # -- problems --------------------------------------------------------------------------
    def zoom_to_problem(self, problem) -> None:
        """Zoom to a validation problem and flash it."""
        geometry = getattr(problem, "geometry", None)
        if geometry is not None and not geometry.is_empty:
            x0, y0, x1, y1 = geometry.bounds
            pad = max(x1 - x0, y1 - y0, 0.0005) * 0.6
            self.canvas.zoom_to_bbox((x0 - pad, y0 - pad, x1 + pad, y1 + pad))
            self.canvas.flash(MapMarker.from_lonlat_geometry(geometry))
        else:
            lon, lat = problem.location
            self.canvas.zoom_to_point(lon, lat, 2000)
            self.canvas.flash(MapMarker.from_lonlat_point(lon, lat))
        self.say(problem.message)

    # -- messages, keys, closing -------------------------------------------------------------
    def say(self, text: str, *, warn: bool = False) -> None:
        self.window.statusBar().showMessage(("⚠ " if warn else "") + text, 10_000)
        self.messageShown.emit(text)

    def eventFilter(self, watched, event) -> bool:
        if watched is self.canvas and event.type() == QEvent.Type.KeyPress:
            tool = self.canvas.map_tool()
            if getattr(tool, "edit_tool", False) and tool.key_press(event):
                return True
        if watched is self.window and event.type() == QEvent.Type.Close and self.session is not None:
            if self.is_dirty and not self.prompts.confirm("退出", "编辑中有未保存的修改，放弃这些修改并关闭？"):
                event.ignore()
                return True
            self.stop(reload=False)
        return super().eventFilter(watched, event)


def _user_name(window) -> str | None:
    """Who the audit log names: the logged-in seat's user, else the OS user (session default)."""
    login = getattr(window, "session", None)
    return getattr(login, "username", None) if login is not None else None
