"""The demo district: the real 晋城市城区 boundary cut into an invented four-level grid system."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import shapely

from gis.crs import geodesic_area_m2, gk_to_lonlat, project_to_gk, to_wgs84
from gis.demo import names
from gis.demo.subdivide import Node, build_hierarchy
from gis.domain import Grid

BOUNDARY_FILE = Path(__file__).resolve().parents[2] / "resources" / "data" / "jincheng_chengqu_gcj02.geojson"
DISTRICT_CODE = "140502"  # GB/T 2260
DISTRICT_NAME = "晋城市城区"
SURROUNDING = "泽州县"  # 城区 is an enclave in 泽州县: every outer edge faces it
# Seed 001: 8 towns/streets, 146 villages/communities, about 780 fourth-level grids.
COUNTS = (8, 146, 780)
PLAN_DATE = date(2018, 9, 5)

DUTIES = {
    1: "对全区环保攻坚任务的完成、环境突出问题整改和环保网格化监管体系建设负总责，协调解决本区重大环境监管问题。",
    2: "对本辖区环保攻坚任务完成、环境突出问题整改负责；做好巡查、发现、处置，超出本级职权的问题及时上报并配合处置。",
    3: "承担本辖区生态环境保护主要责任，开展巡查、发现、处置、报告、配合整改，完善污染源台账并做好信息上报。",
    4: "在上级网格长监督指导下，对本片区每日巡查，能处置的及时处置，需协调的及时上报并配合处置；接收群众举报。",
}


@dataclass(eq=False)
class DemoGrid:
    grid: Grid
    parent: DemoGrid | None


def load_district_boundary() -> shapely.MultiPolygon:
    """The real boundary in WGS84/CGCS2000 lon/lat (converted from the file's GCJ-02)."""
    data = json.loads(BOUNDARY_FILE.read_text(encoding="utf-8"))
    geom = shapely.geometry.shape(data["features"][0]["geometry"])
    return to_wgs84(geom, "gcj02")


def build_grid_levels(rng: np.random.Generator) -> dict[int, list[DemoGrid]]:
    """Grids of levels 1–4 with names, codes and parents; geometry in lon/lat, children tile parents."""
    boundary = load_district_boundary()
    projected, epsg = project_to_gk(boundary)
    tree = build_hierarchy(projected, COUNTS, rng, minimum=(1, 1, 2))

    def lonlat(node: Node) -> shapely.MultiPolygon:
        geom = gk_to_lonlat(node.geom, epsg)
        return geom if isinstance(geom, shapely.MultiPolygon) else shapely.MultiPolygon([geom])

    def make(node: Node, level: int, code: str, name: str, parent: DemoGrid | None) -> DemoGrid:
        geom = lonlat(node)
        grid = Grid(None, code, name, level, None, geom, geodesic_area_m2(geom), duties=DUTIES[level],
                    valid_from=PLAN_DATE)
        return DemoGrid(grid, parent)

    root = make(tree, 1, DISTRICT_CODE, DISTRICT_NAME, None)
    levels: dict[int, list[DemoGrid]] = {1: [root], 2: [], 3: [], 4: []}
    second_names = _second_level_names(tree.children, tree.geom)
    used: set[str] = set()
    centre = tree.geom.centroid
    radius = np.sqrt(tree.geom.area / np.pi)
    for i, (town_node, town_name) in enumerate(zip(tree.children, second_names)):
        town = make(town_node, 2, f"{DISTRICT_CODE}{i + 1:03d}", town_name, root)
        levels[2].append(town)
        for j, village_node in enumerate(town_node.children):
            # Communities in the built-up centre, villages further out (the plan's 村(社区)).
            urban = village_node.geom.centroid.distance(centre) < 0.45 * radius and town_name != "北石店镇"
            village_name = names.place_name(rng, used) + ("社区" if urban else "村")
            village = make(village_node, 3, f"{town.grid.code}{j + 1:03d}", village_name, town)
            levels[3].append(village)
            for k, part_node in enumerate(village_node.children):
                levels[4].append(make(part_node, 4, f"{village.grid.code}{k + 1:03d}",
                                      f"{village_name}第{k + 1}网格", village))
    return levels


def _second_level_names(children: list[Node], district) -> list[str]:
    """Give the real town/street names to invented pieces by rough position (the town is the largest)."""
    centre = district.centroid
    rest = list(range(len(children)))
    assigned: dict[int, str] = {}
    town = max(rest, key=lambda i: children[i].geom.area)
    assigned[town] = "北石店镇"
    rest.remove(town)
    rest.sort(key=lambda i: children[i].geom.centroid.distance(centre))
    inner, outer = rest[:4], rest[4:]

    def x(i):
        return children[i].geom.centroid.x

    def y(i):
        return children[i].geom.centroid.y

    for name, pick in (("东街街道", max), ("西街街道", min)):
        chosen = pick(inner, key=x)
        assigned[chosen] = name
        inner.remove(chosen)
    assigned[max(inner, key=y)] = "北街街道"
    assigned[min(inner, key=y)] = "南街街道"
    west = min(outer, key=x)
    assigned[west] = "西上庄街道"
    outer.remove(west)
    assigned[max(outer, key=y)] = "矿区街道"
    assigned[min(outer, key=y)] = "钟家庄街道"
    return [assigned[i] for i in range(len(children))]
