"""The briefing map (``envgrid briefing``): what it reads, how it simplifies, and that the page is self-contained.

The page in a real browser is tested in ``test_briefing_chromium.py``; the small world built here is
shared with it.
"""
from __future__ import annotations

import json
import re
from datetime import date, timedelta

import folium
import numpy as np
import pytest
import shapely
from sqlalchemy import select

from case_world import NOW, build_case_world
from gis.aqi import aqi_level, hourly_aqi
from gis.briefing import Period, read_briefing_data, render_briefing_html
from gis.briefing.assets import AssetError, external_references, inline_assets
from gis.briefing.data import BriefingError
from gis.briefing.simplify import simplify_level
from gis.cli import main
from gis.domain import Assignment, Person, Role
from gis.storage import schema
from gis.storage.people import insert_assignments, insert_people
from gis.storage.sources import PollutionSource, insert_sources, seed_source_categories

PERIOD = Period(date(2024, 5, 1), NOW.date())
TOWN = "140502001"  # 西街道, the western half of the case world


def build_briefing_world(store):
    """The case world (15 grids, 260 cases, 2 air stations with 48 h of readings) plus leaders and sources."""
    world = build_case_world(store)
    with store.engine.begin() as connection:
        categories = seed_source_categories(connection)
        people = [Person(None, f"网格长{i}", f"1380000{i:04d}") for i in range(len(world.grids))]
        insert_people(connection, people)
        insert_assignments(connection, [Assignment(g.id, p.id, Role.LEADER, date(2020, 1, 1))
                                        for g, p in zip(world.grids.values(), people)])
        codes = sorted(categories)
        sources = []
        for i, grid in enumerate(g for g in world.grids.values() if g.level == 4):
            x, y = grid.boundary.centroid.coords[0]
            for j in range(3):
                sources.append(PollutionSource(None, f"企业{i}-{j}<b>", categories[codes[(i + j) % len(codes)]],
                                               x + 0.001 * j, y, grid_id=grid.id, is_key=j == 0))
        insert_sources(connection, sources)
    world.sources = sources
    return world


def expected_cases(world, grid_ids=None):
    return sorted(r["number"] for r in world.rows
                  if r["lon"] is not None and PERIOD.start <= r["created_at"] < PERIOD.end
                  and (grid_ids is None or r["grid_id"] in grid_ids))


def subtree_ids(world, code):
    return {g.id for g in world.grids.values() if g.code.startswith(code)}


def test_data_is_the_period_and_the_subtree(store):
    world = build_briefing_world(store)
    with store.engine.connect() as connection:
        everything = read_briefing_data(connection, PERIOD)
        town = read_briefing_data(connection, PERIOD, TOWN)
        with pytest.raises(BriefingError, match="--grid 999: no grid has this code"):
            read_briefing_data(connection, PERIOD, "999")

    assert len(everything.grids) == len(world.grids) == 15
    assert everything.title_place == "测试城区"
    assert sorted(c.number for c in everything.cases) == expected_cases(world)
    assert 0 < len(everything.cases) < len(world.rows)  # the period leaves some out
    assert everything.unlocated_cases == sum(1 for r in world.rows if r["lon"] is None
                                             and PERIOD.start <= r["created_at"] < PERIOD.end)
    assert len(everything.sources) == len(world.sources) and len(everything.stations) == 2
    some = world.grids["140502002001"]
    assert everything.leaders[some.id][0][0] == "网格长" and everything.leaders[some.id][0][2].startswith("1380000")

    ids = subtree_ids(world, TOWN)
    assert {g.id for g in town.grids} == ids and town.root.code == TOWN and town.title_place == "西街道"
    assert sorted(c.number for c in town.cases) == expected_cases(world, ids)
    assert {s.grid_id for s in town.sources} <= ids and len(town.sources) == 4 * 3
    assert [s.name for s in town.stations] == ["东城空气站"]  # station 0 sits in 140502001


def test_station_aqi_is_the_latest_hour_in_hj633_colours(store):
    world = build_briefing_world(store)
    with store.engine.connect() as connection:
        data = read_briefing_data(connection, PERIOD)
    last = {r["pollutant"]: r["avg"] for r in world.readings
            if r["station_id"] == world.stations[1] and r["data_time"] == NOW}
    expected = hourly_aqi(last, pm_average="1h")
    station = next(s for s in data.stations if s.name == "西城空气站")
    assert station.aqi.aqi == expected.aqi and station.aqi.level == aqi_level(expected.aqi)
    html = render_briefing_html(data)
    assert f"background:{station.aqi.level.colour}" in html and f">{expected.aqi}<" in html.replace("\\u003c", "<")


def test_page_is_self_contained_and_escapes_names(store):
    build_briefing_world(store)
    with store.engine.connect() as connection:
        data = read_briefing_data(connection, PERIOD)
    html = render_briefing_html(data)
    assert external_references(html) == []
    assert not re.search(r"\bsrc\s*=\s*[\"']?https?:", html)  # (Leaflet's own attribution is a plain link)
    assert "cdn." not in html.lower() and "$(" not in html.split("/* briefing.js")[1]  # no jQuery-using template
    assert "Leaflet 1.9.4" in html and "MarkerClusterGroup" in html and "L.heatLayer" in html
    assert "data:image/png;base64," in html  # the layer-control icon, inlined
    assert "<b>" not in html and "企业0-0\\u003cb>" in html  # names are data, never markup
    assert "测试城区 网格化环境监管简报图" in html and "2024年05月01日 — 2024年05月20日" in html
    # The class-level CDN lists of folium are left as folium has them.
    assert any("cdn" in url for _, url in folium.Map.default_js)
    # One JSON block per layer, parseable, with the features the store has.
    blocks = dict(re.findall(r'<script type="application/json" id="(\w+)_data">(.*?)</script>', html, re.S))
    grid_blocks = [json.loads(v) for k, v in blocks.items() if k.startswith("grid_layer")]
    assert sorted(len(b["features"]) for b in grid_blocks) == [1, 2, 4, 8]


def test_a_folium_element_with_an_unbundled_asset_is_refused():
    map_ = folium.Map(tiles=None)
    from folium.plugins import Fullscreen
    Fullscreen().add_to(map_)
    with pytest.raises(AssetError, match="not bundled"):
        inline_assets(map_)


def _wiggly_pair():
    """Two squares ~1 km wide sharing a west–east edge with 400 vertices jittered by up to 0.2 m."""
    rng = np.random.default_rng(3)
    xs = np.linspace(112.80, 112.81, 401)
    ys = 35.50 + rng.uniform(-1.8e-6, 1.8e-6, xs.size)
    edge = list(zip(xs, ys))
    south = shapely.Polygon([(112.80, 35.49)] + [(112.81, 35.49)] + edge[::-1])
    north = shapely.Polygon(edge + [(112.81, 35.51), (112.80, 35.51)])
    return south, north


def test_simplify_keeps_the_shared_edge_shared():
    south, north = _wiggly_pair()
    assert shapely.coverage_is_valid([south, north])
    (a, b), how = simplify_level([south, north], 1.0)
    assert how == "coverage"
    before = shapely.get_num_coordinates([south, north])
    assert (shapely.get_num_coordinates([a, b]) < before * 0.35).all()
    assert bool(shapely.coverage_is_valid([a, b]))  # no gap, no overlap: still one edge
    assert a.intersection(b).length == pytest.approx(0.01, rel=1e-3)
    assert abs(a.area + b.area - shapely.union(a, b).area) < 1e-12
    coords = shapely.get_coordinates([a, b])
    assert np.array_equal(coords, np.round(coords, 6))


def test_simplify_falls_back_for_overlaps_and_leaves_points():
    south, north = _wiggly_pair()
    overlapping = shapely.affinity.translate(north, yoff=-0.001)
    outlines, how = simplify_level([south, overlapping], 1.0)
    assert how == "each" and all(o.is_valid for o in outlines)
    assert (shapely.get_num_coordinates(outlines) < shapely.get_num_coordinates([south, overlapping]) * 0.35).all()
    points, how = simplify_level([shapely.Point(112.1234567891, 35.1)], 1.0)
    assert how == "none" and points[0].x == 112.123457


def test_cli_writes_the_page_and_reports_bad_input(sqlite_url, tmp_path, capsys):
    from gis.storage.store import open_store

    store = open_store(sqlite_url)
    world = build_briefing_world(store)
    store.close()
    out = tmp_path / "brief.html"
    assert main(["briefing", str(out), "--db", sqlite_url, "--from", "2024-05-01", "--to", "2024-05-20",
                 "--grid", TOWN]) == 0
    printed = capsys.readouterr().out
    cases = expected_cases(world, subtree_ids(world, TOWN))
    assert f"西街道, 2024年05月01日 — 2024年05月20日: 7 grids, 12 sources, {len(cases)} cases" in printed
    assert "西街道 网格化环境监管简报图" in out.read_text(encoding="utf-8")
    for argv, message in (
        (["--from", "2024-5-1x"], "--from must be a date YYYY-MM-DD, got '2024-5-1x'"),
        (["--from", "2024-05-21", "--to", "2024-05-20"], "--from 2024-05-21 is after --to 2024-05-20"),
        (["--grid", "42"], "--grid 42: no grid has this code"),
        (["--tiles", "http://tiles/x.png"], "--tiles must be a URL template with {z}, {x} and {y}"),
    ):
        assert main(["briefing", str(tmp_path / "bad.html"), "--db", sqlite_url, *argv]) == 1
        assert message in capsys.readouterr().err
    assert not (tmp_path / "bad.html").exists()


def test_default_period_is_the_last_30_days():
    period = Period.of(None, None, today=date(2026, 3, 1))
    assert (period.first, period.last) == (date(2026, 3, 1) - timedelta(days=29), date(2026, 3, 1))
    assert Period.of(date(2026, 1, 1), None, today=date(2026, 3, 1)).last == date(2026, 3, 1)


def test_tiles_are_the_only_network_reference(store):
    build_briefing_world(store)
    with store.engine.connect() as connection:
        data = read_briefing_data(connection, PERIOD)
        assert connection.execute(select(schema.cases.c.id)).first() is not None
    html = render_briefing_html(data, tiles="http://10.1.2.3/tiles/{z}/{x}/{y}.png")
    assert "http://10.1.2.3/tiles/{z}/{x}/{y}.png" in html and external_references(html) == []
