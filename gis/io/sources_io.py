"""Import of pollution sources (污染源台账) from point files: GeoJSON, Shapefile, GeoPackage.

Same rules as grid import (:mod:`gis.io.grids_io`): every feature is checked first, one line per
problem naming the feature, nothing written unless the whole file is clean. Each source is put in
the deepest level-1..4 grid covering it; a source outside every grid is still imported, without a
grid, and reported as a warning.

Recognised attributes (first match wins; ``name`` and ``category`` can be named explicitly):

=============  ==========================================================
name           name, NAME, 名称, 企业名称, 单位名称, 污染源名称
category       category, CATEGORY, 类别, 行业类别, 污染源类别 — a code or a name
               of the workspace's source category list
address        address, 地址
contact_name   contact_name, contact, 联系人
contact_phone  contact_phone, phone, 联系电话, 电话
permit_no      permit_no, 排污许可证编号, 许可证编号
status         status, 状态 — 在产/停产/整治中/关停取缔 (default 在产)
is_key         is_key, 重点源, 是否重点 — 是/否, 1/0, yes/no, true/false
=============  ==========================================================
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from gis.domain import Grid, SourceStatus
from gis.io.vector import (
    ImportProblems, Problems, Warn, feature_label, pick_field, read_vector, text_value, to_lonlat,
    warn_outside_china,
)
from gis.storage.grids import read_grids
from gis.storage.schema import pollution_sources as sources_table, source_categories
from gis.storage.sources import PollutionSource, insert_sources, seed_source_categories

__all__ = ["SourceFeature", "deepest_grids", "import_sources", "read_source_file"]

NAME_FIELDS = ("name", "NAME", "名称", "企业名称", "单位名称", "污染源名称")
CATEGORY_FIELDS = ("category", "CATEGORY", "类别", "行业类别", "污染源类别")
OPTIONAL_FIELDS = {
    "address": ("address", "地址"),
    "contact_name": ("contact_name", "contact", "联系人"),
    "contact_phone": ("contact_phone", "phone", "联系电话", "电话"),
    "permit_no": ("permit_no", "排污许可证编号", "许可证编号"),
    "status": ("status", "状态"),
    "is_key": ("is_key", "重点源", "是否重点"),
}
_YES = {"1", "是", "y", "yes", "true", "t", "重点"}
_NO = {"", "0", "否", "n", "no", "false", "f"}


@dataclass(slots=True)
class SourceFeature:
    """One checked feature: the source to insert (``grid_id`` not yet set)."""

    number: int
    source: PollutionSource


def read_source_file(path, *, categories: Sequence[tuple[int, str, str]], name_field: str | None = None,
                     category_field: str | None = None, src_crs: str | None = None,
                     encoding: str | None = None, layer: str | None = None,
                     warn: Warn = None) -> list[SourceFeature]:
    """Read and check a pollution-source point file.

    Parameters
    ----------
    path : str or Path
        GeoJSON, Shapefile or GeoPackage of points.
    categories : sequence of (id, code, name)
        The categories a source may name, by code (any case) or by name.
    name_field, category_field : str, optional
        Attribute names; by default looked up among the common names in the module docstring.
    src_crs, encoding, layer, warn
        As for :func:`gis.io.grids_io.read_grid_file`.

    Returns
    -------
    list of SourceFeature
        Sources with lon/lat and category; ``grid_id`` is None.

    Raises
    ------
    ImportProblems
        One line per problem found.
    """
    features, problems = _parse(path, categories, name_field, category_field, src_crs, encoding, layer, warn)
    problems.raise_if_any()
    return features


def import_sources(store, path, *, name_field: str | None = None, category_field: str | None = None,
                   src_crs: str | None = None, encoding: str | None = None, layer: str | None = None,
                   warn: Warn = None) -> int:
    """Import every source of a point file into the ledger, or none of them.

    Parameters are those of :func:`read_source_file` except ``categories``, which come from the
    workspace (seeded with the default list if it is empty).

    Returns
    -------
    int
        Number of sources imported.

    Raises
    ------
    ImportProblems
        Problems in the file; nothing was written.
    """
    with store.engine.begin() as connection:
        seed_source_categories(connection)
        features, problems = _parse(path, _active_categories(connection), name_field, category_field,
                                    src_crs, encoding, layer, warn)
        problems.raise_if_any()
        points = [shapely.Point(f.source.lon, f.source.lat) for f in features]
        bbox = tuple(shapely.total_bounds(points)) if points else None
        grids = read_grids(connection, levels=(1, 2, 3, 4), bbox=bbox)
        for feature, grid in zip(features, deepest_grids(points, grids)):
            if grid is None:
                if warn:
                    warn(f"{feature_label(feature.number, feature.source.name)}: at {feature.source.lon:.6f}, "
                         f"{feature.source.lat:.6f} lies outside every grid; imported without a grid")
            else:
                feature.source.grid_id = grid.id
        try:
            insert_sources(connection, [f.source for f in features])
        except IntegrityError as exc:
            raise ImportProblems([f"the database refused the sources, nothing was imported: {exc.orig}"]) from exc
    return len(features)


def deepest_grids(points: Sequence, grids: Sequence[Grid]) -> list[Grid | None]:
    """For each point, the deepest level-1..4 grid covering it (None if none does).

    Uses one STRtree query for all points. Where grids of one level touch, a point on the shared
    border goes to the grid that comes first in ``grids`` (``read_grids`` orders by code), so the
    answer does not depend on chance.
    """
    candidates = [g for g in grids if g.level < 5]
    best: list[int | None] = [None] * len(points)
    if not candidates or not len(points):
        return list(best)
    tree = shapely.STRtree([g.boundary for g in candidates])
    point_index, grid_index = tree.query(np.asarray(points, dtype=object), predicate="covered_by")
    for p, g in zip(point_index.tolist(), grid_index.tolist()):
        current = best[p]
        if current is None or (candidates[g].level, -g) > (candidates[current].level, -current):
            best[p] = g
    return [None if g is None else candidates[g] for g in best]


def _active_categories(connection: Connection) -> list[tuple[int, str, str]]:
    # Retired (inactive) categories keep their old sources but take no new ones.
    query = (select(source_categories.c.id, source_categories.c.code, source_categories.c.name)
             .where(source_categories.c.active.is_(True)).order_by(source_categories.c.sort_order))
    return [tuple(row) for row in connection.execute(query)]


def _parse(path, categories, name_field, category_field, src_crs, encoding, layer,
           warn) -> tuple[list[SourceFeature], Problems]:
    data = read_vector(path, src_crs=src_crs, encoding=encoding, layer=layer, warn=warn)
    problems = Problems()
    name_f = pick_field(data.fields, name_field, NAME_FIELDS, "--name-field", problems, required=True)
    category_f = pick_field(data.fields, category_field, CATEGORY_FIELDS, "--category-field", problems,
                            required=True)
    optional = {key: pick_field(data.fields, None, names, "", problems) for key, names in OPTIONAL_FIELDS.items()}
    problems.raise_if_any()

    lookup = {code.lower(): cid for cid, code, _ in categories} | {name: cid for cid, _, name in categories}
    geometries = shapely.force_2d(data.frame.geometry.to_numpy())
    # A one-point MultiPoint is what some tools write for every point layer: accept it as a point.
    single = shapely.get_num_geometries(geometries) == 1
    geometries = np.where((shapely.get_type_id(geometries) == 4) & single,
                          shapely.get_geometry(geometries, 0), geometries)
    records = data.frame.drop(columns=data.frame.geometry.name).to_dict("records")
    features, unknown_category = [], False
    for index, (record, raw, (point, crs_problem)) in enumerate(zip(records, geometries, to_lonlat(data, geometries))):
        number = index + 1
        name = text_value(record[name_f])
        category = text_value(record[category_f])
        values = {key: text_value(record[f]) if f else "" for key, f in optional.items()}
        errors = _check_text(name, values)
        category_id = lookup.get(category.lower(), lookup.get(category))
        if not category:
            errors.append(f"empty category in field {category_f!r}")
        elif category_id is None:
            errors.append(f"unknown category {category!r}")
            unknown_category = True
        if raw is None or raw.is_empty:
            errors.append(data.missing_geometry(number))
        elif raw.geom_type != "Point":
            errors.append(f"geometry is {raw.geom_type}; a pollution source is a Point")
        elif crs_problem:
            errors.append(crs_problem)
        for error in errors:
            problems.add(number, f"{feature_label(number, name)}: {error}")
        if errors:
            continue
        source = PollutionSource(
            id=None, name=name, category_id=category_id, lon=point.x, lat=point.y,
            address=values["address"], contact_name=values["contact_name"],
            contact_phone=values["contact_phone"], permit_no=values["permit_no"],
            status=_status(values["status"]), is_key=values["is_key"].lower() in _YES)
        features.append(SourceFeature(number, source))
    if unknown_category:
        listed = ", ".join(f"{code} {name}" for _, code, name in categories)
        problems.add(len(records) + 1, f"valid categories (code or name): {listed}")
    if not records:
        problems.add(0, f"{data.path}: the file holds no features")
    warn_outside_china(data, [shapely.Point(f.source.lon, f.source.lat) for f in features], warn)
    return features, problems


def _status(text: str) -> SourceStatus:
    for status in SourceStatus:
        if text in (status.value, status.name.lower(), status.name):
            return status
    return SourceStatus.OPERATING


def _check_text(name: str, values: dict[str, str]) -> list[str]:
    errors = []
    if not name:
        errors.append("empty name")
    for key, text in {"name": name, **values}.items():
        column = sources_table.c.get(key)
        limit = getattr(column.type, "length", None) if column is not None else None
        if limit and len(text) > limit:
            errors.append(f"{key} longer than {limit} characters")
    status = values["status"]
    if status and not any(status in (s.value, s.name.lower(), s.name) for s in SourceStatus):
        errors.append(f"unknown status {status!r}; use {'/'.join(s.value for s in SourceStatus)}")
    if values["is_key"].lower() not in _YES | _NO:
        errors.append(f"is_key {values['is_key']!r} is neither yes (是/1) nor no (否/0)")
    return errors
