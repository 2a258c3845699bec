"""全面覆盖、无缝隙: siblings tile their parent with no gap and no overlap.

One ``coverage_is_valid`` call per sibling group answers the common case: the children plus a
*frame* (a box around the parent with the parent cut out) form a valid coverage exactly when no
child overlaps another or sticks out of the parent, and every edge matches its neighbour's (or
the parent's) vertex for vertex. Only groups that fail are measured in detail: overlaps pairwise
through an STRtree, parts outside the parent by difference, unmatched edges as warnings. Gaps
are parent − union(children), skipped when the areas already add up.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gis.domain import LEVEL_NAMES, Grid
from gis.validation.problems import (
    ERROR,
    WARNING,
    Problem,
    label,
    location_of,
    may_exceed,
    names,
    significant_parts,
)

_TOUCH_DEG = 1e-9  # ~0.1 mm: "lies on" for edges that should be identical


def check_siblings(parent: Grid | None, children: Sequence[Grid], geoms: Mapping[int, BaseGeometry],
                   tolerance_m2: float) -> list[Problem]:
    """Gaps, overlaps, parts outside the parent and unmatched edges of one sibling group.

    Parameters
    ----------
    parent : Grid or None
        The grid the children must tile; None for the top level (overlaps only).
    children : sequence of Grid
        Polygonal siblings (same parent, same level).
    geoms : mapping
        grid id → usable geometry (repaired where the stored one is invalid); grids missing
        from it are skipped (nothing usable is left of them).
    tolerance_m2 : float
        Gaps, overlaps and outside parts up to this area (geodesic m²) are not errors.

    Returns
    -------
    list of Problem
    """
    kids = [c for c in children if geoms.get(c.id) is not None]
    if not kids:
        return []
    polys = np.array([geoms[c.id] for c in kids], dtype=object)
    outer = geoms.get(parent.id) if parent is not None else None
    frame = _frame(outer) if outer is not None else None
    members = list(polys) + ([frame] if frame is not None else [])
    valid = bool(shapely.coverage_is_valid(members))
    problems: list[Problem] = []
    if not valid:
        problems += _overlaps(kids, polys, tolerance_m2)
        if outer is not None:
            problems += _outside(parent, outer, kids, polys, tolerance_m2)
    if outer is not None:
        problems += _gaps(parent, outer, kids, polys, valid, tolerance_m2)
    elif len(kids) > 1:
        problems += _enclosed_gaps(kids, polys, valid, tolerance_m2)
    if not valid:
        problems += _edge_mismatches(parent, outer, kids, polys, members, problems)
    return problems


def _frame(outer: BaseGeometry) -> BaseGeometry:
    """Everything around the parent (within a padded box): a child overlapping it is outside."""
    x0, y0, x1, y1 = outer.bounds
    pad = max(x1 - x0, y1 - y0, 1e-6)
    return shapely.box(x0 - pad, y0 - pad, x1 + pad, y1 + pad).difference(outer)


def _overlaps(kids, polys, tolerance_m2, keep=None) -> list[Problem]:
    """Pairwise overlaps above the tolerance; ``keep(i, j)`` may restrict the pairs looked at."""
    tree = shapely.STRtree(polys)
    left, right = tree.query(polys, predicate="intersects")
    mask = (left < right) if keep is None else np.array([i < j and keep(i, j) for i, j in zip(left, right)], bool)
    left, right = left[mask], right[mask]
    if not len(left):
        return []
    areas = shapely.area(shapely.intersection(polys[left], polys[right]))
    out = []
    for i, j, planar in zip(left.tolist(), right.tolist(), areas.tolist()):
        if not may_exceed(planar, tolerance_m2):
            continue
        parts = significant_parts(polys[i].intersection(polys[j]), tolerance_m2)
        if not parts:
            continue
        a, b = kids[i], kids[j]
        area = sum(area for _, area in parts)
        region = shapely.union_all([part for part, _ in parts])
        message = f"{LEVEL_NAMES[a.level]}{names([a, b])}相互重叠，重叠面积约 {area:.1f} 平方米"
        out.append(Problem("overlap", ERROR, a.level, (a.code, b.code), area, location_of(parts[0][0]),
                           message, (a.id, b.id), region))
    return out


def _outside(parent, outer, kids, polys, tolerance_m2) -> list[Problem]:
    shapely.prepare(outer)
    covered = shapely.covers(outer, polys)
    out = []
    for kid, poly, ok in zip(kids, polys, covered.tolist()):
        if ok:
            continue
        parts = significant_parts(poly.difference(outer), tolerance_m2)
        if not parts:
            continue
        area = sum(area for _, area in parts)
        region = shapely.union_all([part for part, _ in parts])
        message = f"{label(kid)}超出上级网格{names([parent])}的范围，超出面积约 {area:.1f} 平方米"
        out.append(Problem("outside_parent", ERROR, kid.level, (kid.code, parent.code), area,
                           location_of(parts[0][0]), message, (kid.id, parent.id), region))
    return out


def _gaps(parent, outer, kids, polys, valid, tolerance_m2) -> list[Problem]:
    if valid and not may_exceed(outer.area - float(shapely.area(polys).sum()), tolerance_m2):
        return []  # a valid coverage inside the frame whose areas add up has no gap
    union = shapely.coverage_union_all(polys) if valid else shapely.union_all(polys)
    parts = significant_parts(outer.difference(union), tolerance_m2)
    if not parts:
        return []
    tree = shapely.STRtree(polys)
    out = []
    for part, area in parts:
        near = sorted(tree.query(part, predicate="dwithin", distance=_TOUCH_DEG).tolist())
        touching = [kids[i] for i in near]
        around = f"，相邻网格：{names(touching)}" if touching else ""
        message = (f"{label(parent)}内有未被下级网格覆盖的空隙，面积约 {area:.1f} 平方米{around}")
        out.append(Problem("gap", ERROR, kids[0].level, (parent.code, *(k.code for k in touching)), area,
                           location_of(part), message, (parent.id, *(k.id for k in touching)), part))
    return out


def _enclosed_gaps(kids, polys, valid, tolerance_m2) -> list[Problem]:
    """Without a parent to measure against, a hole in the union that several grids surround is
    a gap (a hole inside one grid is its own enclave, not a gap)."""
    union = shapely.coverage_union_all(polys) if valid else shapely.union_all(polys)
    holes = [shapely.Polygon(ring) for part in shapely.get_parts(union) if isinstance(part, shapely.Polygon)
             for ring in part.interiors]
    tree = shapely.STRtree(polys)
    out = []
    for hole in holes:
        touching = [kids[i] for i in sorted(tree.query(hole, predicate="dwithin", distance=_TOUCH_DEG).tolist())]
        parts = significant_parts(hole, tolerance_m2) if len(touching) > 1 else []
        if not parts:
            continue
        area = parts[0][1]
        message = f"{LEVEL_NAMES[kids[0].level]}{names(touching)}之间有未被覆盖的空隙，面积约 {area:.1f} 平方米"
        out.append(Problem("gap", ERROR, kids[0].level, tuple(k.code for k in touching), area, location_of(hole),
                           message, tuple(k.id for k in touching), hole))
    return out


def check_level_overlaps(grids: Sequence[Grid], geoms: Mapping[int, BaseGeometry],
                         tolerance_m2: float) -> list[Problem]:
    """Overlaps between grids of one level that have *different* parents (siblings are checked
    with their parent). One call when the level is clean; pairwise only when it is not."""
    kids = [g for g in grids if geoms.get(g.id) is not None]
    polys = np.array([geoms[g.id] for g in kids], dtype=object)
    if len(kids) < 2 or shapely.coverage_is_valid(polys):
        return []
    return _overlaps(kids, polys, tolerance_m2, keep=lambda i, j: kids[i].parent_id != kids[j].parent_id)


def _edge_mismatches(parent, outer, kids, polys, members, found) -> list[Problem]:
    """Edges that do not match their neighbour vertex for vertex, where no error explains them.

    Below the tolerance they are no gap and no overlap, but shared-vertex editing and 四至 rely
    on identical edges, so they are worth a warning (and the snap quick fix).
    """
    explained = {code for p in found for code in p.grids}
    edges = shapely.coverage_invalid_edges(members)
    out, seen = [], set()
    for i, kid in enumerate(kids):
        edge = edges[i]
        if edge is None or edge.is_empty or kid.code in explained:
            continue
        others = [kids[j] for j in range(len(kids)) if j != i and _runs_along(edge, polys[j])]
        if outer is not None and _runs_along(edge, outer):
            others.append(parent)
        involved = frozenset([kid.code, *(o.code for o in others)])
        if involved in seen:
            continue  # the neighbour's side of the same edge: one warning per pair
        seen.add(involved)
        with_whom = f"与{names(others)}" if others else ""
        message = f"{label(kid)}{with_whom}的公共边顶点不一致（存在微小缝隙或重叠），建议执行“吸附公共边”"
        point = shapely.line_interpolate_point(shapely.get_parts(edge)[0], 0.5, normalized=True)
        out.append(Problem("edge_mismatch", WARNING, kid.level, (kid.code, *(o.code for o in others)), 0.0,
                           (point.x, point.y), message, (kid.id, *(o.id for o in others)), edge))
    return out


def _runs_along(edge: BaseGeometry, polygon: BaseGeometry) -> bool:
    """Does some length of ``edge`` lie on the boundary of ``polygon`` (not just an end point)?"""
    if not shapely.dwithin(edge, polygon, _TOUCH_DEG):
        return False
    along = shapely.intersection(edge, shapely.buffer(polygon.boundary, _TOUCH_DEG)).length
    return along > max(10 * _TOUCH_DEG, 0.01 * edge.length)  # more than the touch around an end point
