"""Checking a grid file before import: the dry run that ``import-grids`` and the import dialog share.

:func:`preview_grids` reads a file and checks every feature (fields, geometry, CRS, codes,
parents) without writing anything; given a workspace it also checks codes and parents against
it. The result lists each feature of the file with its problems, so a dialog can show them row
by row and the command line can print them. ``gis.io.grids_io.import_grids`` runs the same
checks and writes only when there is no problem at all.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import shapely
from shapely.validation import explain_validity
from sqlalchemy import select

from gis.crs import geodesic_area_m2
from gis.domain import LEVEL_NAMES, LEVELS, Grid
from gis.io.vector import (
    ImportProblems, Problems, VectorData, Warn, feature_label, pick_field, read_vector, text_value, to_lonlat,
    warn_outside_china,
)
from gis.storage.schema import grids as grids_table

__all__ = ["CODE_FIELDS", "NAME_FIELDS", "PARENT_FIELDS", "GridFeature", "ImportPreview", "PreviewRow",
           "check_against_workspace", "preview_grids"]

NAME_FIELDS = ("name", "NAME", "名称", "网格名称")
# adcode: Amap/DataV district files; the administrative code is what grid codes start with.
CODE_FIELDS = ("code", "CODE", "编码", "网格编码", "adcode", "行政区划代码")
PARENT_FIELDS = ("parent_code", "parent", "PARENT", "上级编码", "上级网格编码")
SIDE_FIELDS = {"east": ("east", "东至"), "south": ("south", "南至"), "west": ("west", "西至"),
               "north": ("north", "北至")}


@dataclass(slots=True)
class GridFeature:
    """One checked feature: the grid to insert and the parent it names (``""`` for none)."""

    number: int
    grid: Grid
    parent_code: str = ""
    code_generated: bool = False


@dataclass(slots=True)
class PreviewRow:
    """One feature of the file as the import would take it; ``number`` counts from 1 in file order.

    ``code``, ``name`` and ``parent_code`` are the file's (or the generated code); ``feature`` is
    None when the feature failed the file's own checks, and ``problems`` are short ("empty name"):
    the row already says which feature.
    """

    number: int
    code: str
    name: str
    parent_code: str
    problems: list[str] = field(default_factory=list)
    feature: GridFeature | None = None

    @property
    def geometry(self):
        return self.feature.grid.boundary if self.feature else None

    @property
    def area_m2(self) -> float:
        return self.feature.grid.area_m2 if self.feature else 0.0


@dataclass
class ImportPreview:
    """What importing ``path`` would do: every feature, its problems, the problems of the file."""

    path: Path
    level: int
    fields: list[str] = field(default_factory=list)
    rows: list[PreviewRow] = field(default_factory=list)
    file_problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    noun: str = "feature"  # "placemark" for KML

    @property
    def ok(self) -> bool:
        """True when the import would write every feature."""
        return bool(self.rows) and not self.file_problems and not any(r.problems for r in self.rows)

    @property
    def problem_count(self) -> int:
        return len(self.file_problems) + sum(len(r.problems) for r in self.rows)

    @property
    def features(self) -> list[GridFeature]:
        """The features that passed the file's own checks, in file order."""
        return [r.feature for r in self.rows if r.feature is not None]

    def problem_lines(self) -> list[str]:
        """One line per problem, the file's first, each feature's named (``feature 3 (code name): …``)."""
        return self.file_problems + [f"{feature_label(r.number, r.code, r.name, noun=self.noun)}: {problem}"
                                     for r in self.rows for problem in r.problems]

    def raise_if_problems(self) -> None:
        if self.problem_count:
            raise ImportProblems(self.problem_lines())


def preview_grids(path, *, level: int, name_field: str | None = None, code_field: str | None = None,
                  parent_code_field: str | None = None, src_crs: str | None = None,
                  encoding: str | None = None, layer: str | None = None, store=None,
                  warn: Warn = None) -> ImportPreview:
    """Check a grid file as the import would, writing nothing.

    Parameters
    ----------
    path : str or Path
        GeoJSON, Shapefile, GeoPackage, KML or KMZ.
    level : int
        Level (1-5) of every grid in the file.
    name_field, code_field, parent_code_field : str, optional
        Attribute names; by default looked up among common names (``name``/``名称``…,
        ``code``/``编码``…, ``parent_code``/``上级编码``…). Without a code field, codes
        ``<parent code or G>-<n>`` are generated in file order and a note says so.
    src_crs : str, optional
        Overrides the file's CRS: ``gcj02``, ``bd09`` or ``EPSG:xxxx``.
    encoding : str, optional
        Shapefile attribute encoding; default ``.cpg``, else UTF-8, else GBK.
    layer : str, optional
        Layer of a multi-layer GeoPackage.
    store : gis.storage.store.Store, optional
        Also check codes and parents against this workspace (read only).
    warn : callable, optional
        Receives each note as it is found; the notes are also in ``ImportPreview.notes``.

    Returns
    -------
    ImportPreview
        Never raises for a problem in the file: problems are in the preview.
    """
    notes: list[str] = []

    def note(line: str) -> None:
        notes.append(line)
        if warn:
            warn(line)

    preview = ImportPreview(Path(path), level, notes=notes)
    if level not in LEVELS:
        levels = ", ".join(f"{n} {name}" for n, name in LEVEL_NAMES.items())
        preview.file_problems.append(f"--level {level}: grid levels are {levels}")
        return preview
    try:
        data = read_vector(path, src_crs=src_crs, encoding=encoding, layer=layer, warn=note)
    except ImportProblems as exc:
        preview.file_problems += exc.problems
        return preview
    preview.fields, preview.noun = data.fields, data.noun
    _check_file(preview, data, name_field, code_field, parent_code_field, note)
    if store is not None and not preview.file_problems:
        with store.engine.connect() as connection:
            check_against_workspace(preview, connection)
    return preview


def check_against_workspace(preview: ImportPreview, connection) -> None:
    """Codes must be new to the workspace, parents must be grids one level up; links ``parent_id``."""
    # Codes and levels only: the boundaries are not needed to check links.
    known = {row.code: (row.id, row.level) for row in
             connection.execute(select(grids_table.c.code, grids_table.c.id, grids_table.c.level))}
    level = preview.level
    for row in preview.rows:
        feature = row.feature
        if feature is None:
            continue
        code = feature.grid.code
        if code in known:
            hint = "; give --code-field" if feature.code_generated else ""
            what = "generated code" if feature.code_generated else "code"
            row.problems.append(f"{what} {code} already exists in the database{hint}")
        if not feature.parent_code:
            continue
        parent = known.get(feature.parent_code)
        if parent is None:
            row.problems.append(f"parent code {feature.parent_code} not found in the database")
        elif parent[1] != level - 1:
            row.problems.append(f"parent {feature.parent_code} is a level-{parent[1]} grid; "
                                f"a level-{level} grid needs a level-{level - 1} parent")
        else:
            feature.grid.parent_id = parent[0]


def _check_file(preview: ImportPreview, data: VectorData, name_field, code_field, parent_field, warn) -> None:
    level = preview.level
    problems = Problems()
    name_f = pick_field(data.fields, name_field, NAME_FIELDS, "--name-field", problems, required=True)
    code_f = pick_field(data.fields, code_field, CODE_FIELDS, "--code-field", problems)
    # Level-1 grids have no parent; a guessed "parent" column there is someone else's (DataV files
    # give every district its city as parent), so only an explicit one is checked.
    guessed = PARENT_FIELDS if level > 1 or parent_field else ()
    parent_f = pick_field(data.fields, parent_field, guessed, "--parent-code-field", problems)
    sides = {side: pick_field(data.fields, None, names, "", problems) for side, names in SIDE_FIELDS.items()}
    try:
        problems.raise_if_any()
    except ImportProblems as exc:
        preview.file_problems += exc.problems
        return

    geometries = shapely.force_2d(data.frame.geometry.to_numpy())
    lonlat = to_lonlat(data, geometries)
    records = data.frame.drop(columns=data.frame.geometry.name).to_dict("records")
    generated = Counter()
    first_number: dict[str, int] = {}
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
        row = PreviewRow(number, code, name, parent, _check_text(name, code, code_f, parent, level))
        if code and code in first_number:
            row.problems.append(f"code {code} duplicates {data.noun} {first_number[code]}")
        first_number.setdefault(code, number)
        geom, geom_errors = _check_geometry(raw, geom, crs_problem, level, data.missing_geometry(number))
        row.problems += geom_errors
        if not row.problems:
            grid = Grid(id=None, code=code, name=name, level=level, parent_id=None, boundary=geom,
                        area_m2=geodesic_area_m2(geom),
                        **{side: text_value(record[f]) if f else "" for side, f in sides.items()})
            row.feature = GridFeature(number, grid, parent, code_generated=not code_f)
        preview.rows.append(row)
    if not records:
        preview.file_problems.append(f"{data.path}: the file holds no {data.noun}s")
    if generated and warn:
        warn(f"{data.path.name} has no code field (looked for {', '.join(CODE_FIELDS)}): generated codes "
             f"{', '.join(f'{p}-1…{p}-{n}' if n > 1 else f'{p}-1' for p, n in generated.items())}; give "
             "--code-field to use the file's own codes")
    warn_outside_china(data, [f.grid.boundary for f in preview.features], warn)


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


def _check_geometry(raw, geom, crs_problem: str | None, level: int, missing: str) -> tuple[object, list[str]]:
    """Validate one feature; return the stored form (MultiPolygon, or Point at level 5)."""
    if raw is None or raw.is_empty:
        return None, [missing]
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
