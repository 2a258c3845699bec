"""What the import dialog shows before anything is written: every feature, its problems, the result.

The checks are exactly ``import-grids``' (gis.io.grids_io), run without writing: the file's own
checks per feature, then codes and parents against the workspace. KML/KMZ (Google Earth, 奥维)
are read with GDAL's LIBKML driver and handed over as GeoJSON (KML is always WGS84 lon/lat).
No Qt here.
"""
from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

KML_SUFFIXES = (".kml", ".kmz")
# LIBKML's columns that say nothing about a grid.
_KML_NOISE = ("id", "description", "timestamp", "begin", "end", "altitudeMode", "tessellate", "extrude",
              "visibility", "drawOrder", "icon", "snippet")
_FEATURE = re.compile(r"^feature \d+(?: \(.*?\))?: ")


@dataclass
class Preview:
    """The outcome of checking a file: ``rows`` one per feature of the file, in file order."""

    fields: list[str]
    rows: list[dict] = field(default_factory=list)   # number, code, name, parent, area_m2, problems, geometry
    file_problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.file_problems and not any(r["problems"] for r in self.rows)

    @property
    def problem_count(self) -> int:
        return len(self.file_problems) + sum(len(r["problems"]) for r in self.rows)


def readable_path(path, workdir: Path) -> Path:
    """The file itself, or for KML/KMZ a GeoJSON copy of its polygons (all folders together)."""
    import geopandas
    import pandas
    import pyogrio
    import shapely

    path = Path(path)
    if path.suffix.lower() not in KML_SUFFIXES:
        return path
    if path.suffix.lower() == ".kmz":
        path = _unpack_kmz(path, workdir)
    frames = []
    for name, _kind in pyogrio.list_layers(path):
        frame = pyogrio.read_dataframe(path, layer=str(name))
        if len(frame):
            frames.append(frame)
    if not frames:
        raise ValueError(f"{path.name}: no placemarks found")
    frame = geopandas.GeoDataFrame(pandas.concat(frames, ignore_index=True), crs="EPSG:4326")
    frame = frame.drop(columns=[c for c in _KML_NOISE if c in frame.columns])
    frame = frame.rename(columns={"Name": "name", "Description": "description"})
    frame = frame.set_geometry(shapely.force_2d(frame.geometry.to_numpy()), crs="EPSG:4326")
    out = workdir / (path.stem + ".geojson")
    pyogrio.write_dataframe(frame, out, driver="GeoJSON")
    return out


def _unpack_kmz(path: Path, workdir: Path) -> Path:
    """The KML inside a KMZ (LIBKML reads a KMZ directly but loses ExtendedData fields there)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.lower().endswith(".kml")]
            if not names:
                raise ValueError(f"{path.name}: the KMZ holds no .kml document")
            name = "doc.kml" if "doc.kml" in names else names[0]
            out = workdir / (path.stem + ".kml")
            out.write_bytes(archive.read(name))
    except zipfile.BadZipFile as exc:
        raise ValueError(f"{path.name}: not a KMZ (zip) file") from exc
    return out


def preview_grid_file(store, path, *, level: int, name_field: str | None = None, code_field: str | None = None,
                      parent_code_field: str | None = None, src_crs: str | None = None,
                      encoding: str | None = None) -> Preview:
    """Check a grid file as ``import_grids`` would, against ``store``, writing nothing."""
    from sqlalchemy import select

    from gis.io import grids_io
    from gis.io.vector import ImportProblems, read_vector
    from gis.storage.schema import grids as grids_table

    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="envgrid-import-") as workdir:
        try:
            readable = readable_path(path, Path(workdir))
            data = read_vector(readable, src_crs=src_crs, encoding=encoding, warn=notes.append)
        except (ImportProblems, ValueError) as exc:
            lines = exc.problems if isinstance(exc, ImportProblems) else [str(exc)]
            return Preview([], file_problems=list(lines), notes=notes)
        fields = data.fields
        records = data.frame.drop(columns=data.frame.geometry.name).to_dict("records")
        try:
            # grids_io's own checks, without its write (it has no public dry run yet).
            features, problems = grids_io._parse(readable, level, name_field, code_field, parent_code_field,
                                                 src_crs, encoding, None, notes.append)
        except ImportProblems as exc:
            return Preview(fields, file_problems=list(exc.problems), notes=notes)
        with store.engine.connect() as connection:
            known = {row.code: (row.id, row.level) for row in
                     connection.execute(select(grids_table.c.code, grids_table.c.id, grids_table.c.level))}
        for feature in features:
            grids_io._link_parent(feature, level, known, problems)
    by_number: dict[int, list[str]] = {}
    file_problems = []
    for number, line in problems._lines:
        if number == 0:
            file_problems.append(line)
        else:
            by_number.setdefault(number, []).append(_short(line))
    good = {f.number: f for f in features}
    def key(given, names):
        return given or next((f for f in names if f in fields), None)

    def raw(record, field) -> str:
        value = record.get(field) if field else None
        return "" if value is None or value != value else str(value)  # NaN: an empty cell

    name_key, code_key = key(name_field, grids_io.NAME_FIELDS), key(code_field, grids_io.CODE_FIELDS)
    parent_key = key(parent_code_field, grids_io.PARENT_FIELDS)
    rows = []
    for number, record in enumerate(records, start=1):
        feature = good.get(number)
        rows.append({
            "number": number,
            "code": feature.grid.code if feature else raw(record, code_key),
            "name": feature.grid.name if feature else raw(record, name_key),
            "parent": feature.parent_code if feature else raw(record, parent_key),
            "area_m2": feature.grid.area_m2 if feature else 0.0,
            "problems": by_number.get(number, []),
            "geometry": feature.grid.boundary if feature else None,
        })
    return Preview(fields, rows, file_problems, notes)


def _short(line: str) -> str:
    """``feature 3 (code X, name Y): empty name`` → ``empty name`` (the row already says which)."""
    return _FEATURE.sub("", line, count=1)


def import_previewed(store, path, **options) -> int:
    """Import for real (all or nothing), KML/KMZ included; raises ImportProblems like import-grids."""
    from gis.io.grids_io import import_grids

    with tempfile.TemporaryDirectory(prefix="envgrid-import-") as workdir:
        return import_grids(store, readable_path(path, Path(workdir)), **options)
