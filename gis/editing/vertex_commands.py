"""Vertex and shared-edge commands: what the vertex tool pushes, one per gesture.

Each moves, inserts or removes a vertex in *every* grid that has it (topological editing), so
adjacent grids stay glued; a drag is one command, created at release.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gis.editing.chains import pick_chain, replace_chain, shared_chains
from gis.editing.checks import check_edit
from gis.editing.commands import GridChangeCommand
from gis.editing.rings import key
from gis.editing.session import GridEditSession
from gis.editing.topology import (
    TopologyError,
    delete_vertex,
    insert_vertex,
    move_vertices,
)


def _after(session: GridEditSession, geoms) -> dict:
    return {grid_id: session.replaced(grid_id, geom) for grid_id, geom in geoms.items()}


def _require_vertex(session: GridEditSession, grid_id: int, xy) -> None:
    if grid_id not in session.index.grids_at(key(xy)):
        raise TopologyError(f"网格“{session.grid(grid_id).name}”在 ({xy[0]:.7f}, {xy[1]:.7f}) 处没有顶点")


class MoveVertexCommand(GridChangeCommand):
    """Move the vertex at ``vertex`` of grid ``grid_id`` to ``to``, in every grid that shares it."""

    def __init__(self, session: GridEditSession, grid_id: int, vertex: Sequence[float], to: Sequence[float]):
        _require_vertex(session, grid_id, vertex)
        geoms = move_vertices(session.geoms(), session.index, {key(vertex): to}, session.editable_ids(grid_id))
        after = _after(session, geoms)
        check_edit(session, after)
        super().__init__(session, "移动顶点", after)


class InsertVertexCommand(GridChangeCommand):
    """Insert ``at`` into the edge ``edge = (u, v)`` of ``grid_id`` and of every grid with that edge."""

    def __init__(self, session: GridEditSession, grid_id: int, edge: tuple[Sequence[float], Sequence[float]],
                 at: Sequence[float]):
        _require_vertex(session, grid_id, edge[0])
        _require_vertex(session, grid_id, edge[1])
        geoms = insert_vertex(session.geoms(), session.index, (key(edge[0]), key(edge[1])), key(at),
                              session.editable_ids(grid_id))
        after = _after(session, geoms)
        check_edit(session, after)
        super().__init__(session, "插入顶点", after)


class DeleteVertexCommand(GridChangeCommand):
    """Remove the vertex at ``vertex`` from every grid that has it."""

    def __init__(self, session: GridEditSession, grid_id: int, vertex: Sequence[float]):
        _require_vertex(session, grid_id, vertex)
        geoms = delete_vertex(session.geoms(), session.index, vertex, session.editable_ids(grid_id))
        after = _after(session, geoms)
        check_edit(session, after)
        super().__init__(session, "删除顶点", after)


def shared_edge(session: GridEditSession, a_id: int, b_id: int, near: Sequence[float] | None = None) -> list:
    """The common boundary of grids ``a_id`` and ``b_id`` as ``[(lon, lat), …]`` in ``a``'s order.

    ``near`` picks one stretch when they share several.
    """
    chains = shared_chains(session.grid(a_id).boundary, session.grid(b_id).boundary)
    return pick_chain(chains, near)


class MoveSharedEdgeCommand(GridChangeCommand):
    """Shift the shared edge of ``a`` and ``b`` by ``(dx, dy)`` degrees, its two ends staying put."""

    def __init__(self, session: GridEditSession, a_id: int, b_id: int, offset: Sequence[float],
                 near: Sequence[float] | None = None):
        chain = shared_edge(session, a_id, b_id, near)
        if len(chain) < 3:
            raise TopologyError("公共边只有两个端点，没有可移动的中间顶点；请插入顶点或使用“修改公共边”")
        dx, dy = float(offset[0]), float(offset[1])
        moves = {k: (k[0] + dx, k[1] + dy) for k in chain[1:-1]}
        geoms = move_vertices(session.geoms(), session.index, moves, session.editable_ids(a_id) | {b_id})
        after = _after(session, geoms)
        check_edit(session, after)
        names = f"“{session.grid(a_id).name}”与“{session.grid(b_id).name}”"
        super().__init__(session, f"移动{names}的公共边", after)


class ReshapeSharedEdgeCommand(GridChangeCommand):
    """Replace the shared edge of ``a`` and ``b`` by ``new_line`` in both (and all grids along it).

    ``new_line`` runs from one end of the shared edge to the other, in either direction.
    """

    def __init__(self, session: GridEditSession, a_id: int, b_id: int, new_line: Sequence[Sequence[float]],
                 near: Sequence[float] | None = None):
        chain = shared_edge(session, a_id, b_id, near)
        line = np.asarray(new_line, dtype=float)
        if np.hypot(*(line[0] - chain[0])) > np.hypot(*(line[0] - chain[-1])):
            line = line[::-1]  # drawn from the other end
        geoms = replace_chain(session.geoms(), session.index, chain, line, session.editable_ids(a_id) | {b_id})
        if not geoms or all(g.equals_exact(session.grid(i).boundary, 0) for i, g in geoms.items()):
            raise TopologyError("新的公共边与原来的相同，没有需要修改的地方")
        after = _after(session, geoms)
        check_edit(session, after)
        names = f"“{session.grid(a_id).name}”与“{session.grid(b_id).name}”"
        super().__init__(session, f"修改{names}的公共边", after)
