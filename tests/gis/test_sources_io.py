"""Pollution-source import (gis.io.sources_io) and the ``import-sources`` command."""
from __future__ import annotations

from pathlib import Path

import geopandas
import numpy as np
import pyogrio
import pytest
import shapely
from shapely.geometry import MultiPoint, Point, box

from gis.cli import main
from gis.crs import wgs84_to_gcj02
from gis.domain import Grid, SourceStatus
from gis.io.grids_io import import_grids
from gis.io.sources_io import deepest_grids, import_sources, read_source_file
from gis.io.vector import ImportProblems
from gis.storage.grids import read_grids
from gis.storage.sources import read_source_categories, read_sources

# Two towns side by side; one village inside the western town. Nothing east of 113.0.
TOWNS = {"T1": box(112.80, 35.45, 112.90, 35.55), "T2": box(112.90, 35.45, 113.00, 35.55)}
VILLAGE = box(112.82, 35.47, 112.85, 35.50)


def write(path: Path, rows: list[dict], geoms: list, crs="EPSG:4326", **options) -> Path:
    pyogrio.write_dataframe(geopandas.GeoDataFrame(rows, geometry=geoms, crs=crs), path, **options)
    return path


def url_of(store) -> str:
    return store.url.render_as_string(hide_password=False)


@pytest.fixture
def gridded(store, tmp_path):
    """``store`` with a district, two towns and a village."""
    import_grids(store, write(tmp_path / "d.geojson", [{"code": "D", "name": "城区"}],
                              [box(112.80, 35.45, 113.00, 35.55)]), level=1)
    import_grids(store, write(tmp_path / "t.geojson", [{"code": c, "name": c, "parent": "D"} for c in TOWNS],
                              list(TOWNS.values())), level=2)
    import_grids(store, write(tmp_path / "v.geojson", [{"code": "V1", "name": "甲村", "parent": "T1"}],
                              [VILLAGE]), level=3)
    return store


def imported(store) -> dict[str, tuple]:
    """name → (grid code or None, category code, lon, lat, extra) for every source in the ledger."""
    with store.engine.connect() as connection:
        codes = {g.id: g.code for g in read_grids(connection)}
        categories = {cid: code for cid, code, _ in read_source_categories(connection)}
        return {s.name: (codes.get(s.grid_id), categories[s.category_id], s.lon, s.lat, s)
                for s in read_sources(connection)}


def test_sources_land_in_the_deepest_grid(gridded, tmp_path, capsys):
    path = write(tmp_path / "sources.geojson", [
        {"name": "甲村汽修", "category": "auto_repair", "地址": "甲村1号", "联系电话": "0356-1234567"},
        {"name": "东镇锅炉房", "category": "燃煤锅炉", "status": "停产", "is_key": "是"},
        {"name": "边界料场", "category": "MATERIAL_YARD"},
        {"name": "区外工厂", "category": "industrial"},
    ], [Point(112.83, 35.48), Point(112.95, 35.50), Point(112.90, 35.50), Point(113.2, 35.5)])
    assert main(["import-sources", str(path), "--db", url_of(gridded)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("imported 4 pollution sources")
    assert err.strip() == ("envgrid import-sources: warning: feature 4 (区外工厂): at 113.200000, 35.500000 "
                           "lies outside every grid; imported without a grid")
    rows = imported(gridded)
    assert rows["甲村汽修"][:2] == ("V1", "auto_repair")  # village beats its town and district
    assert rows["东镇锅炉房"][:2] == ("T2", "boiler")  # category given by name
    assert rows["边界料场"][:2] == ("T1", "material_yard")  # shared border: first code wins
    assert rows["区外工厂"][0] is None
    source = rows["甲村汽修"][4]
    assert (source.address, source.contact_phone, source.status) == ("甲村1号", "0356-1234567", "在产")
    assert rows["东镇锅炉房"][4].status == SourceStatus.SUSPENDED and rows["东镇锅炉房"][4].is_key


def test_unknown_category_rejects_the_file(gridded, tmp_path, capsys):
    path = write(tmp_path / "sources.geojson", [
        {"名称": "甲厂", "类别": "industrial"}, {"名称": "加油站", "类别": "加油站"}, {"名称": "乙厂", "类别": ""},
    ], [Point(112.83, 35.48)] * 3)
    assert main(["import-sources", str(path), "--db", url_of(gridded)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "envgrid import-sources: feature 2 (加油站): unknown category '加油站'"
    assert lines[1] == "envgrid import-sources: feature 3 (乙厂): empty category in field '类别'"
    assert lines[2].startswith("envgrid import-sources: valid categories (code or name): industrial 工业企业, ")
    assert "nothing was imported" in lines[3]
    assert imported(gridded) == {}


def test_geometry_and_field_problems(gridded, tmp_path):
    path = write(tmp_path / "sources.gpkg", [
        {"name": "甲厂", "category": "industrial", "status": "歇业"},
        {"name": "乙厂", "category": "industrial"},
        {"name": "丙厂", "category": "industrial"},
        {"name": "丁厂", "category": "industrial", "is_key": "maybe"},
    ], [Point(112.83, 35.48), box(112.8, 35.4, 112.9, 35.5), Point(500000, 3900000), None])
    with pytest.raises(ImportProblems) as caught:
        import_sources(gridded, path)
    problems = caught.value.problems
    assert problems[0].startswith("feature 1 (甲厂): unknown status '歇业'; use 在产/停产/整治中/关停取缔")
    assert problems[1] == "feature 2 (乙厂): geometry is Polygon; a pollution source is a Point"
    assert problems[2].startswith("feature 3 (丙厂): coordinates out of lon/lat range")
    assert problems[3:] == ["feature 4 (丁厂): is_key 'maybe' is neither yes (是/1) nor no (否/0)",
                            "feature 4 (丁厂): empty or missing geometry"]
    assert imported(gridded) == {}
    with pytest.raises(ImportProblems, match=r"no category field .*give --category-field; available fields: "
                                             r"name, status, is_key"):
        import_sources(gridded, write(tmp_path / "nocat.geojson", [{"name": "x", "status": "", "is_key": ""}],
                                      [Point(112.83, 35.48)]))


def test_gcj02_sources_and_explicit_fields(gridded, tmp_path):
    # A point placed in the village in WGS84, written down as Amap would publish it.
    lon, lat = wgs84_to_gcj02(112.835, 35.485)
    path = write(tmp_path / "amap.geojson", [{"企业": "丙厂", "行业": "vocs"}], [MultiPoint([(lon, lat)])])
    with pytest.raises(ImportProblems, match="no name field"):
        import_sources(gridded, path)
    assert import_sources(gridded, path, name_field="企业", category_field="行业", src_crs="gcj02") == 1
    grid, category, stored_lon, stored_lat, _ = imported(gridded)["丙厂"]
    assert (grid, category) == ("V1", "vocs")
    assert stored_lon == pytest.approx(112.835, abs=1e-8) and stored_lat == pytest.approx(35.485, abs=1e-8)


def test_gbk_point_shapefile_without_cpg(gridded, tmp_path):
    path = write(tmp_path / "污染源.shp", [{"名称": "北石店洗车场", "类别": "汽修行业"}], [Point(112.95, 35.5)],
                 encoding="GBK")
    path.with_suffix(".cpg").unlink()
    notes = []
    assert import_sources(gridded, path, warn=notes.append) == 1
    assert imported(gridded)["北石店洗车场"][:2] == ("T2", "auto_repair")
    assert any("read as GBK" in note for note in notes)


def test_read_source_file_needs_no_database(tmp_path):
    path = write(tmp_path / "s.geojson", [{"name": "甲厂", "category": "A"}], [Point(112.83, 35.48)])
    (feature,) = read_source_file(path, categories=[(7, "a", "甲类")])
    assert (feature.number, feature.source.category_id, feature.source.grid_id) == (1, 7, None)


def test_deepest_grids_uses_levels_not_order():
    big = Grid(1, "A", "区", 1, None, box(0, 0, 10, 10))
    small = Grid(2, "B", "镇", 2, 1, box(0, 0, 5, 5))
    point_grid = Grid(3, "C", "点", 5, 2, Point(1, 1))
    points = np.array([Point(1, 1), Point(7, 7), Point(20, 20), Point(5, 5)])
    found = deepest_grids(points, [small, point_grid, big])
    assert [g.code if g else None for g in found] == ["B", "A", None, "B"]
    assert deepest_grids([], [big]) == [] and deepest_grids(points[:1], []) == [None]
