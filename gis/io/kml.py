"""KML and KMZ, as Google Earth and 奥维互动地图 write them: read placemarks, write grids.

Read: every Placemark of the document in file order, whatever folder it sits in, becomes one
row: its ``name``, its ``description`` and ``folder`` (the path of folders above it, ``城区/东街街道``)
when any placemark has one, and one column per ExtendedData field (``<Data name>`` and
``<SimpleData name>``), so a code or parent code kept there can be mapped like any attribute.
Polygons keep their holes; a MultiGeometry of polygons becomes a MultiPolygon. A placemark whose
geometry cannot be read gets ``None`` and the reason, for the caller to report against it.

Write: one folder per grid level, one placemark per grid named after it, with a description a
person reads (code, 四至, leaders and staff) and the same values as ExtendedData, which is what
makes an exported file import again unchanged.

KML coordinates are WGS84 lon/lat by definition; KMZ is a zip holding the KML (``doc.kml``).
Plain ElementTree rather than GDAL: GDAL's two KML drivers lose ExtendedData in a KMZ, split
folders into layers and drop a placemark they cannot parse without saying which.
"""
from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import geopandas
import shapely

from gis.domain import LEVEL_NAMES
from gis.palettes import GRID_OUTLINES

__all__ = ["KML_SUFFIXES", "KmlError", "read_kml", "write_kml"]

KML_SUFFIXES = (".kml", ".kmz")
KML_NS = "http://www.opengis.net/kml/2.2"
_BUILT_IN = ("name", "description", "folder", "geometry")
_DECLARATION = re.compile(r"""^\s*<\?xml[^>]*?encoding=["']([A-Za-z0-9._-]+)["'][^>]*\?>""")
_FALLBACK_ENCODING = "GB18030"  # as for Shapefiles: old Chinese tools write GBK without saying so

# Export: what the description and ExtendedData say, in this order (column, label).
EXPORT_FIELDS = (("code", "网格编码"), ("level", "网格级别"), ("parent_code", "上级网格编码"),
                 ("east", "东至"), ("south", "南至"), ("west", "西至"), ("north", "北至"),
                 ("leader", "网格长"), ("leader_phone", "网格长电话"), ("staff", "网格员"),
                 ("staff_phone", "网格员电话"), ("area_m2", "面积(㎡)"))


class KmlError(ValueError):
    """The file is not a KML document (or a KMZ holding one); nothing was read."""


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------

def read_kml(path, warn=None) -> tuple[geopandas.GeoDataFrame, dict[int, str]]:
    """Every placemark of a KML or KMZ file, in document order.

    Returns
    -------
    frame : GeoDataFrame
        One row per placemark, EPSG:4326, 2-D geometries (``None`` where unreadable).
    unreadable : dict
        Row index → why that placemark has no geometry.

    Raises
    ------
    KmlError
        Not a zip (KMZ), no KML inside, not XML, not KML, or an encoding that cannot be decoded.
    """
    path = Path(path)
    root = _parse(_document_bytes(path), path, warn)
    rows: list[dict] = []
    geometries: list = []
    unreadable: dict[int, str] = {}
    for placemark, folders in _placemarks(root, (), top=True):
        record = {"name": _text(placemark, "name")}
        if (description := _text(placemark, "description")):
            record["description"] = description
        if folders:
            record["folder"] = "/".join(folders)
        for key, value in _extended_data(placemark):
            record[f"data_{key}" if key in _BUILT_IN else key] = value
        try:
            geometry = _geometry_of(placemark)
        except ValueError as exc:
            unreadable[len(rows)] = str(exc)
            geometry = None
        rows.append(record)
        geometries.append(geometry)
    columns = list(dict.fromkeys(key for record in rows for key in record)) or ["name"]
    # Keep the built-in columns first, the file's own fields after them in first-seen order.
    columns = [c for c in _BUILT_IN if c in columns] + [c for c in columns if c not in _BUILT_IN]
    frame = geopandas.GeoDataFrame([[record.get(c) for c in columns] for record in rows], columns=columns,
                                   geometry=geopandas.GeoSeries(geometries, crs="EPSG:4326"), crs="EPSG:4326")
    return frame, unreadable


def _document_bytes(path: Path) -> bytes:
    if path.suffix.lower() != ".kmz":
        return path.read_bytes()
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.lower().endswith(".kml")]
            if not names:
                raise KmlError(f"{path}: the KMZ holds no .kml document")
            # Google Earth reads doc.kml, else the first .kml at the top of the archive.
            top = [n for n in names if "/" not in n]
            return archive.read("doc.kml" if "doc.kml" in names else (top or names)[0])
    except zipfile.BadZipFile as exc:
        raise KmlError(f"{path}: not a KMZ file (a KMZ is a zip archive): {exc}") from exc


def _parse(data: bytes, path: Path, warn) -> ET.Element:
    text = _decode(data, path, warn)
    try:
        root = ET.fromstring(_DECLARATION.sub("", text, count=1))
    except ET.ParseError as exc:
        raise KmlError(f"{path}: not a readable KML document: {exc}") from exc
    if _local(root) != "kml":
        raise KmlError(f"{path}: not a KML document (its root element is <{_local(root)}>, not <kml>)")
    return root


def _decode(data: bytes, path: Path, warn) -> str:
    """The document as text. expat only knows single-byte encodings, so decode here, in Python."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    declared = _DECLARATION.match(data[:200].decode("latin-1"))
    encoding = declared[1] if declared else "utf-8-sig"
    try:
        return data.decode(encoding)
    except LookupError as exc:
        raise KmlError(f"{path}: declares the unknown encoding {encoding!r}") from exc
    except UnicodeDecodeError as exc:
        if declared:
            raise KmlError(f"{path}: the text is not valid {encoding} as the file declares ({exc})") from exc
    try:
        text = data.decode(_FALLBACK_ENCODING)
    except UnicodeDecodeError as exc:
        raise KmlError(f"{path}: the text is neither UTF-8 nor GBK") from exc
    if warn:
        warn(f"{path.name}: no encoding declared and the text is not UTF-8, read as GBK")
    return text


def _local(element: ET.Element) -> str:
    """Tag without its namespace: KML 2.0-2.2, gx: and namespace-less files alike."""
    return element.tag.rpartition("}")[2] if isinstance(element.tag, str) else ""


def _child(element: ET.Element, name: str) -> ET.Element | None:
    return next((c for c in element if _local(c) == name), None)


def _text(element: ET.Element, name: str) -> str:
    child = _child(element, name)
    return (child.text or "").strip() if child is not None else ""


def _placemarks(element: ET.Element, folders: tuple[str, ...], top: bool = False):
    """(placemark, folder names) in document order; the outermost Document is not a folder."""
    for child in element:
        kind = _local(child)
        if kind == "Placemark":
            yield child, folders
        elif kind in ("Document", "Folder"):
            inner = folders if top and kind == "Document" else (*folders, _text(child, "name") or "(未命名)")
            yield from _placemarks(child, inner, top=top and kind == "kml")


def _extended_data(placemark: ET.Element):
    data = _child(placemark, "ExtendedData")
    if data is None:
        return
    for item in data.iter():
        kind = _local(item)
        if kind == "Data" and item.get("name"):
            yield item.get("name"), _text(item, "value")
        elif kind == "SimpleData" and item.get("name"):
            yield item.get("name"), (item.text or "").strip()


_GEOMETRY_TAGS = ("Polygon", "MultiGeometry", "Point", "LineString", "LinearRing", "Track", "MultiTrack", "Model")


def _geometry_of(placemark: ET.Element):
    element = next((c for c in placemark if _local(c) in _GEOMETRY_TAGS), None)
    return None if element is None else _geometry(element)


def _geometry(element: ET.Element):
    kind = _local(element)
    if kind == "Polygon":
        return _polygon(element)
    if kind == "MultiGeometry":
        parts = [_geometry(c) for c in element if _local(c) in _GEOMETRY_TAGS]
        parts = [p for part in parts if part is not None for p in shapely.get_parts(part)]
        if not parts:
            return None
        if len(parts) == 1:
            return parts[0]
        kinds = {p.geom_type for p in parts}
        if kinds == {"Polygon"}:
            return shapely.MultiPolygon(parts)
        if kinds == {"Point"}:
            return shapely.MultiPoint(parts)
        if kinds <= {"LineString", "LinearRing"}:
            return shapely.MultiLineString(parts)
        return shapely.GeometryCollection(parts)
    if kind == "Point":
        coords = _coordinates(element, "point")
        return shapely.Point(coords[0]) if coords else None
    if kind == "LineString":
        coords = _coordinates(element, "line")
        if len(coords) < 2:
            raise ValueError(f"a LineString needs at least 2 points, it has {len(coords)}")
        return shapely.LineString(coords)
    if kind == "LinearRing":
        return shapely.LinearRing(_ring(element, "ring"))
    raise ValueError(f"its geometry is a <{kind}>, which cannot be a grid boundary")


def _polygon(element: ET.Element):
    outer = _child(element, "outerBoundaryIs")
    ring = _child(outer, "LinearRing") if outer is not None else None
    if ring is None:
        raise ValueError("a Polygon without an outer boundary (outerBoundaryIs/LinearRing)")
    holes = [_ring(r, f"hole {n}") for n, r in enumerate(
        (r for inner in element if _local(inner) == "innerBoundaryIs" for r in inner if _local(r) == "LinearRing"),
        start=1)]
    return shapely.Polygon(_ring(ring, "outer boundary"), holes)


def _ring(element: ET.Element, what: str) -> list[tuple[float, float]]:
    coords = _coordinates(element, what)
    if len(set(coords)) < 3:
        raise ValueError(f"the {what} has {len(set(coords))} distinct points; a ring needs at least 3")
    return coords


def _coordinates(element: ET.Element, what: str) -> list[tuple[float, float]]:
    """``lon,lat[,alt]`` tuples separated by white space (a space after a comma is tolerated)."""
    text = _text(element, "coordinates")
    coords = []
    for token in re.sub(r"\s*,\s*", ",", text).split():
        values = token.split(",")
        try:
            if len(values) not in (2, 3):
                raise ValueError
            coords.append((float(values[0]), float(values[1])))
        except ValueError:
            raise ValueError(f"unreadable coordinates {token!r} in the {what} "
                             "(expected lon,lat or lon,lat,alt)") from None
    return coords


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------

def write_kml(frame: geopandas.GeoDataFrame, out, *, title: str = "网格") -> None:
    """Write grids (the columns of ``gis.io.grids_io``'s export) to ``out``: .kml, or .kmz zipped."""
    out = Path(out)
    ET.register_namespace("", KML_NS)
    root = ET.Element(_tag("kml"))
    document = _sub(ET.SubElement(root, _tag("Document")), "name", title)
    for level in sorted(frame["level"].unique()):
        _style(document, int(level))
    for level, group in frame.groupby("level", sort=True):
        folder = _sub(ET.SubElement(document, _tag("Folder")), "name", LEVEL_NAMES.get(int(level), f"{level} 级"))
        for row in group.itertuples(index=False):
            values = row._asdict()
            placemark = _sub(ET.SubElement(folder, _tag("Placemark")), "name", values["name"])
            _sub(placemark, "description", _description(values))
            _sub(placemark, "styleUrl", f"#level{int(level)}")
            extended = ET.SubElement(placemark, _tag("ExtendedData"))
            for column, label in EXPORT_FIELDS:
                data = ET.SubElement(extended, _tag("Data"), name=column)
                _sub(data, "displayName", label)
                _sub(data, "value", _shown(column, values[column]))
            _write_geometry(placemark, values[frame.geometry.name])
    ET.indent(root, space=" ")
    data = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    if out.suffix.lower() == ".kmz":
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("doc.kml", data)
    else:
        out.write_bytes(data)


def _tag(name: str) -> str:
    return f"{{{KML_NS}}}{name}"


def _sub(parent: ET.Element, name: str, text: str) -> ET.Element:
    ET.SubElement(parent, _tag(name)).text = text
    return parent


def _shown(column: str, value) -> str:
    if column == "area_m2":
        return f"{value:.1f}"
    return "" if value is None else str(value)


def _description(values: dict) -> str:
    """What a person reads in the balloon: HTML, as Google Earth and 奥维 render it."""
    lines = [f"网格编码：{values['code']}"]
    if values["parent_code"]:
        lines.append(f"上级网格编码：{values['parent_code']}")
    lines += [f"{label}：{values[side] or '待核定'}" for side, label in EXPORT_FIELDS[3:7]]
    for who, phones, label in (("leader", "leader_phone", "网格长"), ("staff", "staff_phone", "网格员")):
        if values[who]:
            people = values[who].split("、")
            numbers = values[phones].split("、") if values[phones] else []
            lines.append(f"{label}：" + "、".join(
                f"{name} {phone}".strip() for name, phone in zip(people, numbers + [""] * len(people))))
    lines.append(f"面积：{values['area_m2'] / 1e6:.2f} 平方公里")
    return "<br>".join(lines)


def _style(document: ET.Element, level: int) -> None:
    colour, width = GRID_OUTLINES.get(level, GRID_OUTLINES[4])
    style = ET.SubElement(document, _tag("Style"), id=f"level{level}")
    line = ET.SubElement(style, _tag("LineStyle"))
    _sub(line, "color", _abgr(colour, 0xFF))
    _sub(line, "width", f"{width:g}")
    _sub(ET.SubElement(style, _tag("PolyStyle")), "color", _abgr(colour, 0x26))


def _abgr(hex_colour: str, alpha: int) -> str:
    """KML colours are aabbggrr."""
    value = hex_colour.lstrip("#")
    return f"{alpha:02x}{value[4:6]}{value[2:4]}{value[0:2]}"


def _write_geometry(placemark: ET.Element, geometry) -> None:
    if geometry.geom_type == "Point":
        _sub(ET.SubElement(placemark, _tag("Point")), "coordinates", _coords_text(geometry.coords))
        return
    polygons = list(shapely.get_parts(geometry))
    parent = ET.SubElement(placemark, _tag("MultiGeometry")) if len(polygons) > 1 else placemark
    for polygon in polygons:
        element = ET.SubElement(parent, _tag("Polygon"))
        for boundary, ring in [("outerBoundaryIs", polygon.exterior)] + [("innerBoundaryIs", r)
                                                                         for r in polygon.interiors]:
            linear = ET.SubElement(ET.SubElement(element, _tag(boundary)), _tag("LinearRing"))
            _sub(linear, "coordinates", _coords_text(ring.coords))


def _coords_text(coords) -> str:
    # repr: the shortest text that reads back as the same float, so a round trip is exact.
    return " ".join(f"{x!r},{y!r}" for x, y, *_ in coords)
