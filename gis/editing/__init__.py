"""Topological editing of the grid hierarchy, pure Python (the desktop's tools push these commands).

Typical use::

    session = GridEditSession.load(connection)
    session.push(MoveVertexCommand(session, grid_id, vertex, to))
    session.undo(); session.redo()
    session.save(connection)   # one transaction, optimistic locking, refused on validation errors
"""
from gis.editing.commands import Command, GridChangeCommand, UndoStack
from gis.editing.fixes import (
    FixError,
    best_receiver,
    fill_gap,
    fix_command,
    remove_overlap,
    snap_command,
    snap_edges,
)
from gis.editing.grid_commands import (
    AddGridCommand,
    DeleteGridCommand,
    InvalidNeighbourError,
    MergeGridsCommand,
    ReplaceBoundariesCommand,
    SetGridFieldsCommand,
    accept_four_bounds,
)
from gis.editing.save import (
    Conflict,
    GridConflict,
    SaveError,
    SaveRefused,
    SaveResult,
    changed_problems,
)
from gis.editing.session import GridEditSession
from gis.editing.snapping import Snapper, SnapResult, snap_point
from gis.editing.split import SplitGridCommand
from gis.editing.staff import (
    StaffRecord,
    add_person,
    assign_role,
    end_role,
    grid_staff_history,
)
from gis.editing.topology import TopologyError
from gis.editing.vertex_commands import (
    DeleteVertexCommand,
    InsertVertexCommand,
    MoveSharedEdgeCommand,
    MoveVertexCommand,
    ReshapeSharedEdgeCommand,
    shared_edge,
)

__all__ = [
    "AddGridCommand", "Command", "Conflict", "DeleteGridCommand", "DeleteVertexCommand", "FixError",
    "GridChangeCommand", "GridConflict", "GridEditSession", "InsertVertexCommand", "InvalidNeighbourError",
    "MergeGridsCommand", "MoveSharedEdgeCommand", "MoveVertexCommand", "ReplaceBoundariesCommand",
    "ReshapeSharedEdgeCommand", "SaveError", "SaveRefused", "SaveResult", "SetGridFieldsCommand", "SnapResult",
    "Snapper", "SplitGridCommand", "StaffRecord", "TopologyError", "UndoStack", "accept_four_bounds", "add_person",
    "assign_role", "best_receiver", "changed_problems", "end_role", "fill_gap", "fix_command", "grid_staff_history",
    "remove_overlap", "shared_edge", "snap_command", "snap_edges", "snap_point",
]
