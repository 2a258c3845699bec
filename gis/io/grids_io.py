"""Import and export of grid boundaries: GeoJSON, ESRI Shapefile, GeoPackage and KML/KMZ.

Import is all-or-nothing. Every feature is checked first (fields, geometry, CRS,
codes, parents; :mod:`gis.io.grid_preview`, the same dry run the import dialog
shows) and each problem becomes one line naming the feature; only a clean file is
written, in one transaction. Features are numbered from 1 in file order ("feature 3"
is the third feature, whatever FID the format shows; "placemark 3" in a KML).

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

KML/KMZ export (:mod:`gis.io.kml`) has one folder per level and one placemark per grid, named
after it, with these fields as ExtendedData and a readable description (code, 四至, people). KML
is lon/lat by definition; the CGCS2000 coordinates are written as they are (CGCS2000 and WGS84
differ by centimetres, as everywhere else in this package).

Importing an exported file gives back the same grids: ``parent_code``/``parent``
and the 四至 fields are recognised automatically.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from pathlib import Path

import geopandas
import pyogrio
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from gis.domain import LEVELS, Role
from gis.io.grid_preview import GridFeature, ImportPreview, check_against_workspace, preview_grids
from gis.io.kml import write_kml
from gis.io.vector import ImportProblems, Warn
from gis.storage.grids import insert_grids, read_grids
from gis.storage.people import current_staff
from gis.storage.schema import grids as grids_table

__all__ = ["ExportError", "GridFeature", "ImportPreview", "export_grids", "import_grids", "preview_grids",
           "read_grid_file"]

EXPORT_DRIVERS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG", ".shp": "ESRI Shapefile",
                  ".kml": "KML", ".kmz": "KMZ"}
SHP_NAMES = {"parent_code": "parent", "leader": "lead_name", "leader_phone": "lead_tel",
             "staff": "staff_name", "staff_phone": "staff_tel"}
# Index files of an older export would describe the old geometries; remove them with it.
_STALE_SHP_SIDECARS = (".qix", ".sbn", ".sbx", ".qpj", ".shp.xml")
_SHP_TEXT_BYTES = 254  # dBASE limit for a character field


class ExportError(ValueError):
    """An export was refused; nothing was written."""


# ---------------------------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------------------------

def read_grid_file(path, *, level: int, name_field: str | None = None, code_field: str | None = None,
                   parent_code_field: str | None = None, src_crs: str | None = None,
                   encoding: str | None = None, layer: str | None = None,
                   warn: Warn = None) -> list[GridFeature]:
    """Read and check a grid file without touching any database.

    Parameters are those of :func:`gis.io.grid_preview.preview_grids` (without ``store``).

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
    preview = preview_grids(path, level=level, name_field=name_field, code_field=code_field,
                            parent_code_field=parent_code_field, src_crs=src_crs, encoding=encoding,
                            layer=layer, warn=warn)
    preview.raise_if_problems()
    return preview.features


def import_grids(store, path, *, level: int, name_field: str | None = None, code_field: str | None = None,
                 parent_code_field: str | None = None, src_crs: str | None = None,
                 encoding: str | None = None, layer: str | None = None, warn: Warn = None) -> int:
    """Import every grid of a file into the workspace, or none of them.

    Parameters are those of :func:`read_grid_file`, plus the open ``store``. Codes are checked
    against the database too, and each parent code must name a grid at level ``level - 1``:
    the checks of :func:`gis.io.grid_preview.preview_grids`, repeated inside the writing
    transaction.

    Returns
    -------
    int
        Number of grids imported.

    Raises
    ------
    ImportProblems
        The file or the database check found problems; nothing was written.
    """
    preview = preview_grids(path, level=level, name_field=name_field, code_field=code_field,
                            parent_code_field=parent_code_field, src_crs=src_crs, encoding=encoding,
                            layer=layer, warn=warn)
    if preview.file_problems:
        preview.raise_if_problems()
    with store.engine.begin() as connection:
        check_against_workspace(preview, connection)
        preview.raise_if_problems()
        features = preview.features
        orphans = sum(1 for f in features if not f.parent_code)
        if level > 1 and orphans and warn:
            warn(f"{orphans} of {len(features)} grids have no parent grid")
        try:
            insert_grids(connection, [f.grid for f in features])
        except IntegrityError as exc:  # another user imported the same codes meanwhile
            raise ImportProblems([f"the database refused the grids, nothing was imported: {exc.orig}"]) from exc
    return len(features)


# ---------------------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------------------

def export_grids(store, out, level: int | None = None, *, warn: Warn = None) -> int:
    """Write the workspace's grids (all, or one level) to a GeoJSON, GeoPackage, Shapefile or KML/KMZ.

    Parameters
    ----------
    store : gis.storage.store.Store
        Open workspace.
    out : str or Path
        Output file; the extension (``.geojson``/``.json``, ``.gpkg``, ``.shp``, ``.kml``, ``.kmz``)
        picks the format.
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
    if driver in ("KML", "KMZ"):
        _write_atomically(out, lambda path: write_kml(frame, path))
        return len(frame)
    options = {"layer": "grids"}
    if driver == "GPKG":
        options["dataset_options"] = {"VERSION": "1.2"}  # QGIS 3.22 (GDAL 3.6) warns on 1.4
    elif driver == "ESRI Shapefile":
        frame = _shapefile_frame(frame, warn)
        options = {"encoding": "UTF-8"}  # also makes GDAL write the .cpg

    def write(path: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # truncation, already reported by warn
            pyogrio.write_dataframe(frame, path, driver=driver, **options)

    _write_atomically(out, write)
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


def _write_atomically(out: Path, write) -> None:
    """``write(path)`` into a temporary directory beside ``out``, then rename every file into place."""
    # Same directory, so os.replace is a rename on one file system; same base name, so a
    # Shapefile's sidecars come out named as they must be.
    workdir = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        try:
            write(workdir / out.name)
        except Exception as exc:  # GDAL or the disk: the message is all the user can act on
            raise ExportError(f"cannot write {out}: {exc}; nothing written") from exc
        written = sorted(workdir.iterdir(), key=lambda p: p.name == out.name)  # main file last
        if out.suffix.lower() == ".shp":
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
