"""Import and export of grid boundaries: GeoJSON, ESRI Shapefile and GeoPackage.

Import is all-or-nothing. Every feature is checked first (fields, geometry, CRS,
codes, parents) and each problem becomes one line naming the feature; only a
clean file is written, in one transaction. Features are numbered from 1 in file
order ("feature 3" is the third feature, whatever FID the format shows).

Coordinates are stored as CGCS2000 lon/lat. The file's own CRS (``.prj``,
GeoPackage SRS, GeoJSON ``crs``; GeoJSON without one is WGS84) is used unless
``src_crs`` overrides it. ``gcj02`` and ``bd09`` are needed for Amap/Tencent and
Baidu data, which those services publish labelled as WGS84.

Export writes EPSG:4490 with these fields (Shapefile names in brackets, because
the format cuts field names at 10 characters):

==============  ============  ================================================
field           [Shapefile]   content
==============  ============  ================================================
code            code          grid code
name            name          grid name
level           level         1-5
parent_code     parent        code of the parent grid, empty for none
east .. north   east .. north 四至 (what the grid borders on each side)
area_m2         area_m2       ellipsoidal area in m²
leader          lead_name     网格长 names, joined by "、"
leader_phone    lead_tel      their phones, same order
staff           staff_name    网格员 and 专职网格员 names, joined by "、"
staff_phone     staff_tel     their phones, same order
==============  ============  ================================================

Importing an exported file gives back the same grids: ``parent_code``/``parent``
and the 四至 fields are recognised automatically.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import geopandas
import pyogrio
import shapely
from shapely.validation import explain_validity
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from gis.crs import geodesic_area_m2
from gis.domain import LEVEL_NAMES, LEVELS, Grid, Role
from gis.io.vector import (
    ImportProblems, Problems, Warn, feature_label, pick_field, read_vector, text_value, to_lonlat,
    warn_outside_china,
)
from gis.storage.grids import insert_grids, read_grids
from gis.storage.people import current_staff
from gis.storage.schema import grids as grids_table

__all__ = ["ExportError", "GridFeature", "export_grids", "import_grids", "read_grid_file"]

NAME_FIELDS = ("name", "NAME", "名称", "网格名称")
# adcode: Amap/DataV district files; the administrative code is what grid codes start with.
CODE_FIELDS = ("code", "CODE", "编码", "网格编码", "adcode", "行政区划代码")
PARENT_FIELDS = ("parent_code", "parent", "PARENT", "上级编码", "上级网格编码")
SIDE_FIELDS = {"east": ("east", "东至"), "south": ("south", "南至"), "west": ("west", "西至"),
               "north": ("north", "北至")}

EXPORT_DRIVERS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG", ".shp": "ESRI Shapefile"}
SHP_NAMES = {"parent_code": "parent", "leader": "lead_name", "leader_phone": "lead_tel",
             "staff": "staff_name", "staff_phone": "staff_tel"}
# Index files of an older export would describe the old geometries; remove them with it.
_STALE_SHP_SIDECARS = (".qix", ".sbn", ".sbx", ".qpj", ".shp.xml")
_SHP_TEXT_BYTES = 254  # dBASE limit for a character field


class ExportError(ValueError):
    """An export was refused; nothing was written."""


@dataclass(slots=True)
class GridFeature:
    """One checked feature: the grid to insert and the parent it names (``""`` for none)."""

    number: int
    grid: Grid
    parent_code: str = ""
    code_generated: bool = False


# ---------------------------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------------------------

def read_grid_file(path, *, level: int, name_field: str | None = None, code_field: str | None = None,
                   parent_code_field: str | None = None, src_crs: str | None = None,
                   encoding: str | None = None, layer: str | None = None,
                   warn: Warn = None) -> list[GridFeature]:
    """Read and check a grid file without touching any database.

    Parameters
    ----------
    path : str or Path
        GeoJSON, Shapefile or GeoPackage.
    level : int
        Level (1-5) of every grid in the file.
    name_field, code_field, parent_code_field : str, optional
        Attribute names; by default looked up among common names (``name``/``名称``…,
        ``code``/``编码``…, ``parent_code``/``上级编码``…). Without a code field, codes
        ``<parent code or G>-<n>`` are generated in file order and ``warn`` says so.
    src_crs : str, optional
        Overrides the file's CRS: ``gcj02``, ``bd09`` or ``EPSG:xxxx``.
    encoding : str, optional
        Shapefile attribute encoding; default ``.cpg``, else UTF-8, else GBK.
    layer : str, optional
        Layer of a multi-layer GeoPackage.
    warn : callable, optional
        Receives notes that do not stop the import.

    Returns
    -------
    list of GridFeature
        Grids with lon/lat MultiPolygon (or, at level 5, Point) boundaries and areas; ``parent_id``
        is not set yet.

    Raises
    ------
    ImportProblems
        One line per problem found in the file.
    """
    features, problems = _parse(path, level, name_field, code_field, parent_code_field, src_crs,
                                encoding, layer, warn)
    problems.raise_if_any()
    return features


def import_grids(store, path, *, level: int, name_field: str | None = None, code_field: str | None = None,
                 parent_code_field: str | None = None, src_crs: str | None = None,
                 encoding: str | None = None, layer: str | None = None, warn: Warn = None) -> int:
    """Import every grid of a file into the workspace, or none of them.

    Parameters are those of :func:`read_grid_file`, plus the open ``store``. Codes are checked
    against the database too, and each parent code must name a grid at level ``level - 1``.

    Returns
    -------
    int
        Number of grids imported.

    Raises
    ------
    ImportProblems
        The file or the database check found problems; nothing was written.
    """
    features, problems = _parse(path, level, name_field, code_field, parent_code_field, src_crs,
                                encoding, layer, warn)
    with store.engine.begin() as connection:
        # Codes and levels only: the boundaries are not needed to check links.
        known = {row.code: (row.id, row.level) for row in
                 connection.execute(select(grids_table.c.code, grids_table.c.id, grids_table.c.level))}
        for feature in features:
            _link_parent(feature, level, known, problems)
        problems.raise_if_any()
        orphans = sum(1 for f in features if not f.parent_code)
        if level > 1 and orphans and warn:
            warn(f"{orphans} of {len(features)} grids have no parent grid")
        try:
            insert_grids(connection, [f.grid for f in features])
        except IntegrityError as exc:  # another user imported the same codes meanwhile
            raise ImportProblems([f"the database refused the grids, nothing was imported: {exc.orig}"]) from exc
    return len(features)


def _link_parent(feature: GridFeature, level: int, known: dict, problems: Problems) -> None:
    code = feature.grid.code
    label = feature_label(feature.number, code, feature.grid.name)
    if code in known:
        hint = "; give --code-field" if feature.code_generated else ""
        what = "generated code" if feature.code_generated else "code"
        problems.add(feature.number, f"{label}: {what} {code} already exists in the database{hint}")
    if not feature.parent_code:
        return
    parent = known.get(feature.parent_code)
    if parent is None:
        problems.add(feature.number, f"{label}: parent code {feature.parent_code} not found in the database")
    elif parent[1] != level - 1:
        problems.add(feature.number, f"{label}: parent {feature.parent_code} is a level-{parent[1]} grid; "
                                     f"a level-{level} grid needs a level-{level - 1} parent")
    else:
        feature.grid.parent_id = parent[0]


def _parse(path, level, name_field, code_field, parent_field, src_crs, encoding, layer,
           warn) -> tuple[list[GridFeature], Problems]:
    if level not in LEVELS:
        levels = ", ".join(f"{n} {name}" for n, name in LEVEL_NAMES.items())
        raise ImportProblems([f"--level {level}: grid levels are {levels}"])
    data = read_vector(path, src_crs=src_crs, encoding=encoding, layer=layer, warn=warn)
    problems = Problems()
    name_f = pick_field(data.fields, name_field, NAME_FIELDS, "--name-field", problems, required=True)
    code_f = pick_field(data.fields, code_field, CODE_FIELDS, "--code-field", problems)
    # Level-1 grids have no parent; a guessed "parent" column there is someone else's (DataV files
    # give every district its city as parent), so only an explicit one is checked.
    guessed = PARENT_FIELDS if level > 1 or parent_field else ()
    parent_f = pick_field(data.fields, parent_field, guessed, "--parent-code-field", problems)
    sides = {side: pick_field(data.fields, None, names, "", problems) for side, names in SIDE_FIELDS.items()}
    problems.raise_if_any()

    geometries = shapely.force_2d(data.frame.geometry.to_numpy())
    lonlat = to_lonlat(data, geometries)
    records = data.frame.drop(columns=data.frame.geometry.name).to_dict("records")
    generated = Counter()
    first_number: dict[str, int] = {}
    features = []
    for index, (record, raw, (geom, crs_problem)) in enumerate(zip(records, geometries, lonlat)):
        number = index + 1
        name = text_value(record[name_f])
        parent = _parent_code(record[parent_f]) if parent_f else ""
        if code_f:
            code = text_value(record[code_f])
        else:
            prefix = parent or "G"
            generated[prefix] += 1
            code = f"{prefix}-{generated[prefix]}"
        label = feature_label(number, code, name)
        errors = _check_text(name, code, code_f, parent, level)
        if code and code in first_number:
            errors.append(f"code {code} duplicates feature {first_number[code]}")
        first_number.setdefault(code, number)
        geom, geom_errors = _check_geometry(raw, geom, crs_problem, level)
        errors += geom_errors
        for error in errors:
            problems.add(number, f"{label}: {error}")
        if errors:
            continue
        grid = Grid(id=None, code=code, name=name, level=level, parent_id=None, boundary=geom,
                    area_m2=geodesic_area_m2(geom),
                    **{side: text_value(record[f]) if f else "" for side, f in sides.items()})
        features.append(GridFeature(number, grid, parent, code_generated=not code_f))
    if not records:
        problems.add(0, f"{data.path}: the file holds no features")
    if generated and warn:
        warn(f"{data.path.name} has no code field (looked for {', '.join(CODE_FIELDS)}): generated codes "
             f"{', '.join(f'{p}-1…{p}-{n}' if n > 1 else f'{p}-1' for p, n in generated.items())}; give "
             "--code-field to use the file's own codes")
    warn_outside_china(data, [f.grid.boundary for f in features], warn)
    return features, problems


def _parent_code(value) -> str:
    """The parent's code; DataV (阿里云 DataV, GCJ-02) files hold ``{"adcode": 140500}`` there."""
    if isinstance(value, dict):
        return text_value(value.get("adcode"))
    return text_value(value)


def _check_text(name: str, code: str, code_field: str | None, parent: str, level: int) -> list[str]:
    errors = []
    if not name:
        errors.append("empty name")
    elif len(name) > grids_table.c.name.type.length:
        errors.append(f"name longer than {grids_table.c.name.type.length} characters")
    if not code:
        errors.append(f"empty code in field {code_field!r}")
    elif len(code) > grids_table.c.code.type.length:
        errors.append(f"code {code} longer than {grids_table.c.code.type.length} characters")
    if parent and level == 1:
        errors.append(f"parent code {parent} given, but a level-1 grid has no parent")
    return errors


def _check_geometry(raw, geom, crs_problem: str | None, level: int) -> tuple[object, list[str]]:
    """Validate one feature; return the stored form (MultiPolygon, or Point at level 5)."""
    if raw is None or raw.is_empty:
        return None, ["empty or missing geometry"]
    allowed = ("Polygon", "MultiPolygon", "Point") if level == 5 else ("Polygon", "MultiPolygon")
    if raw.geom_type not in allowed:
        return None, [f"geometry is {raw.geom_type}; level-{level} grids need {' or '.join(allowed)}"]
    if not raw.is_valid:
        # Location in the file's own coordinates: that is what the user sees when fixing it.
        return None, [f"invalid geometry: {explain_validity(raw)}"]
    if crs_problem:
        return None, [crs_problem]
    if not geom.is_valid:  # the offset removal moved vertices enough to fold a ring
        return None, [f"geometry becomes invalid after conversion to lon/lat: {explain_validity(geom)}"]
    if geom.geom_type == "Polygon":
        geom = shapely.MultiPolygon([geom])
    return geom, []


# ---------------------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------------------

def export_grids(store, out, level: int | None = None, *, warn: Warn = None) -> int:
    """Write the workspace's grids (all, or one level) to a GeoJSON, GeoPackage or Shapefile.

    Parameters
    ----------
    store : gis.storage.store.Store
        Open workspace.
    out : str or Path
        Output file; the extension (``.geojson``/``.json``, ``.gpkg``, ``.shp``) picks the format.
        It is written to a temporary file first and renamed, so a failure leaves nothing behind.
    level : int, optional
        Only grids of this level.
    warn : callable, optional
        Receives notes, e.g. text the Shapefile format truncated.

    Returns
    -------
    int
        Number of grids written.

    Raises
    ------
    ExportError
        Unknown extension, missing directory, no grids, a Shapefile that would need to mix
        points and polygons, or writing failed.
    """
    out = Path(out)
    driver = EXPORT_DRIVERS.get(out.suffix.lower())
    if driver is None:
        raise ExportError(f"{out}: unknown extension {out.suffix or '(none)'!r}; use "
                          f"{', '.join(EXPORT_DRIVERS)}")
    if level is not None and level not in LEVELS:
        raise ExportError(f"--level {level}: grid levels are 1 to 5")
    if not out.parent.is_dir():
        raise ExportError(f"{out}: directory {out.parent} does not exist")
    frame = _grid_frame(store, level)
    if frame.empty:
        raise ExportError("no grids" + (f" at level {level}" if level else "") + " to export; nothing written")
    options = {"layer": "grids"}
    if driver == "GPKG":
        options["dataset_options"] = {"VERSION": "1.2"}  # QGIS 3.22 (GDAL 3.6) warns on 1.4
    elif driver == "ESRI Shapefile":
        frame = _shapefile_frame(frame, warn)
        options = {"encoding": "UTF-8"}  # also makes GDAL write the .cpg
    _write_atomically(frame, out, driver, options)
    return len(frame)


def _grid_frame(store, level: int | None) -> geopandas.GeoDataFrame:
    with store.engine.connect() as connection:
        grids = read_grids(connection, levels=None if level is None else [level])
        staff = current_staff(connection)
        codes = dict(connection.execute(select(grids_table.c.id, grids_table.c.code)).all())
    rows = []
    for grid in grids:
        people = staff.get(grid.id, [])
        leaders = [p for role, p in people if role == Role.LEADER]
        workers = [p for role, p in people if role in (Role.STAFF, Role.FULLTIME_STAFF)]
        rows.append({
            "code": grid.code, "name": grid.name, "level": grid.level,
            "parent_code": codes.get(grid.parent_id, ""), "east": grid.east, "south": grid.south,
            "west": grid.west, "north": grid.north, "area_m2": grid.area_m2,
            "leader": _join(p.name for p in leaders), "leader_phone": _join(p.phone for p in leaders),
            "staff": _join(p.name for p in workers), "staff_phone": _join(p.phone for p in workers),
        })
    columns = ["code", "name", "level", "parent_code", "east", "south", "west", "north", "area_m2",
               "leader", "leader_phone", "staff", "staff_phone"]
    return geopandas.GeoDataFrame(rows, columns=columns, geometry=[g.boundary for g in grids], crs="EPSG:4490")


def _join(values) -> str:
    values = list(values)
    # Keep empty phones in place so the n-th phone stays the n-th person's, unless none is known.
    return "、".join(values) if any(values) else ""


def _shapefile_frame(frame: geopandas.GeoDataFrame, warn: Warn) -> geopandas.GeoDataFrame:
    kinds = set(frame.geometry.geom_type.replace({"Polygon": "MultiPolygon"}))
    if len(kinds) > 1:
        raise ExportError("a Shapefile holds one geometry type, but these grids mix "
                          f"{' and '.join(sorted(kinds))} (level-5 points); export with --level or to .gpkg")
    frame = frame.rename(columns=SHP_NAMES)
    if warn:
        for column in frame.columns.drop(frame.geometry.name):
            if frame[column].dtype.kind in "OUT" or str(frame[column].dtype) == "str":
                too_long = frame.loc[frame[column].str.encode("utf-8").str.len() > _SHP_TEXT_BYTES, "code"]
                for code in too_long:
                    warn(f"grid {code}: field {column} is cut to {_SHP_TEXT_BYTES} bytes by the Shapefile "
                         "format; export to .gpkg to keep the full text")
    return frame


def _write_atomically(frame, out: Path, driver: str, options: dict) -> None:
    """Write into a temporary directory beside ``out``, then rename every file into place."""
    # Same directory, so os.replace is a rename on one file system; same base name, so a
    # Shapefile's sidecars come out named as they must be.
    workdir = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # truncation, already reported by warn
                pyogrio.write_dataframe(frame, workdir / out.name, driver=driver, **options)
        except Exception as exc:  # GDAL or the disk: the message is all the user can act on
            raise ExportError(f"cannot write {out}: {exc}; nothing written") from exc
        written = sorted(workdir.iterdir(), key=lambda p: p.name == out.name)  # main file last
        if driver == "ESRI Shapefile":
            cpg = workdir / (out.stem + ".cpg")
            if not cpg.exists():
                cpg.write_text("UTF-8", encoding="ascii")
                written.insert(0, cpg)
            for suffix in _STALE_SHP_SIDECARS:
                out.with_name(out.stem + suffix).unlink(missing_ok=True)
        for path in written:
            os.replace(path, out.with_name(path.name))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
