"""Boundary editing in the window: the edit controller, its map tools and the 编辑 menu.

``window.editing = install_editing(window)`` (see `desktop.editing.actions`); the controller's
public API is described in `desktop.editing.controller`.
"""
from desktop.editing.actions import install_editing
from desktop.editing.controller import EditController, SessionUndoCommand

__all__ = ["EditController", "SessionUndoCommand", "install_editing"]
