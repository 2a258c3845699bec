"""The briefing page in a real headless Chromium with networking off (Debian ``chromium``; .ci/run installs it).

Checks that the page renders without script errors, that every layer holds the features the
workspace has, that ``--grid`` zooms in, and that no request leaves the file.
"""
from __future__ import annotations

import re

import pytest

from gis.briefing.chromium import find_chromium, open_page
from gis.cli import main
from gis.storage.store import open_store
from test_briefing import TOWN, build_briefing_world, expected_cases, subtree_ids

pytestmark = pytest.mark.skipif(find_chromium() is None,
                                reason="Chromium is not installed (apt-get install chromium); .ci/run installs it")


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    folder = tmp_path_factory.mktemp("briefing")
    url = str(folder / "workspace.sqlite")
    store = open_store(url)
    world = build_briefing_world(store)
    store.close()
    whole, town = folder / "whole.html", folder / "town.html"
    period = ["--from", "2024-05-01", "--to", "2024-05-20"]
    assert main(["briefing", str(whole), "--db", url, *period]) == 0
    assert main(["briefing", str(town), "--db", url, *period, "--grid", TOWN]) == 0
    popups = ("envgridBriefing.openGridPopup(3)", "envgridBriefing.openGridPopup(4)")
    return world, open_page(whole, show_all=True, screenshot=True, evaluate=popups), open_page(town, show_all=True)


def test_whole_district_renders_offline_with_every_feature(pages):
    world, report, _ = pages
    assert report.ready, report.errors
    assert report.errors == []
    assert report.requests == [report.url] and report.outside_requests == []
    by_level = {str(level): sum(1 for g in world.grids.values() if g.level == level) for level in (1, 2, 3, 4)}
    assert report.counts["grids"] == by_level  # all four levels are shown when the page opens
    assert report.counts["cases"] == report.counts["heat"] == len(expected_cases(world))
    assert report.counts["sources"] == len(world.sources) and report.counts["stations"] == 2
    assert report.all_counts["grids"] == by_level and report.all_counts["sources"] == len(world.sources)
    assert "测试城区 网格化环境监管简报图" in report.title_text and "2024年05月01日" in report.title_text
    for entry in ("四级网格", "餐饮油烟", "已超期", "严重污染（301–500）", "无数据"):
        assert entry in report.legend_text
    assert report.screenshot.startswith(b"\x89PNG") and len(report.screenshot) > 20_000


def test_grid_popups_name_the_grid_and_its_leader(pages):
    world, report, _ = pages
    for level, text in zip((3, 4), report.evaluated):
        grid = min((g for g in world.grids.values() if g.level == level), key=lambda g: g.code)
        index = list(world.grids.values()).index(grid)
        assert text.splitlines()[0] == grid.name
        assert f"编码\t{grid.code}" in text and f"级别\t{('三级网格', '四级网格')[level - 3]}" in text
        assert re.search(rf"网格长\t网格长{index}\s+1380000{index:04d}\n", text), text


def test_grid_option_keeps_the_subtree_and_zooms_in(pages):
    world, whole, town = pages
    assert town.ready and town.errors == [] and town.outside_requests == []
    ids = subtree_ids(world, TOWN)
    in_town = [g for g in world.grids.values() if g.id in ids]
    assert town.all_counts["grids"] == {str(level): sum(1 for g in in_town if g.level == level) for level in (2, 3, 4)}
    assert town.counts["cases"] == len(expected_cases(world, ids)) < whole.counts["cases"]
    assert town.all_counts["sources"] == 12 and town.counts["stations"] == 1
    # Zoomed to the town: its whole outline in view, the view centred on it, at least as close as the district.
    west, south, east, north = town.counts["view"]
    box = world.grids[TOWN].boundary.bounds
    assert west <= box[0] and south <= box[1] and east >= box[2] and north >= box[3]
    assert abs((west + east) / 2 - (box[0] + box[2]) / 2) < 0.005 and town.counts["zoom"] >= whole.counts["zoom"]
    assert abs((whole.counts["view"][0] + whole.counts["view"][2]) / 2 - (box[0] + box[2]) / 2) > 0.03
    assert town.title_text.startswith("西街道")
