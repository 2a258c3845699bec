"""Tile arithmetic, MBTiles files, tile sources and the saved map styles (no Qt)."""
from __future__ import annotations

import math
import sqlite3

import pytest

from gis.map_styles import LayerStyle, MapStyles
from gis.tile_sources import (
    GCJ02,
    Basemap,
    BasemapConfig,
    MissingTokenError,
    TileSource,
    builtin_basemaps,
    mbtiles_basemap,
    read_basemap_config,
    redact_url,
    write_basemap_config,
)
from gis.tiles import (
    WORLD_HALF_M,
    MBTilesReader,
    resolution_for_zoom,
    tile_bounds,
    tile_range,
    tiles_for_view,
    tms_row,
    write_mbtiles,
    zoom_for_resolution,
)

JINCHENG_X, JINCHENG_Y = 12_562_000.0, 4_231_000.0  # ~112.85°E 35.50°N in EPSG:3857


def test_resolution_and_zoom_are_inverse():
    assert resolution_for_zoom(0) == pytest.approx(156543.03392804097)
    for z in range(20):
        assert zoom_for_resolution(resolution_for_zoom(z)) == z
    # Halfway (in log2) between two zooms goes to the nearer one.
    assert zoom_for_resolution(resolution_for_zoom(12) * 1.3) == 12
    assert zoom_for_resolution(resolution_for_zoom(12) * 1.5) == 11


def test_hidpi_screens_take_one_zoom_more():
    res = resolution_for_zoom(14)
    assert zoom_for_resolution(res, dpr=2.0) == 15
    assert zoom_for_resolution(res, dpr=2.0, tile_size=512) == 14  # @2x tiles: same zoom, twice the pixels


def test_zoom_is_clamped_to_the_source():
    assert zoom_for_resolution(0.01, max_zoom=18) == 18
    assert zoom_for_resolution(1e6, min_zoom=3) == 3
    with pytest.raises(ValueError, match="positive"):
        zoom_for_resolution(0.0)


def test_tile_bounds_cover_the_world():
    assert tile_bounds(0, 0, 0) == pytest.approx((-WORLD_HALF_M, -WORLD_HALF_M, WORLD_HALF_M, WORLD_HALF_M))
    min_x, min_y, max_x, max_y = tile_bounds(1, 1, 0)  # north-east quarter
    assert (min_x, min_y, max_x, max_y) == pytest.approx((0, 0, WORLD_HALF_M, WORLD_HALF_M))


def test_tile_range_finds_the_tile_of_a_point():
    z = 12
    x0, x1, y0, y1 = tile_range((JINCHENG_X, JINCHENG_Y, JINCHENG_X + 1, JINCHENG_Y + 1), z)
    assert (x0, y0) == (x1, y1)
    min_x, min_y, max_x, max_y = tile_bounds(z, x0, y0)
    assert min_x <= JINCHENG_X <= max_x and min_y <= JINCHENG_Y <= max_y
    # Known value: 112.85°E, 35.50°N is tile 12/3331/1615 on every slippy map.
    assert (x0, y0) == (3331, 1615)


def test_tiles_for_view_start_in_the_middle_and_clamp_rows():
    span = WORLD_HALF_M * 2 / 2 ** 10
    extent = (JINCHENG_X - 2 * span, JINCHENG_Y - 2 * span, JINCHENG_X + 2 * span, JINCHENG_Y + 2 * span)
    tiles = tiles_for_view(extent, 10)
    assert len(tiles) == 25
    centre = tile_range((JINCHENG_X, JINCHENG_Y, JINCHENG_X, JINCHENG_Y), 10)
    assert tiles[0] == (centre[0], centre[2])
    _, _, y0, y1 = tile_range((-1e9, -1e9, 1e9, 1e9), 2)
    assert (y0, y1) == (0, 3)


def test_tms_row_flips():
    assert tms_row(0, 0) == 0
    assert tms_row(3, 0) == 7 and tms_row(3, tms_row(3, 2)) == 2


def test_mbtiles_round_trip_flips_rows(tmp_path):
    path = write_mbtiles(tmp_path / "t.mbtiles", {(3, 6, 2): b"north", (3, 6, 5): b"south"},
                         {"name": "测试底图"})
    with sqlite3.connect(path) as connection:  # stored in TMS rows, as the spec says
        rows = dict(connection.execute("SELECT tile_row, tile_data FROM tiles").fetchall())
    assert rows == {5: b"north", 2: b"south"}
    reader = MBTilesReader(path)
    try:
        assert reader.read_tile(3, 6, 2) == b"north"
        assert reader.read_tile(3, 6, 5) == b"south"
        assert reader.read_tile(3, 0, 0) is None
        assert reader.metadata()["name"] == "测试底图"
        assert reader.zoom_range() == (3, 3)
    finally:
        reader.close()
    basemap = mbtiles_basemap(path)
    assert basemap.layers[0].kind == "mbtiles" and basemap.name == "测试底图"
    assert (basemap.layers[0].min_zoom, basemap.layers[0].max_zoom) == (3, 3)


def test_mbtiles_reader_refuses_other_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        MBTilesReader(tmp_path / "none.mbtiles")
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE grids (id INTEGER)").connection.close()
    with pytest.raises(ValueError, match="tiles"):
        MBTilesReader(other)


def test_tianditu_urls_need_the_token_and_rotate_subdomains():
    vec = next(b for b in builtin_basemaps() if b.id == "tianditu-vec")
    assert [layer.id for layer in vec.layers] == ["tianditu-vec", "tianditu-cva"]
    assert vec.missing_tokens({}) == ["tianditu"]
    with pytest.raises(MissingTokenError):
        vec.layers[0].tile_url(5, 1, 2, {})
    url = vec.layers[0].tile_url(12, 3332, 1627, {"tianditu": "abc123"})
    assert url.startswith("https://t7.tianditu.gov.cn/vec_w/wmts?")  # (3332 + 1627) % 8
    assert "TILEMATRIX=12&TILEROW=1627&TILECOL=3332&tk=abc123" in url and "LAYER=vec" in url
    assert "LAYER=cva" in vec.layers[1].tile_url(1, 0, 0, {"tianditu": "k"})
    assert redact_url(url).endswith("tk=***")


def test_xyz_template_placeholders():
    source = TileSource("intranet", "局域网", "http://10.0.0.5/{z}/{x}/{y}.png?tms={-y}&s={s}", subdomains=("a", "b"))
    assert source.tile_url(2, 1, 0) == "http://10.0.0.5/2/1/0.png?tms=3&s=b"


def test_amap_is_marked_gcj02():
    amap = next(b for b in builtin_basemaps() if b.id == "amap")
    assert amap.gcj02 and amap.layers[0].crs == GCJ02
    assert not any(b.gcj02 for b in builtin_basemaps() if b.id != "amap")


def test_cache_name_ignores_the_key_but_not_the_server():
    a = TileSource("x", "x", "http://h/{z}/{x}/{y}.png?tk={tk}")
    assert a.cache_name() == TileSource("x", "x", "http://h/{z}/{x}/{y}.png?tk={tk}", token="other").cache_name()
    assert a.cache_name() != TileSource("x", "x", "http://other/{z}/{x}/{y}.png?tk={tk}").cache_name()
    assert "/" not in TileSource("a/b c", "", "u").cache_name()


def test_basemap_config_round_trip(tmp_path):
    config = BasemapConfig(tokens={"tianditu": "k1"})
    added = config.add(Basemap("intranet", "局域网底图", (TileSource("intranet", "局域网", "http://10.1.2.3/{z}/{x}/{y}.png",
                                                                    max_zoom=17),)))
    config.add(Basemap("osm", "clash", (TileSource("o", "o", "http://o/{z}/{x}/{y}"),)))
    path = write_basemap_config(config, tmp_path / "cfg" / "basemaps.json")
    again = read_basemap_config(path)
    assert again.tokens == {"tianditu": "k1"}
    assert again.find("intranet") == added
    assert again.find("osm").builtin and again.find("osm-custom") is not None  # built-ins are not overridden
    assert [b.id for b in again.basemaps()][:2] == ["none", "tianditu-vec"]


def test_broken_config_falls_back(tmp_path, monkeypatch):
    path = tmp_path / "basemaps.json"
    path.write_text("{not json", encoding="utf-8")
    assert read_basemap_config(path).custom == []
    path.write_text('{"basemaps": [{"id": "ok", "layers": [{"url": "http://a/{z}/{x}/{y}"}]}, {"layers": []}]}')
    assert [b.id for b in read_basemap_config(path).custom] == ["ok"]
    assert read_basemap_config(tmp_path / "missing.json").tokens == {}
    monkeypatch.setenv("ENVGRID_TIANDITU_TK", "from-env")
    assert BasemapConfig().effective_tokens() == {"tianditu": "from-env"}


def test_map_styles_round_trip_and_tolerance():
    styles = MapStyles(basemap="tianditu-vec", order=["grid-2", "cases"])
    styles.layer("grid-2").colour = "#ff0000"
    styles.layer("grid-2").width = 2.5
    styles.layer("cases").opacity = 0.4
    styles.layer("cases").klass("closed").visible = True
    data = styles.to_json()
    again = MapStyles.from_json(data)
    assert again.to_json() == data
    assert MapStyles.from_json({"layers": {"g": {"colour": "#FF0000"}}}).layers["g"].colour == "#ff0000"
    broken = MapStyles.from_json({"layers": {"a": {"opacity": "x", "colour": "red", "width": math.inf,
                                                   "visible": False}}, "order": "nope"})
    assert broken.layers["a"] == LayerStyle(visible=False)
    assert MapStyles.from_json(None) == MapStyles()


def test_saved_order_keeps_new_layers_near_their_neighbours():
    # Saved by an older version that had no stations layer, with sources moved under the grids.
    styles = MapStyles(order=["sources", "grid-2", "gone", "grid-1", "cases"])
    default = ["grid-2", "grid-1", "grid-3-new", "sources", "stations", "cases"]
    assert styles.ordered(default) == ["sources", "stations", "grid-2", "grid-1", "grid-3-new", "cases"]
    assert MapStyles().ordered(default) == default
