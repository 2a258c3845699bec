"""Reading vector files (GeoJSON, Shapefile, GeoPackage, KML/KMZ) into lon/lat geometries, with the encoding and CRS rules Chinese offices need."""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas
import pandas
import pyogrio

from gis.crs import out_of_china, parse_src_crs, to_wgs84
from gis.io.kml import KML_SUFFIXES, KmlError, read_kml

__all__ = ["ImportProblems", "Problems", "VectorData", "Warn", "feature_label", "pick_field", "read_vector",
           "text_value", "to_lonlat", "warn_outside_china"]

Warn = Callable[[str], None] | None

SUPPORTED_DRIVERS = ("GeoJSON", "ESRI Shapefile", "GPKG")
# Already CGCS2000/WGS84 lon/lat: skip pyproj so stored coordinates are the file's, bit for bit.
_LONLAT_AUTHORITIES = {("EPSG", "4326"), ("EPSG", "4490"), ("OGC", "CRS84")}
_FALLBACK_ENCODING = "GB18030"  # superset of GBK: decodes every GBK file and a few more characters


class ImportProblems(ValueError):
    """A file cannot be imported; ``problems`` holds one line per problem, in file order."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class Problems:
    """Problem lines keyed by feature number (0 for the file itself), reported in file order."""

    def __init__(self):
        self._lines: list[tuple[int, str]] = []

    def add(self, number: int, line: str) -> None:
        self._lines.append((number, line))

    def raise_if_any(self) -> None:
        if self._lines:
            raise ImportProblems(line for _, line in sorted(self._lines, key=lambda item: item[0]))


@dataclass
class VectorData:
    """A layer read into memory, with where its coordinates come from."""

    path: Path
    frame: geopandas.GeoDataFrame
    src: str | None  # what to give to_wgs84; None when already lon/lat
    origin: str  # for messages: "--src-crs gcj02", "the file's CRS EPSG:4547"…
    noun: str = "feature"  # what the file calls a feature: "placemark" in KML
    unreadable: dict[int, str] = field(default_factory=dict)  # row → why its geometry could not be read

    @property
    def fields(self) -> list[str]:
        return [c for c in self.frame.columns if c != self.frame.geometry.name]

    def missing_geometry(self, number: int) -> str:
        """Why feature ``number`` (from 1) has no geometry."""
        return self.unreadable.get(number - 1, "empty or missing geometry")


def read_vector(path, *, src_crs: str | None = None, encoding: str | None = None,
                layer: str | None = None, warn: Warn = None) -> VectorData:
    """Read one layer of a GeoJSON, Shapefile or GeoPackage, or every placemark of a KML/KMZ.

    Shapefile text is decoded with ``encoding`` if given, else as its ``.cpg`` says, else as
    UTF-8, falling back to GBK: Chinese offices often ship GBK files without a ``.cpg``. KML is
    lon/lat unless ``src_crs`` says otherwise (奥维 can export GCJ-02).

    Raises
    ------
    ImportProblems
        Bad ``src_crs`` or ``encoding``, missing or unreadable file, unsupported format,
        ambiguous layer.
    """
    path = Path(path)
    problems = Problems()
    src = None
    if src_crs:
        try:
            src = parse_src_crs(src_crs)
        except ValueError as exc:
            problems.add(0, f"--src-crs: {exc}")
    if encoding:
        try:
            "".encode(encoding)
        except LookupError:
            problems.add(0, f"--encoding {encoding}: unknown encoding (e.g. gbk, utf-8)")
    if not path.exists():
        problems.add(0, f"{path}: no such file")
    problems.raise_if_any()
    if path.suffix.lower() in KML_SUFFIXES:
        return _read_kml(path, src, src_crs, layer, warn)
    try:
        layer = _choose_layer(path, layer)
        driver = pyogrio.read_info(path, layer=layer)["driver"]
        if driver not in SUPPORTED_DRIVERS:
            raise ImportProblems([f"{path}: {driver} files are not supported; use GeoJSON, Shapefile, "
                                  "GeoPackage or KML/KMZ (.kml, .kmz)"])
        frame = _read_frame(path, layer, driver, encoding, warn)
    except ImportProblems:
        raise
    except Exception as exc:  # GDAL's messages are clear enough; keep the first line
        message = str(exc).split("\n")[0].split("; It might help")[0]
        raise ImportProblems([f"{path}: cannot read it as GeoJSON, Shapefile or GeoPackage: {message}"]) from exc
    if src_crs:
        return VectorData(path, frame, src, f"--src-crs {src_crs}")
    if frame.crs is None:
        return VectorData(path, frame, None, "the file has no CRS, lon/lat assumed")
    authority = frame.crs.to_authority()
    shown = ":".join(authority) if authority else frame.crs.name
    try:
        src = None if authority in _LONLAT_AUTHORITIES else parse_src_crs(frame.crs.to_wkt())
    except ValueError as exc:
        raise ImportProblems([f"{path}: its CRS {shown} cannot be used ({exc}); give --src-crs"]) from exc
    return VectorData(path, frame, src, f"the file's CRS {shown}")


def _read_kml(path: Path, src: str | None, src_crs: str | None, layer: str | None, warn: Warn) -> VectorData:
    if layer is not None:
        raise ImportProblems([f"--layer {layer}: a KML file is read whole; each placemark's folder is in the "
                              "field 'folder'"])
    try:
        frame, unreadable = read_kml(path, warn=warn)
    except KmlError as exc:
        raise ImportProblems([str(exc)]) from exc
    origin = f"--src-crs {src_crs}" if src_crs else "KML (WGS84 lon/lat)"
    return VectorData(path, frame, src, origin, noun="placemark", unreadable=unreadable)


def _choose_layer(path: Path, layer: str | None) -> str:
    layers = pyogrio.list_layers(path)
    names = [str(name) for name, _ in layers]
    if layer is not None:
        if layer not in names:
            raise ImportProblems([f"{path}: no layer {layer!r}; layers: {', '.join(names)}"])
        return layer
    # QGIS stores styles as a table without geometry in the same GeoPackage: not a candidate.
    spatial = [str(name) for name, kind in layers if kind is not None]
    if len(spatial) > 1:
        raise ImportProblems([f"{path} holds {len(spatial)} layers ({', '.join(spatial)}); "
                              "choose one with --layer"])
    return (spatial or names)[0]


def _read_frame(path: Path, layer: str, driver: str, encoding: str | None, warn: Warn):
    if driver != "ESRI Shapefile" or encoding or _has_sidecar(path, ".cpg"):
        # Explicit encodings only matter for Shapefiles; GeoJSON and GeoPackage are UTF-8.
        return pyogrio.read_dataframe(path, layer=layer, encoding=encoding if driver == "ESRI Shapefile" else None)
    try:
        return pyogrio.read_dataframe(path, layer=layer, encoding="UTF-8")
    except UnicodeDecodeError:
        pass
    try:
        frame = pyogrio.read_dataframe(path, layer=layer, encoding=_FALLBACK_ENCODING)
    except UnicodeDecodeError as exc:
        raise ImportProblems([f"{path}: attribute text is neither UTF-8 nor GBK and there is no .cpg; "
                              "give --encoding"]) from exc
    if warn:
        warn(f"{path.name}: no .cpg and the text is not UTF-8, read as GBK (give --encoding if that is wrong)")
    return frame


def _has_sidecar(path: Path, suffix: str) -> bool:
    return any(p.stem == path.stem and p.suffix.lower() == suffix for p in path.parent.iterdir())


def to_lonlat(data: VectorData, geometries) -> list[tuple[object, str | None]]:
    """Convert 2-D geometries to lon/lat; per feature ``(geometry, None)`` or ``(None, problem)``."""
    if data.src is None:
        converted = list(geometries)
    else:
        try:
            converted = list(to_wgs84(geometries, data.src))
        except ValueError:  # one bad feature spoils the batch: redo one by one to name it
            converted = []
            for geom in geometries:
                try:
                    converted.append(to_wgs84(geom, data.src))
                except ValueError as exc:
                    converted.append(f"cannot convert from {data.origin}: {exc}")
    results = []
    for geom in converted:
        if isinstance(geom, str):
            results.append((None, geom))
            continue
        if geom is None or geom.is_empty:  # reported by the caller, which knows what it expects
            results.append((geom, None))
            continue
        minx, miny, maxx, maxy = geom.bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):  # also catches NaN/inf
            results.append((None, f"coordinates out of lon/lat range after conversion "
                                  f"(x {minx:.6g}…{maxx:.6g}, y {miny:.6g}…{maxy:.6g}; {data.origin}): "
                                  "a projected file needs --src-crs EPSG:xxxx"))
        else:
            results.append((geom, None))
    return results


def warn_outside_china(data: VectorData, geometries, warn: Warn) -> None:
    """One note when lon/lat features lie outside China: usually a wrong or missing CRS."""
    if not warn or not geometries:
        return
    centres = [g.envelope.centroid for g in geometries]
    outside = out_of_china([c.x for c in centres], [c.y for c in centres])
    if outside.any():
        warn(f"{int(outside.sum())} of {len(geometries)} features lie outside China; check the CRS "
             f"({data.origin})")


def pick_field(fields: list[str], given: str | None, candidates, option: str, problems: Problems,
               required: bool = False) -> str | None:
    """The attribute to use: ``given`` if it exists, else the first known name present."""
    available = ", ".join(fields) or "(none)"
    if given:
        if given in fields:
            return given
        problems.add(0, f"{option} {given}: no such field; available fields: {available}")
        return None
    lowered = {f.lower(): f for f in fields}
    for candidate in candidates:
        match = candidate if candidate in fields else lowered.get(candidate.lower())
        if match:
            return match
    if required:
        what = option.removeprefix("--").removesuffix("-field")
        problems.add(0, f"no {what} field (looked for {', '.join(candidates)}); give {option}; "
                        f"available fields: {available}")
    return None


def text_value(value) -> str:
    """Attribute value as stripped text; ``""`` for null. Whole floats lose the ``.0``."""
    if value is None:
        return ""
    if isinstance(value, dict):  # GeoJSON object properties
        return json.dumps(value, ensure_ascii=False)
    if not pandas.api.types.is_scalar(value):  # GDAL list fields (e.g. DataV "center")
        return ", ".join(text_value(v) for v in value)
    if pandas.isna(value):  # pandas marks missing numbers and strings as NaN
        return ""
    if isinstance(value, float) and value.is_integer():  # codes in an int column that has nulls
        return str(int(value))
    return str(value).strip()


def feature_label(number: int, *parts: str, noun: str = "feature") -> str:
    shown = " ".join(p for p in parts if p)
    return f"{noun} {number} ({shown})" if shown else f"{noun} {number}"
