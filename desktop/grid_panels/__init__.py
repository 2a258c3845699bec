"""Panels around grid editing: problems, leaders and staff, public signs, import preview.

``install_grid_panels(window)`` adds the 网格 menu to the main window; each panel also works on
its own (give it a store, and a callable ``apply(command)`` for edits).
"""
from __future__ import annotations


def install_grid_panels(window):
    """Add the 网格 menu (and the problem dock) to ``window``; returns the installer object."""
    from desktop.grid_panels.menu import GridPanels

    return GridPanels(window)
