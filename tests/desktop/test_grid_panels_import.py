"""Import preview: per-feature problems, field mapping, CRS choice, KML, and all-or-nothing import."""
from __future__ import annotations

import zipfile

import geopandas
import pyogrio
import shapely
from small_workspace import MID_LAT, MID_LON, SOUTH, WEST, build_small_workspace

from desktop.grid_panels.import_dialog import ImportDialog
from gis.storage.grids import read_grids
from gis.storage.store import open_store

PARENT = "140502001001"  # 西南社区, box(WEST, SOUTH, MID_LON, MID_LAT)


def parts(names, field="name"):
    """Two halves of 西南社区 as level-4 grids."""
    halves = [shapely.box(WEST, SOUTH, (WEST + MID_LON) / 2, MID_LAT), shapely.box((WEST + MID_LON) / 2, SOUTH, MID_LON, MID_LAT)]
    return geopandas.GeoDataFrame({field: names, "code": [f"{PARENT}001", f"{PARENT}002"], "parent_code": [PARENT] * 2},
                                  geometry=halves, crs="EPSG:4490")


def open_dialog(qtbot, store, path):
    dialog = ImportDialog(store, path, level=4)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: not dialog.busy, timeout=20_000)
    return dialog


def wait(qtbot, dialog):
    dialog._timer.stop()
    dialog.refresh()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=20_000)


def level4(store):
    with store.engine.connect() as connection:
        return sorted(g.name for g in read_grids(connection, levels=[4]))


def test_problems_are_listed_per_feature_and_nothing_can_be_imported(qtbot, tmp_path):
    store = open_store(str(tmp_path / "w.sqlite"))
    build_small_workspace(store)
    path = tmp_path / "bad.geojson"
    frame = parts(["古寨村第1网格", ""])
    frame.loc[1, "parent_code"] = "999"
    frame.to_file(path)
    dialog = open_dialog(qtbot, store, path)
    rows = dialog.preview.rows
    assert [r.number for r in rows] == [1, 2]
    assert rows[0].problems == [] and rows[0].geometry is not None
    assert rows[1].problems == ["empty name"]
    assert (rows[1].code, rows[1].parent_code, rows[1].geometry) == (f"{PARENT}002", "999", None)  # as in the file
    assert dialog.table.item(1, 5).text() == "empty name"
    assert not dialog.import_button.isEnabled() and not dialog.run_import()
    assert "其中 1 个有问题" in dialog.summary.text()
    assert level4(store) == []
    store.close()


def test_field_mapping_and_import_all(qtbot, tmp_path):
    store = open_store(str(tmp_path / "w.sqlite"))
    build_small_workspace(store)
    path = tmp_path / "mingcheng.geojson"
    parts(["古寨村第1网格", "古寨村第2网格"], field="mingcheng").to_file(path)
    dialog = open_dialog(qtbot, store, path)
    assert not dialog.preview.ok
    assert any("--name-field" in line for line in dialog.preview.file_problems)  # no name field found
    assert [dialog.name_box.itemText(i) for i in range(dialog.name_box.count())][1:] == ["mingcheng", "code", "parent_code"]
    dialog.set_field("name", "mingcheng")
    wait(qtbot, dialog)
    assert dialog.preview.ok and dialog.import_button.isEnabled()
    assert [r.name for r in dialog.preview.rows] == ["古寨村第1网格", "古寨村第2网格"]
    assert abs(dialog.preview.rows[0].area_m2 - 2 * dialog.preview.rows[1].area_m2 / 2) < 1
    assert dialog.run_import() and dialog.imported == 2
    assert level4(store) == ["古寨村第1网格", "古寨村第2网格"]
    store.close()


def test_crs_choice_moves_the_features(qtbot, tmp_path):
    store = open_store(str(tmp_path / "w.sqlite"))
    build_small_workspace(store)
    path = tmp_path / "amap.geojson"
    parts(["甲", "乙"]).to_file(path)
    dialog = open_dialog(qtbot, store, path)
    plain = dialog.preview.rows[0].geometry
    dialog.crs_box.setCurrentIndex(dialog.crs_box.findData("gcj02"))
    wait(qtbot, dialog)
    shifted = dialog.preview.rows[0].geometry
    dx = shifted.bounds[0] - plain.bounds[0]
    assert -0.01 < dx < -0.003  # GCJ-02 → WGS84 moves Jincheng some 500 m west
    dialog.crs_box.setEditText("EPSG:99999")
    wait(qtbot, dialog)
    assert dialog.preview.file_problems and not dialog.import_button.isEnabled()
    store.close()


def test_kml_and_kmz_from_google_earth(qtbot, tmp_path):
    store = open_store(str(tmp_path / "w.sqlite"))
    build_small_workspace(store)
    kml = tmp_path / "grids.kml"
    pyogrio.write_dataframe(parts(["古寨村第1网格", "古寨村第2网格"]).to_crs("EPSG:4326"), kml, driver="KML")
    kmz = tmp_path / "grids.kmz"
    with zipfile.ZipFile(kmz, "w") as archive:
        archive.write(kml, "doc.kml")
    dialog = open_dialog(qtbot, store, kmz)
    assert dialog.preview.ok, dialog.summary.text()
    assert [(r.code, r.name, r.parent_code) for r in dialog.preview.rows] == [
        (f"{PARENT}001", "古寨村第1网格", PARENT), (f"{PARENT}002", "古寨村第2网格", PARENT)]
    assert dialog.run_import()
    assert level4(store) == ["古寨村第1网格", "古寨村第2网格"]
    store.close()


def test_kml_folders_and_a_bad_placemark_are_shown_row_by_row(qtbot, tmp_path):
    store = open_store(str(tmp_path / "w.sqlite"))
    build_small_workspace(store)

    def mark(name, code, coordinates):
        return (f"<Placemark><name>{name}</name><ExtendedData><Data name='网格编码'><value>{code}</value></Data>"
                f"<Data name='上级编码'><value>{PARENT}</value></Data></ExtendedData><Polygon><outerBoundaryIs>"
                f"<LinearRing><coordinates>{coordinates}</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>")

    halves = parts(["甲", "乙"]).geometry
    ring = [" ".join(f"{x},{y},0" for x, y in half.exterior.coords) for half in halves]
    path = tmp_path / "奥维.kml"
    path.write_text("<?xml version='1.0' encoding='UTF-8'?><kml xmlns='http://www.opengis.net/kml/2.2'><Document>"
                    f"<Folder><name>古寨村</name>{mark('古寨村第1网格', PARENT + '001', ring[0])}"
                    f"{mark('古寨村第2网格', PARENT + '002', ring[1].replace(',0 ', ',0 x', 1))}</Folder>"
                    "</Document></kml>", encoding="utf-8")
    dialog = open_dialog(qtbot, store, path)
    rows = dialog.preview.rows
    assert [(r.name, r.code) for r in rows] == [("古寨村第1网格", f"{PARENT}001"), ("古寨村第2网格", f"{PARENT}002")]
    assert rows[0].problems == [] and rows[1].geometry is None
    assert rows[1].problems[0].startswith("unreadable coordinates 'x")
    assert dialog.table.item(1, 5).text() == rows[1].problems[0]
    assert not dialog.import_button.isEnabled() and not dialog.run_import()
    assert level4(store) == []
    store.close()
