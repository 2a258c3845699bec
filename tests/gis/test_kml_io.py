"""KML/KMZ grids (gis.io.kml) through ``import-grids``/``export-grids`` and the shared dry run."""
from __future__ import annotations

import json
import zipfile
from datetime import date
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import shapely
from shapely.geometry import box

from gis.cli import main
from gis.domain import LEVEL_NAMES, Assignment, Person, Role
from gis.io.grid_preview import preview_grids
from gis.io.grids_io import export_grids, import_grids
from gis.io.kml import read_kml
from gis.io.vector import ImportProblems
from gis.storage.grids import read_grids
from gis.storage.people import insert_assignments, insert_people
from gis.storage.schema import grids as grids_table
from gis.storage.store import open_store

DISTRICT = box(112.80, 35.45, 113.00, 35.55)
TOWNS = {"140502001": ("西街街道", box(112.80, 35.45, 112.90, 35.55)),
         "140502002": ("东街街道", box(112.90, 35.45, 113.00, 35.55))}
KML = "http://www.opengis.net/kml/2.2"


def ring(geom) -> str:
    """Coordinates as Google Earth writes them: lon,lat,alt tuples, whitespace between."""
    return "\n".join(f"{x},{y},0" for x, y in geom.coords)


def polygon(geom) -> str:
    holes = "".join(f"<innerBoundaryIs><LinearRing><coordinates>{ring(h)}</coordinates></LinearRing></innerBoundaryIs>"
                    for h in geom.interiors)
    return (f"<Polygon><tessellate>1</tessellate><outerBoundaryIs><LinearRing><coordinates>{ring(geom.exterior)}"
            f"</coordinates></LinearRing></outerBoundaryIs>{holes}</Polygon>")


def placemark(name: str, geometry: str, **data: str) -> str:
    extended = "".join(f"<Data name=\"{k}\"><value>{v}</value></Data>" for k, v in data.items())
    return (f"<Placemark><name>{name}</name><styleUrl>#m_ylw-pushpin</styleUrl>"
            f"<ExtendedData>{extended}</ExtendedData>{geometry}</Placemark>")


def folder(name: str, *content: str) -> str:
    return f"<Folder><name>{name}</name><open>1</open>{''.join(content)}</Folder>"


def document(*content: str, name: str = "网格.kmz") -> str:
    return (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<kml xmlns=\"{KML}\" "
            f"xmlns:gx=\"http://www.google.com/kml/ext/2.2\"><Document><name>{name}</name>"
            f"<Style id=\"m_ylw-pushpin\"><LineStyle><color>ff0000ff</color></LineStyle></Style>"
            f"{''.join(content)}</Document></kml>")


def kmz(path: Path, text: str) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("doc.kml", text.encode("utf-8"))
        archive.writestr("files/icon.png", b"\x89PNG")  # Google Earth packs icons beside the document
    return path


# Villages of 西街街道, in two folders; 古寨村 has two separate parts, 北石店村 a hole.
VILLAGES = {
    "140502001001": ("古寨村", shapely.MultiPolygon([box(112.80, 35.45, 112.83, 35.48), box(112.84, 35.45, 112.86, 35.48)])),
    "140502001002": ("北石店村", box(112.80, 35.50, 112.85, 35.55).difference(box(112.81, 35.51, 112.82, 35.52))),
    "140502001003": ("钟家庄村", box(112.86, 35.50, 112.90, 35.55)),
}


def google_earth_villages() -> str:
    marks = {}
    for code, (name, geom) in VILLAGES.items():
        shape = (f"<MultiGeometry>{''.join(polygon(p) for p in geom.geoms)}</MultiGeometry>"
                 if geom.geom_type == "MultiPolygon" else polygon(geom))
        marks[code] = placemark(name, shape, 网格编码=code, 上级编码="140502001")
    return document(folder("城区", folder("西街街道", folder("南片", marks["140502001001"]),
                                          marks["140502001002"], marks["140502001003"])))


@pytest.fixture
def towns(store, tmp_path):
    """``store`` with the district (level 1) and its two towns (level 2), imported from KML."""
    district = tmp_path / "district.kml"
    district.write_text(document(placemark("城区", polygon(DISTRICT), code="140502")), encoding="utf-8")
    assert import_grids(store, district, level=1) == 1
    towns = tmp_path / "towns.kml"
    towns.write_text(document(*[placemark(name, polygon(geom), code=code, parent_code="140502")
                                for code, (name, geom) in TOWNS.items()]), encoding="utf-8")
    assert import_grids(store, towns, level=2) == 2
    return store


def url_of(store) -> str:
    return store.url.render_as_string(hide_password=False)


def by_code(store, level: int) -> dict:
    with store.engine.connect() as connection:
        return {g.code: g for g in read_grids(connection, levels=[level])}


# --- reading -----------------------------------------------------------------------------------------

def test_google_earth_kmz_with_folders_multigeometry_and_holes(towns, tmp_path, capsys):
    path = kmz(tmp_path / "西街街道村网格.kmz", google_earth_villages())
    preview = preview_grids(path, level=3, store=towns)
    assert preview.ok and preview.noun == "placemark"
    assert preview.fields == ["name", "folder", "网格编码", "上级编码"]
    frame, unreadable = read_kml(path)
    assert list(frame["folder"]) == ["城区/西街街道/南片", "城区/西街街道", "城区/西街街道"] and not unreadable

    assert main(["import-grids", str(path), "--db", url_of(towns), "--level", "3"]) == 0
    assert "imported 3 grids at level 3" in capsys.readouterr().out
    villages, parent = by_code(towns, 3), by_code(towns, 2)["140502001"]
    assert {code: g.name for code, g in villages.items()} == {code: name for code, (name, _) in VILLAGES.items()}
    assert {g.parent_id for g in villages.values()} == {parent.id}
    for code, (_, geom) in VILLAGES.items():
        assert shapely.equals_exact(shapely.normalize(villages[code].boundary),
                                    shapely.normalize(shapely.MultiPolygon(shapely.get_parts(geom))), tolerance=1e-12)
    assert len(villages["140502001001"].boundary.geoms) == 2
    assert len(villages["140502001002"].boundary.geoms[0].interiors) == 1


def test_aowei_style_kml_schema_data_gbk_and_explicit_fields(towns, tmp_path):
    """奥维-like: SchemaData/SimpleData fields with its own names, a GBK declaration, loose tuples."""
    (name, geom), code = TOWNS["140502002"], "140502002001"
    coords = " ".join(f"{x}, {y}" for x, y in box(112.95, 35.50, 113.00, 35.55).exterior.coords)
    text = (f"<?xml version=\"1.0\" encoding=\"GB2312\"?><kml xmlns=\"{KML}\"><Document>"
            "<Schema id=\"s\"><SimpleField name=\"网格编号\" type=\"string\"/></Schema>"
            "<Placemark><name>东街社区</name><description>社区网格</description><ExtendedData>"
            f"<SchemaData schemaUrl=\"#s\"><SimpleData name=\"网格编号\">{code}</SimpleData>"
            "<SimpleData name=\"所属\">140502002</SimpleData></SchemaData></ExtendedData>"
            f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{coords}</coordinates></LinearRing>"
            "</outerBoundaryIs></Polygon></Placemark></Document></kml>")
    path = tmp_path / "奥维导出.kml"
    path.write_bytes(text.encode("gbk"))
    preview = preview_grids(path, level=3, store=towns)
    assert preview.fields == ["name", "description", "网格编号", "所属"]
    assert preview.rows[0].code == "G-1" and "no code field" in " ".join(preview.notes)  # generated: not the file's
    assert import_grids(towns, path, level=3, code_field="网格编号", parent_code_field="所属") == 1
    grid = by_code(towns, 3)[code]
    assert grid.name == "东街社区" and grid.parent_id == by_code(towns, 2)["140502002"].id


def test_a_bad_placemark_is_named_and_nothing_is_imported(towns, tmp_path, capsys):
    good = [placemark(f"第{i}网格", polygon(box(112.80 + i / 100, 35.45, 112.81 + i / 100, 35.46)),
                      code=f"14050200100{i}", parent_code="140502001") for i in (1, 2, 4)]
    bad = ("<Placemark><name>坏网格</name><ExtendedData><Data name=\"code\"><value>140502001003</value></Data>"
           "</ExtendedData><Polygon><outerBoundaryIs><LinearRing><coordinates>"
           "112.83,35.45 112.84,abc 112.84,35.46 112.83,35.45</coordinates></LinearRing></outerBoundaryIs>"
           "</Polygon></Placemark>")
    path = tmp_path / "村.kml"
    path.write_text(document(folder("西街街道", good[0], good[1], bad), good[2]), encoding="utf-8")

    assert main(["import-grids", str(path), "--db", url_of(towns), "--level", "3"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == ["envgrid import-grids: placemark 3 (140502001003 坏网格): unreadable coordinates '112.84,abc' "
                   "in the outer boundary (expected lon,lat or lon,lat,alt)",
                   f"envgrid import-grids: nothing was imported from {path}"]
    assert by_code(towns, 3) == {}

    preview = preview_grids(path, level=3, store=towns)
    assert [(r.number, r.name, bool(r.problems), r.feature is not None) for r in preview.rows] == [
        (1, "第1网格", False, True), (2, "第2网格", False, True), (3, "坏网格", True, False), (4, "第4网格", False, True)]


@pytest.mark.parametrize("content, expected", [
    (b"<html><body>not kml</body></html>", "not a KML document (its root element is <html>"),
    (b"<kml><Document><Placemark>", "not a readable KML document: no element found"),
])
def test_files_that_are_not_kml(store, tmp_path, content, expected):
    path = tmp_path / "grids.kml"
    path.write_bytes(content)
    with pytest.raises(ImportProblems) as caught:
        import_grids(store, path, level=1)
    assert caught.value.problems == [caught.value.problems[0]] and expected in caught.value.problems[0]
    not_zip = tmp_path / "grids.kmz"
    not_zip.write_bytes(content)
    with pytest.raises(ImportProblems, match="not a KMZ file"):
        import_grids(store, not_zip, level=1)


# --- the dry run is the import's own check -------------------------------------------------------------

def test_preview_lists_what_the_import_refuses(towns, tmp_path):
    path = tmp_path / "villages.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": code, "name": name, "parent_code": parent},
         "geometry": shapely.geometry.mapping(geom)}
        for code, name, parent, geom in [("V1", "甲村", "140502001", box(112.80, 35.45, 112.81, 35.46)),
                                         ("V2", "", "140502001", box(112.81, 35.45, 112.82, 35.46)),
                                         ("140502001", "乙村", "999", box(112.82, 35.45, 112.83, 35.46))]]},
        ensure_ascii=False), encoding="utf-8")
    preview = preview_grids(path, level=3, store=towns)
    assert [r.problems for r in preview.rows] == [
        [], ["empty name"],
        ["code 140502001 already exists in the database", "parent code 999 not found in the database"]]
    assert preview.rows[0].feature.grid.parent_id == by_code(towns, 2)["140502001"].id
    with pytest.raises(ImportProblems) as caught:
        import_grids(towns, path, level=3)
    assert caught.value.problems == preview.problem_lines()
    assert caught.value.problems[0] == "feature 2 (V2): empty name"
    assert by_code(towns, 3) == {}
    assert preview_grids(path, level=7).file_problems[0].startswith("--level 7: grid levels are")


# --- writing -----------------------------------------------------------------------------------------------

def test_export_kml_names_descriptions_and_round_trip(towns, tmp_path, capsys):
    with towns.engine.begin() as connection:
        people = [Person(None, "张三", "13800000001"), Person(None, "李四", "13800000002")]
        insert_people(connection, people)
        town = by_code(towns, 2)["140502001"].id
        insert_assignments(connection, [Assignment(town, people[0].id, Role.LEADER, date.today()),
                                        Assignment(town, people[1].id, Role.STAFF, date.today())])
        connection.execute(grids_table.update().where(grids_table.c.id == town)
                           .values(east="东街街道", south="泽州县", west="泽州县", north="北石店镇"))
    out = tmp_path / "towns.kml"
    assert main(["export-grids", str(out), "--db", url_of(towns)]) == 0
    assert "exported 3 grids" in capsys.readouterr().out
    root = ET.parse(out).getroot()
    ns = {"k": KML}
    assert [f.findtext("k:name", namespaces=ns) for f in root.iterfind(".//k:Folder", ns)] == [LEVEL_NAMES[1], LEVEL_NAMES[2]]
    mark = next(p for p in root.iterfind(".//k:Placemark", ns) if p.findtext("k:name", namespaces=ns) == "西街街道")
    description = mark.findtext("k:description", namespaces=ns)
    for expected in ("网格编码：140502001", "东至：东街街道", "北至：北石店镇", "网格长：张三 13800000001",
                     "网格员：李四 13800000002"):
        assert expected in description.split("<br>")
    data = {d.get("name"): d.findtext("k:value", namespaces=ns) for d in mark.iterfind(".//k:Data", ns)}
    assert (data["code"], data["parent_code"], data["leader"]) == ("140502001", "140502", "张三")

    # Round trip through KMZ into another workspace: the same grids, to the last bit of each vertex.
    copy = open_store(tmp_path / "copy.sqlite")
    try:
        for level in (1, 2):
            export_grids(towns, tmp_path / f"level{level}.kmz", level=level)
            assert import_grids(copy, tmp_path / f"level{level}.kmz", level=level) == len(by_code(towns, level))
        for level in (1, 2):
            before, after = by_code(towns, level), by_code(copy, level)
            assert sorted(before) == sorted(after)
            for code, grid in before.items():
                again = after[code]
                assert (again.name, again.east, again.south, again.west, again.north) == (
                    grid.name, grid.east, grid.south, grid.west, grid.north)
                assert shapely.equals_exact(again.boundary, grid.boundary, tolerance=0)
        assert by_code(copy, 2)["140502001"].parent_id == by_code(copy, 1)["140502"].id
    finally:
        copy.close()
