"""Undo in pure Python: every edit is a `Command` with ``do``, ``undo`` and a ``label``.

The desktop maps its QUndoStack onto `UndoStack` (or wraps each command in a QUndoCommand whose
redo/undo call ``do``/``undo``). A `GridChangeCommand` computes its result once, when it is
created, and keeps the grids before and after: ``do`` and ``undo`` only swap snapshots, so undo
restores the original exactly (the same geometry objects), and an edit that cannot be done
raises at creation, before anything enters the stack. Create a command and push it at once.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from gis.domain import Grid

if TYPE_CHECKING:
    from gis.editing.session import GridEditSession


class Command:
    """Base class: subclasses set ``label`` and implement ``do`` and ``undo``."""

    label: str = ""

    def do(self) -> None:
        raise NotImplementedError

    def undo(self) -> None:
        raise NotImplementedError


class GridChangeCommand(Command):
    """Replace some grids by new versions (None: the grid is removed, or did not exist before).

    Parameters
    ----------
    session : GridEditSession
    label : str
        What the undo menu shows ("移动顶点", "拆分网格“古寨村”"…).
    after : mapping
        grid id → the grid after the edit, or None to remove it. New grids use the
        negative ids from ``session.new_id()``.
    merged_into : mapping, optional
        removed grid id → the grid that absorbed it (cases and sources follow on save).
    """

    def __init__(self, session: GridEditSession, label: str, after: Mapping[int, Grid | None],
                 merged_into: Mapping[int, int] | None = None):
        self.session = session
        self.label = label
        self.after = dict(after)
        self.before = {grid_id: session.grids.get(grid_id) for grid_id in self.after}
        self.merged_into = dict(merged_into or {})

    @property
    def grid_ids(self) -> set[int]:
        return set(self.after)

    def do(self) -> None:
        # A command is computed against the state it was created in; pushing a stale one (created,
        # then something else was done) would silently revert that other change.
        if any(self.session.grids.get(i) is not g for i, g in self.before.items()):
            raise RuntimeError(f"“{self.label}” was computed for another state of the grids; create it again")
        self.session.apply(self.after)
        self.session.merged_into.update(self.merged_into)

    def undo(self) -> None:
        for removed in self.merged_into:
            self.session.merged_into.pop(removed, None)
        self.session.apply(self.before)


class UndoStack:
    """A linear undo history with a clean mark (what was last saved)."""

    def __init__(self) -> None:
        self._commands: list[Command] = []
        self._index = 0
        self._clean = 0
        self.listeners: list[Callable[[], None]] = []

    def push(self, command: Command) -> None:
        """Do ``command`` and put it on top; whatever could be redone is dropped."""
        command.do()
        del self._commands[self._index:]
        if self._clean > self._index:
            self._clean = -1  # the saved state can no longer be reached by undo/redo
        self._commands.append(command)
        self._index += 1
        self._changed()

    def undo(self) -> None:
        if not self.can_undo:
            raise IndexError("nothing to undo")
        self._index -= 1
        self._commands[self._index].undo()
        self._changed()

    def redo(self) -> None:
        if not self.can_redo:
            raise IndexError("nothing to redo")
        self._commands[self._index].do()
        self._index += 1
        self._changed()

    @property
    def can_undo(self) -> bool:
        return self._index > 0

    @property
    def can_redo(self) -> bool:
        return self._index < len(self._commands)

    @property
    def undo_label(self) -> str:
        return self._commands[self._index - 1].label if self.can_undo else ""

    @property
    def redo_label(self) -> str:
        return self._commands[self._index].label if self.can_redo else ""

    @property
    def index(self) -> int:
        return self._index

    def __len__(self) -> int:
        return len(self._commands)

    @property
    def is_clean(self) -> bool:
        return self._index == self._clean

    def set_clean(self) -> None:
        self._clean = self._index
        self._changed()

    def clear(self) -> None:
        self._commands.clear()
        self._index = self._clean = 0
        self._changed()

    def _changed(self) -> None:
        for listener in list(self.listeners):
            listener()
