"""Whole-grid commands: draw (with avoid-overlap), merge, delete, change fields, replace boundaries."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import date

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gis.crs import geodesic_area_m2
from gis.domain import LEVEL_NAMES, Grid
from gis.editing.checks import check_edit
from gis.editing.commands import GridChangeCommand
from gis.editing.rings import as_like
from gis.editing.session import GridEditSession
from gis.editing.topology import TopologyError, glue
from gis.validation.geometry import check_geometry
from gis.validation.problems import label, names

EDITABLE_FIELDS = ("code", "name", "east", "south", "west", "north", "duties", "valid_from", "valid_to")


class InvalidNeighbourError(TopologyError):
    """Avoid-overlap refused: a grid it would clip against is itself invalid (``grids`` names them)."""

    def __init__(self, message: str, grids: Sequence[Grid]):
        super().__init__(message)
        self.grids = list(grids)


def require_valid(grids: Sequence[Grid], what: str) -> None:
    """Raise `InvalidNeighbourError` naming every invalid grid among ``grids``."""
    bad = [(g, check_geometry(g)[0]) for g in grids]
    bad = [(g, problems) for g, problems in bad if problems]
    if bad:
        details = "；".join(problems[0].message for _, problems in bad)
        raise InvalidNeighbourError(f"{what}：{details}。请先修复这些网格，否则结果会出错", [g for g, _ in bad])


def glued_after(session: GridEditSession, new: Mapping[int, BaseGeometry]) -> dict[int, BaseGeometry]:
    """``new`` boundaries glued to every polygon grid around them (see `topology.glue`)."""
    region = shapely.box(*shapely.total_bounds(list(new.values())))
    near = {g.id: g.boundary for g in session.polygon_grids()
            if g.id not in new and shapely.intersects(shapely.box(*g.boundary.bounds), region)}
    return glue(new, near)


class AddGridCommand(GridChangeCommand):
    """Draw a new grid; with ``avoid_overlap`` it is clipped to the free space of its parent.

    Raises
    ------
    InvalidNeighbourError
        The parent or a sibling in the way is invalid: clipping against it would give garbage.
    TopologyError
        Nothing of the drawing is free, or it is not a valid polygon.
    """

    def __init__(self, session: GridEditSession, polygon: BaseGeometry, *, level: int, name: str,
                 parent_id: int | None = None, code: str | None = None, avoid_overlap: bool = True,
                 duties: str = "", valid_from: date | None = None):
        if not isinstance(polygon, (shapely.Polygon, shapely.MultiPolygon)) or polygon.is_empty:
            raise TopologyError(f"新网格的边界必须是面，收到的是 {type(polygon).__name__}")
        if not polygon.is_valid:
            raise TopologyError(f"所绘多边形无效：{shapely.is_valid_reason(polygon)}")
        parent = None
        if level > 1:
            parent = session.grid(parent_id) if parent_id is not None else _guess_parent(session, polygon, level - 1)
        in_the_way = session.same_level_near(level, polygon)
        require_valid(([parent] if parent else []) + in_the_way, "新网格相邻的网格几何无效，无法避让重叠")
        shape = polygon
        if avoid_overlap:
            if parent is not None:
                shape = shapely.intersection(shape, parent.boundary)
            if in_the_way:
                shape = shapely.difference(shape, shapely.union_all([g.boundary for g in in_the_way]))
        parts = [p for p in shapely.get_parts(shape) if isinstance(p, shapely.Polygon) and p.area > 0]
        if not parts or geodesic_area_m2(shapely.MultiPolygon(parts)) < 0.01:
            raise TopologyError(f"所绘范围内没有空白区域可用于新网格“{name}”（已被相邻网格占用或在上级网格之外）")
        new_id = session.new_id()
        geoms = glued_after(session, {new_id: shapely.MultiPolygon(parts)})
        boundary = geoms.pop(new_id)
        grid = Grid(id=new_id, code=code or session.next_code(parent.id if parent else None), name=name,
                    level=level, parent_id=parent.id if parent else None, boundary=boundary,
                    area_m2=geodesic_area_m2(boundary), duties=duties, valid_from=valid_from or date.today())
        after = {new_id: grid, **{i: session.replaced(i, g) for i, g in geoms.items()}}
        check_edit(session, after, allow_gaps=True, hierarchy=False)
        super().__init__(session, f"新建网格“{name}”", after)
        self.new_id = new_id


def _guess_parent(session: GridEditSession, polygon: BaseGeometry, level: int) -> Grid:
    candidates = session.same_level_near(level, polygon)
    if not candidates:
        raise TopologyError(f"所绘多边形不在任何{LEVEL_NAMES.get(level, '上级网格')}内")
    require_valid(candidates, "上级网格几何无效")
    areas = shapely.area(shapely.intersection([g.boundary for g in candidates], polygon))
    return candidates[int(np.argmax(areas))]


class MergeGridsCommand(GridChangeCommand):
    """Merge grids of one level and parent into ``keep_id``, whose attributes stay."""

    def __init__(self, session: GridEditSession, grid_ids: Sequence[int], keep_id: int):
        grids = [session.grid(i) for i in dict.fromkeys(grid_ids)]
        keep = session.grid(keep_id)
        if keep_id not in {g.id for g in grids} or len(grids) < 2:
            raise TopologyError("合并至少需要两个网格，且保留属性的网格必须在其中")
        if len({(g.level, g.parent_id) for g in grids}) != 1:
            raise TopologyError(f"只能合并同一级别、同一上级的网格：{names(grids)}")
        require_valid(grids, "待合并的网格几何无效")
        boundaries = [g.boundary for g in grids]
        if not shapely.coverage_is_valid(boundaries):
            raise TopologyError(f"{names(grids)}之间有重叠或公共边顶点不一致，请先修复再合并")
        merged = as_like(shapely.coverage_union_all(boundaries), keep.boundary)
        after: dict[int, Grid | None] = {keep_id: session.replaced(keep_id, merged)}
        gone = [g.id for g in grids if g.id != keep_id]
        for grid_id in gone:
            after[grid_id] = None
            for child in session.children_of(grid_id):
                after[child.id] = dataclasses.replace(child, parent_id=keep_id)
        check_edit(session, after, hierarchy=False)
        super().__init__(session, f"合并网格为“{keep.name}”", after, merged_into={i: keep_id for i in gone})


class DeleteGridCommand(GridChangeCommand):
    """Remove a grid without children; its area becomes a gap until something covers it."""

    def __init__(self, session: GridEditSession, grid_id: int):
        grid = session.grid(grid_id)
        children = session.children_of(grid_id)
        if children:
            raise TopologyError(f"{label(grid)}还有 {len(children)} 个下级网格，请先删除或合并下级网格")
        super().__init__(session, f"删除网格“{grid.name}”", {grid_id: None})


class SetGridFieldsCommand(GridChangeCommand):
    """Change a grid's name, code, 四至, duties or dates."""

    def __init__(self, session: GridEditSession, grid_id: int, **fields):
        unknown = set(fields) - set(EDITABLE_FIELDS)
        if unknown:
            raise TypeError(f"not editable here: {sorted(unknown)}; editable: {EDITABLE_FIELDS}")
        code = fields.get("code")
        if code is not None and any(g.code == code and g.id != grid_id for g in session.grids.values()):
            raise ValueError(f"网格编码 {code} 已被使用")
        grid = session.grid(grid_id)
        super().__init__(session, f"修改网格“{grid.name}”的属性", {grid_id: dataclasses.replace(grid, **fields)})


def accept_four_bounds(session: GridEditSession, grid_id: int) -> SetGridFieldsCommand:
    """A command writing the flagged 四至 suggestion into the grid's fields."""
    suggestion = session.four_bounds.flagged.get(grid_id)
    if suggestion is None:
        raise KeyError(f"grid {grid_id} has no new 四至 suggestion")
    return SetGridFieldsCommand(session, grid_id, **dataclasses.asdict(suggestion))


class ReplaceBoundariesCommand(GridChangeCommand):
    """Set new boundaries for some grids at once (quick fixes); checked like any edit."""

    def __init__(self, session: GridEditSession, boundaries: Mapping[int, BaseGeometry], label: str, *,
                 allow_gaps: bool = False):
        after = {i: session.replaced(i, as_like(g, session.grid(i).boundary)) for i, g in boundaries.items()}
        check_edit(session, after, allow_gaps=allow_gaps)
        super().__init__(session, label, after)
