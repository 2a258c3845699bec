"""Grid import/export (gis.io.grids_io) and the ``import-grids``/``export-grids`` commands."""
from __future__ import annotations

import json
import math
import sqlite3
from datetime import date
from pathlib import Path

import geopandas
import numpy as np
import pyogrio
import pytest
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from gis.cli import main
from gis.domain import Assignment, Person, Role
from gis.io import grids_io
from gis.io.grids_io import ExportError, export_grids, import_grids, read_grid_file
from gis.io.vector import ImportProblems
from gis.storage.grids import read_grids
from gis.storage.people import insert_assignments, insert_people
from gis.storage.store import open_store

DISTRICT_FILE = Path(__file__).resolve().parents[2] / "resources" / "data" / "jincheng_chengqu_gcj02.geojson"
GEOD = Geod(ellps="GRS80")
ALBERS = Transformer.from_crs("EPSG:4326", "+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +ellps=GRS80",
                              always_xy=True)


def textbook_wgs84_to_gcj02(lon, lat):
    """The published GCJ-02 forward formula (Krasovsky ellipsoid), written out independently."""
    a, ee = 6378245.0, 0.00669342162296594323
    x, y = lon - 105.0, lat - 35.0
    dlat = (-100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
            + (20 * np.sin(6 * x * np.pi) + 20 * np.sin(2 * x * np.pi)) * 2 / 3
            + (20 * np.sin(y * np.pi) + 40 * np.sin(y / 3 * np.pi)) * 2 / 3
            + (160 * np.sin(y / 12 * np.pi) + 320 * np.sin(y * np.pi / 30)) * 2 / 3)
    dlon = (300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
            + (20 * np.sin(6 * x * np.pi) + 20 * np.sin(2 * x * np.pi)) * 2 / 3
            + (20 * np.sin(x * np.pi) + 40 * np.sin(x / 3 * np.pi)) * 2 / 3
            + (150 * np.sin(x / 12 * np.pi) + 300 * np.sin(x / 30 * np.pi)) * 2 / 3)
    magic = 1 - ee * np.sin(np.radians(lat)) ** 2
    dlat = dlat * 180 / (a * (1 - ee) / (magic * np.sqrt(magic)) * np.pi)
    dlon = dlon * 180 / (a / np.sqrt(magic) * np.cos(np.radians(lat)) * np.pi)
    return lon + dlon, lat + dlat


def distance_m(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray(GEOD.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])[2])


def write(path: Path, rows: list[dict], geoms: list, crs="EPSG:4326", **options) -> Path:
    frame = geopandas.GeoDataFrame(rows, geometry=geoms, crs=crs)
    pyogrio.write_dataframe(frame, path, **options)
    return path


# A made-up district near Jincheng: 0.2° x 0.1°, split into two towns.
DISTRICT = box(112.80, 35.45, 113.00, 35.55)
TOWNS = [box(112.80, 35.45, 112.90, 35.55), box(112.90, 35.45, 113.00, 35.55)]


def district_file(tmp_path) -> Path:
    return write(tmp_path / "district.geojson",
                 [{"code": "140502", "name": "城区", "east": "泽州县", "south": "泽州县", "west": "泽州县",
                   "north": "泽州县"}], [DISTRICT])


def towns_file(tmp_path, parent="140502") -> Path:
    return write(tmp_path / "towns.geojson",
                 [{"网格编码": "140502001", "网格名称": "西街街道", "上级编码": parent, "东至": "东街街道"},
                  {"网格编码": "140502002", "网格名称": "东街街道", "上级编码": parent, "东至": "泽州县"}], TOWNS)


def grid_rows(store) -> list[tuple]:
    """Everything a round trip must keep, keyed by code (ids differ between workspaces)."""
    with store.engine.connect() as connection:
        grids = read_grids(connection)
    codes = {g.id: g.code for g in grids}
    return [(g.code, g.name, g.level, codes.get(g.parent_id), g.east, g.south, g.west, g.north,
             shapely.normalize(g.boundary), round(g.area_m2, 3)) for g in grids]


def url_of(store) -> str:
    return store.url.render_as_string(hide_password=False)


def grid_count(store) -> int:
    with store.engine.connect() as connection:
        return len(read_grids(connection))


@pytest.fixture
def district(store, tmp_path):
    """``store`` with the district (level 1) and its two towns (level 2)."""
    assert import_grids(store, district_file(tmp_path), level=1) == 1
    assert import_grids(store, towns_file(tmp_path), level=2) == 2
    return store


# --- round trip ---------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".shp"])
def test_round_trip_keeps_geometry_and_attributes(district, tmp_path, suffix):
    copy = open_store(tmp_path / "copy.sqlite")
    try:
        for level in (1, 2):
            out = tmp_path / f"level{level}{suffix}"
            assert export_grids(district, out, level=level) == 1 + (level == 2)
            assert import_grids(copy, out, level=level) == 1 + (level == 2)
        original, again = grid_rows(district), grid_rows(copy)
    finally:
        copy.close()
    assert [row[:8] for row in again] == [row[:8] for row in original]
    assert again[1][3] == "140502" and again[1][4] == "东街街道"  # parent and 四至 survived
    for before, after in zip(original, again):
        assert shapely.equals_exact(before[8], after[8], tolerance=1e-12)
        assert after[9] == pytest.approx(before[9], rel=1e-9)


def test_level5_points_are_accepted_and_kept(district, tmp_path):
    path = write(tmp_path / "units.gpkg", [{"code": "140502001001", "name": "某化工厂"}],
                 [Point(112.85, 35.50)])
    assert import_grids(district, path, level=5) == 1
    out = tmp_path / "all.gpkg"
    assert export_grids(district, out) == 4  # GeoPackage may mix points and polygons
    frame = pyogrio.read_dataframe(out)
    assert sorted(frame.geometry.geom_type) == ["MultiPolygon"] * 3 + ["Point"]
    with pytest.raises(ExportError, match="mix"):
        export_grids(district, tmp_path / "all.shp")
    assert not (tmp_path / "all.shp").exists()


# --- export details -------------------------------------------------------------------------------

def test_export_fields_people_and_formats(district, tmp_path):
    today = date.today()
    with district.engine.begin() as connection:
        people = [Person(None, "张三", "13800000001"), Person(None, "李四", "13800000002"),
                  Person(None, "王五", "")]
        insert_people(connection, people)
        town = {g.code: g.id for g in read_grids(connection, levels=[2])}["140502001"]
        insert_assignments(connection, [Assignment(town, people[0].id, Role.LEADER, today),
                                        Assignment(town, people[1].id, Role.STAFF, today),
                                        Assignment(town, people[2].id, Role.STAFF, today)])
    export_grids(district, tmp_path / "towns.geojson", level=2)
    export_grids(district, tmp_path / "towns.shp", level=2)
    export_grids(district, tmp_path / "towns.gpkg", level=2)

    collection = json.loads((tmp_path / "towns.geojson").read_text(encoding="utf-8"))
    assert "4490" in collection["crs"]["properties"]["name"]
    props = {f["properties"]["code"]: f["properties"] for f in collection["features"]}["140502001"]
    assert (props["leader"], props["leader_phone"]) == ("张三", "13800000001")
    assert (props["staff"], props["staff_phone"]) == ("李四、王五", "13800000002、")
    assert props["parent_code"] == "140502" and props["area_m2"] > 4e7

    assert (tmp_path / "towns.cpg").read_text().strip().upper() == "UTF-8"
    shp = pyogrio.read_dataframe(tmp_path / "towns.shp")
    assert {"code", "name", "level", "parent", "east", "south", "west", "north", "area_m2",
            "lead_name", "lead_tel", "staff_name", "staff_tel"} <= set(shp.columns)
    assert shp.crs.to_epsg() == 4490 and "西街街道" in set(shp["name"])

    with sqlite3.connect(tmp_path / "towns.gpkg") as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == 10200  # GeoPackage 1.2
        assert connection.execute("SELECT srs_id FROM gpkg_geometry_columns").fetchone()[0] == 4490


def test_export_cli_counts_and_refuses_unknown_extension(district, tmp_path, capsys):
    assert main(["export-grids", str(tmp_path / "towns.gpkg"), "--db", url_of(district), "--level", "2"]) == 0
    assert capsys.readouterr().out.startswith("exported 2 grids to ")
    out = tmp_path / "grids.dxf"
    assert main(["export-grids", str(out), "--db", url_of(district)]) == 1
    assert "unknown extension '.dxf'; use .geojson, .json, .gpkg, .shp, .kml, .kmz" in capsys.readouterr().err
    with pytest.raises(ExportError, match="directory .* does not exist"):
        export_grids(district, tmp_path / "missing" / "grids.gpkg")
    assert not out.exists() and not (tmp_path / "missing").exists()


def test_failed_export_leaves_old_file_and_no_temporaries(district, tmp_path, monkeypatch):
    out = tmp_path / "grids.shp"
    export_grids(district, out, level=1)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.stem == "grids"}

    def half_write(frame, path, **options):
        Path(path).write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(grids_io.pyogrio, "write_dataframe", half_write)
    with pytest.raises(ExportError, match="cannot write .*grids.shp: disk full; nothing written"):
        export_grids(district, out, level=2)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.stem == "grids"} == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".grids")]


# --- coordinates ------------------------------------------------------------------------------------

@pytest.mark.skipif(not DISTRICT_FILE.exists(), reason="reference district not in resources/data")
def test_gcj02_import_matches_independent_conversion(db_url, capsys):
    # No --code-field: Amap's "adcode" is recognised as the code.
    assert main(["import-grids", str(DISTRICT_FILE), "--db", db_url, "--level", "1", "--src-crs", "gcj02"]) == 0
    assert "imported 1 grids" in capsys.readouterr().out
    store = open_store(db_url)
    try:
        with store.engine.connect() as connection:
            (grid,) = read_grids(connection)
    finally:
        store.close()
    source = geopandas.read_file(DISTRICT_FILE).geometry[0]
    gcj = shapely.get_coordinates(source)
    stored = shapely.get_coordinates(grid.boundary)
    assert grid.code == "140502" and grid.boundary.geom_type == "MultiPolygon" and len(stored) == len(gcj)
    # Forward: the stored WGS84 vertices, shifted by the textbook formula, give back the file.
    forward = np.column_stack(textbook_wgs84_to_gcj02(stored[:, 0], stored[:, 1]))
    assert distance_m(forward, gcj).max() < 0.05
    # Backward: the common one-step inverse is good to a few metres.
    shifted = np.column_stack(textbook_wgs84_to_gcj02(gcj[:, 0], gcj[:, 1]))
    one_step = 2 * gcj - shifted
    assert distance_m(one_step, stored).max() < 5.0
    assert distance_m(gcj, stored).min() > 100  # and it really moved (GCJ-02 offsets are 100 m+)
    # Area against an equal-area projection of the independently converted outline.
    independent = shapely.set_coordinates(shapely.MultiPolygon(source), one_step)
    albers = shapely.transform(independent, lambda xy: np.column_stack(ALBERS.transform(xy[:, 0], xy[:, 1])))
    assert grid.area_m2 == pytest.approx(albers.area, rel=0.005)
    assert 140e6 < grid.area_m2 < 160e6  # "about 149 km²"


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_projected_file_needs_src_crs(store, tmp_path):
    to_gk = Transformer.from_crs("EPSG:4490", "EPSG:4548", always_xy=True)  # CGCS2000 GK CM 117E
    projected = shapely.transform(DISTRICT, lambda xy: np.column_stack(to_gk.transform(xy[:, 0], xy[:, 1])))
    path = write(tmp_path / "gk.geojson", [{"code": "140502", "name": "城区"}], [projected], crs=None)
    with pytest.raises(ImportProblems) as caught:
        read_grid_file(path, level=1)
    assert caught.value.problems[0].startswith("feature 1 (140502 城区): coordinates out of lon/lat range")
    assert "--src-crs" in caught.value.problems[0]
    assert import_grids(store, path, level=1, src_crs="EPSG:4548") == 1
    with store.engine.connect() as connection:
        (grid,) = read_grids(connection)
    assert shapely.hausdorff_distance(grid.boundary, DISTRICT) < 1e-7
    # The same file with its CRS in a .prj is converted without being told.
    shp = write(tmp_path / "gk.shp", [{"code": "X", "name": "城区"}], [projected], crs="EPSG:4548")
    (feature,) = read_grid_file(shp, level=1)
    assert shapely.hausdorff_distance(feature.grid.boundary, DISTRICT) < 1e-7
    # A feature PROJ cannot transform is named; the others are not blamed for it.
    broken = write(tmp_path / "broken.shp", [{"code": "A", "name": "甲"}, {"code": "B", "name": "乙"}],
                   [projected, box(1e30, 1e30, 2e30, 2e30)], crs="EPSG:4548")
    with pytest.raises(ImportProblems) as caught:
        read_grid_file(broken, level=1)
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith("feature 2 (B 乙): cannot convert from the file's CRS EPSG:4548")


# --- problems: nothing imported -----------------------------------------------------------------------

BOWTIE = Polygon([(112.81, 35.46), (112.89, 35.54), (112.89, 35.46), (112.81, 35.54)])


@pytest.mark.parametrize("bad, expected", [
    ({"geometry": BOWTIE}, "invalid geometry: Self-intersection[112.85 35.5]"),
    ({"geometry": None}, "empty or missing geometry"),
    ({"geometry": LineString([(112.8, 35.5), (112.9, 35.5)])}, "geometry is LineString"),
    ({"geometry": box(500000, 3900000, 510000, 3910000)}, "coordinates out of lon/lat range"),
    ({"code": "14050200101"}, "code 14050200101 duplicates feature 1"),
    ({"name": ""}, "empty name"),
    ({"parent": "999999"}, "parent code 999999 not found in the database"),
])
def test_one_bad_feature_rejects_the_file(district, tmp_path, capsys, bad, expected):
    rows = [{"code": f"14050200{i}01", "name": f"社区{i}", "parent": "140502001", "geometry": box(
        112.80 + i / 100, 35.45, 112.81 + i / 100, 35.46)} for i in range(1, 5)]
    rows[2].update(bad)
    frame = geopandas.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    path = tmp_path / "villages.geojson"
    pyogrio.write_dataframe(frame, path)
    before = grid_count(district)
    assert main(["import-grids", str(path), "--db", url_of(district), "--level", "3"]) == 1
    err = capsys.readouterr().err
    assert f"envgrid import-grids: feature 3 (" in err and expected in err
    assert "nothing was imported" in err
    assert grid_count(district) == before


def test_every_problem_is_reported_once_per_line(store, tmp_path):
    path = write(tmp_path / "bad.geojson",
                 [{"code": "A", "name": "甲"}, {"code": "A", "name": ""}, {"code": "", "name": "丙"}],
                 [box(112, 35, 112.1, 35.1), Point(112, 35), box(112, 35, 112.1, 35.1)])
    with pytest.raises(ImportProblems) as caught:
        import_grids(store, path, level=2)
    assert caught.value.problems == [
        "feature 2 (A): empty name",
        "feature 2 (A): code A duplicates feature 1",
        "feature 2 (A): geometry is Point; level-2 grids need Polygon or MultiPolygon",
        "feature 3 (丙): empty code in field 'code'",
    ]
    assert grid_count(store) == 0


def test_file_level_problems(store, tmp_path, capsys):
    garbage = tmp_path / "grids.geojson"
    garbage.write_text("not json at all", encoding="utf-8")
    assert main(["import-grids", str(garbage), "--db", url_of(store), "--level", "1"]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 and str(garbage) in lines[0] and "cannot read" in lines[0]

    path = write(tmp_path / "plain.geojson", [{"标识": "1", "label": "x"}], [DISTRICT])
    with pytest.raises(ImportProblems, match=r"no name field .*available fields: 标识, label"):
        read_grid_file(path, level=1)
    with pytest.raises(ImportProblems, match=r"--code-field 编号: no such field; available fields: 标识, label"):
        read_grid_file(path, level=1, name_field="label", code_field="编号")
    with pytest.raises(ImportProblems, match="--level 6: grid levels are 1"):
        read_grid_file(path, level=6, name_field="label")
    with pytest.raises(ImportProblems, match="--src-crs: Unknown source CRS 'mars'"):
        read_grid_file(path, level=1, src_crs="mars")


# --- parents and codes --------------------------------------------------------------------------------

def test_parent_codes_link_to_the_level_above(district):
    with district.engine.connect() as connection:
        by_code = {g.code: g for g in read_grids(connection)}
    assert by_code["140502001"].parent_id == by_code["140502"].id
    assert by_code["140502002"].parent_id == by_code["140502"].id
    assert by_code["140502001"].east == "东街街道"
    assert by_code["140502"].area_m2 == pytest.approx(abs(GEOD.geometry_area_perimeter(DISTRICT)[0]), rel=1e-9)


def test_parent_at_wrong_level_and_level1_parent(district, tmp_path):
    path = write(tmp_path / "villages.geojson", [{"code": "V1", "name": "村", "parent_code": "140502"}],
                 [box(112.81, 35.46, 112.82, 35.47)])
    with pytest.raises(ImportProblems, match="parent 140502 is a level-1 grid; a level-3 grid needs a level-2"):
        import_grids(district, path, level=3)
    with pytest.raises(ImportProblems, match="a level-1 grid has no parent"):
        import_grids(district, path, level=1, parent_code_field="parent_code")
    with pytest.raises(ImportProblems, match="code 140502 already exists in the database"):
        import_grids(district, district_file(tmp_path), level=1)


def test_codes_are_generated_when_the_file_has_none(district, tmp_path):
    path = write(tmp_path / "villages.geojson",
                 [{"名称": "甲村", "parent_code": "140502001"}, {"名称": "乙村", "parent_code": "140502001"},
                  {"名称": "丙村", "parent_code": "140502002"}],
                 [box(112.81, 35.46, 112.82, 35.47), box(112.82, 35.46, 112.83, 35.47),
                  box(112.91, 35.46, 112.92, 35.47)])
    notes = []
    assert import_grids(district, path, level=3, warn=notes.append) == 3
    with district.engine.connect() as connection:
        names = {g.code: g.name for g in read_grids(connection, levels=[3])}
    assert names == {"140502001-1": "甲村", "140502001-2": "乙村", "140502002-1": "丙村"}
    assert "generated codes 140502001-1…140502001-2, 140502002-1" in notes[0]
    with pytest.raises(ImportProblems) as caught:  # the same file again: same codes, refused
        import_grids(district, path, level=3)
    assert caught.value.problems[0] == ("feature 1 (140502001-1 甲村): generated code 140502001-1 already exists "
                                        "in the database; give --code-field")


# --- encodings and formats -------------------------------------------------------------------------------

def gbk_shapefile_without_cpg(tmp_path) -> Path:
    path = write(tmp_path / "乡镇.shp", [{"编码": "140502001", "名称": "北石店镇"}], [TOWNS[0]], encoding="GBK")
    path.with_suffix(".cpg").unlink()
    with open(path.with_suffix(".dbf"), "r+b") as dbf:  # no language driver id either, as often seen
        dbf.seek(29)
        dbf.write(b"\0")
    return path


def test_gbk_shapefile_without_cpg(store, tmp_path):
    path = gbk_shapefile_without_cpg(tmp_path)
    notes = []
    (feature,) = read_grid_file(path, level=2, warn=notes.append)
    assert (feature.grid.code, feature.grid.name) == ("140502001", "北石店镇")
    assert any("read as GBK" in note for note in notes)
    (feature,) = read_grid_file(path, level=2, encoding="gbk", warn=notes.append)
    assert feature.grid.name == "北石店镇"
    with pytest.raises(ImportProblems, match="--encoding klingon: unknown encoding"):
        read_grid_file(path, level=2, encoding="klingon")


def test_multi_layer_geopackage_needs_layer(store, tmp_path):
    path = tmp_path / "two.gpkg"
    write(path, [{"code": "A", "name": "甲"}], [DISTRICT], layer="districts")
    write(path, [{"code": "B", "name": "乙"}], [TOWNS[0]], layer="towns", append=True)
    with pytest.raises(ImportProblems, match=r"holds 2 layers \(districts, towns\); choose one with --layer"):
        read_grid_file(path, level=1)
    (feature,) = read_grid_file(path, level=2, layer="towns")
    assert feature.grid.code == "B" and feature.grid.boundary.geom_type == "MultiPolygon"
    assert isinstance(feature.grid.boundary, MultiPolygon) and math.isclose(
        feature.grid.boundary.area, TOWNS[0].area)


def test_datav_style_geojson(store, tmp_path):
    """DataV (GCJ-02) files: numeric adcode, a nested {"adcode": …} parent, list-valued fields."""
    def feature(adcode, name, parent, ring):
        return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {"adcode": adcode, "name": name, "center": [112.85, 35.49], "level": "district",
                               "parent": {"adcode": parent}, "acroutes": [100000, 140000]}}

    ring = [list(xy) for xy in DISTRICT.exterior.coords]
    district = tmp_path / "140502.json"
    district.write_text(json.dumps({"type": "FeatureCollection", "features": [
        feature(140502, "城区", 140500, ring)]}), encoding="utf-8")
    towns = tmp_path / "140502_full.json"
    towns.write_text(json.dumps({"type": "FeatureCollection", "features": [
        feature(140502001 + i, name, 140502, [list(xy) for xy in town.exterior.coords])
        for i, (name, town) in enumerate(zip(("西街街道", "东街街道"), TOWNS))]}), encoding="utf-8")
    # At level 1 the city named as parent is not in the workspace and is not asked for.
    assert import_grids(store, district, level=1, src_crs="gcj02") == 1
    assert import_grids(store, towns, level=2, src_crs="gcj02") == 2
    with store.engine.connect() as connection:
        grids = read_grids(connection)
    assert [(g.code, g.name) for g in grids] == [("140502", "城区"), ("140502001", "西街街道"),
                                                 ("140502002", "东街街道")]
    assert grids[0].parent_id is None and grids[1].parent_id == grids[2].parent_id == grids[0].id
