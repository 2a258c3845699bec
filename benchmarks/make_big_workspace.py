"""Build a synthetic large workspace for the map benchmarks (deterministic for a seed).

The upper levels are the demo's: the real 晋城市城区 boundary split into 8 towns/streets and
146 villages/communities by ``gis.demo.district``. Each village is then cut into many
fourth-level grids (10,000 by default; ``--grids 1000`` / ``--grids 50000`` for the scaling
table), 100,000 pollution sources and 20,000 cases are scattered over them, and everything
is written to a SQLite workspace.

The fourth level is cut with a plain Voronoi diagram of jittered-grid seeds noded with the
village boundary in one arrangement (as ``gis.demo.subdivide`` does with its power diagrams,
only without the area balancing, which would take minutes at 50,000 pieces); shared vertices
are then synchronised across all leaves and every parent is rebuilt as the exact union of its
children, so each level is a valid coverage nested in the one above.

    .venv/bin/python benchmarks/make_big_workspace.py /tmp/big10k.sqlite [--grids 10000]
        [--sources 100000] [--cases 20000] [--seed 7] [--force]
"""
from __future__ import annotations

import argparse
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gis.crs import gk_to_lonlat, project_to_gk  # noqa: E402
from gis.demo import district, ledger  # noqa: E402
from gis.demo.subdivide import _insert_shared_vertices, allocate  # noqa: E402
from gis.domain import CaseSource, CaseState, Grid  # noqa: E402
from gis.storage import schema  # noqa: E402
from gis.storage.cases import seed_case_categories  # noqa: E402
from gis.storage.grids import insert_grids  # noqa: E402
from gis.storage.info import put_setting  # noqa: E402
from gis.storage.sources import insert_sources, seed_source_categories  # noqa: E402
from gis.storage.store import open_store  # noqa: E402

AS_OF = datetime(2024, 6, 1, 8, 0)
# Share of cases per state: a year of history, so most are closed; ~13 % are still open.
STATE_SHARES = {CaseState.CLOSED: 0.80, CaseState.FALSE_REPORT: 0.04, CaseState.DUPLICATE: 0.03,
                CaseState.RECHECK: 0.02, CaseState.RECTIFIED: 0.02, CaseState.DISPATCHED: 0.03,
                CaseState.IN_PROGRESS: 0.03, CaseState.TRANSFERRED: 0.01, CaseState.PENDING: 0.015,
                CaseState.RETURNED: 0.0025, CaseState.ESCALATED: 0.0025}


def voronoi_split(geom, k: int, rng: np.random.Generator):
    """``k`` pieces of ``geom`` (metres) that tile it exactly: Voronoi cells noded with its boundary."""
    if k <= 1:
        return [geom]
    xmin, ymin, xmax, ymax = geom.bounds
    step = np.sqrt(geom.area / k)
    seeds = np.empty((0, 2))
    shapely.prepare(geom)
    while len(seeds) < k:  # a jittered grid inside the parent gives even, compact cells
        nx, ny = int(np.ceil((xmax - xmin) / step)) + 1, int(np.ceil((ymax - ymin) / step)) + 1
        gx, gy = np.meshgrid(np.arange(nx), np.arange(ny))
        xy = (np.column_stack([gx.ravel(), gy.ravel()]) + rng.uniform(0.15, 0.85, (nx * ny, 2))) * step
        xy += (xmin, ymin)
        seeds = xy[shapely.contains_xy(geom, xy[:, 0], xy[:, 1])]
        step *= 0.9
    seeds = seeds[rng.choice(len(seeds), size=k, replace=False)]
    edges = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=shapely.box(xmin, ymin, xmax, ymax)
                                     .buffer(step * 4), only_edges=True)
    linework = shapely.union_all(np.concatenate([[shapely.boundary(geom)], shapely.get_parts(edges)]))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(linework)))
    inner = shapely.get_coordinates(shapely.point_on_surface(faces))
    keep = shapely.contains_xy(geom, inner[:, 0], inner[:, 1])
    faces, inner = faces[keep], inner[keep]
    owner = np.argmin(((inner[:, None, :] - seeds[None, :, :]) ** 2).sum(axis=2), axis=1)
    pieces = [shapely.coverage_union_all(faces[owner == j]) for j in range(k) if (owner == j).any()]
    # Order north to south, west to east, like the demo's reading order.
    points = shapely.get_coordinates(shapely.point_on_surface(np.asarray(pieces, dtype=object)))
    order = np.lexsort((points[:, 0], -np.round(points[:, 1] / step)))
    return [pieces[i] for i in order]


def build_levels(count: int, rng: np.random.Generator, say):
    say("upper levels (demo district)…")
    levels = district.build_grid_levels(rng)
    root, towns, villages = levels[1][0].grid, [n.grid for n in levels[2]], [n.grid for n in levels[3]]
    projected_root, epsg = project_to_gk(root.boundary)
    projected = [project_to_gk(v.boundary, epsg)[0] for v in villages]
    per_village = allocate(count, [g.area for g in projected], 2)
    say(f"cutting {count:,} fourth-level grids…")
    pieces, owners = [], []
    for index, (geom, k) in enumerate(zip(projected, per_village)):
        for piece in voronoi_split(geom, k, rng):
            pieces.append(piece)
            owners.append(index)
    say("synchronising shared vertices…")
    pieces = _insert_shared_vertices(pieces)
    owners = np.asarray(owners)
    village_geoms = [shapely.coverage_union_all(np.asarray(pieces, dtype=object)[owners == i])
                     for i in range(len(villages))]
    town_index = {id(t): i for i, t in enumerate(towns)}
    town_of_village = [town_index[id(n.parent.grid)] for n in levels[3]]
    town_geoms = [shapely.coverage_union_all([village_geoms[i] for i in range(len(villages))
                                              if town_of_village[i] == t]) for t in range(len(towns))]
    root_geom = shapely.coverage_union_all(town_geoms)

    def lonlat(geom):
        out = gk_to_lonlat(geom, epsg)
        return out if isinstance(out, shapely.MultiPolygon) else shapely.MultiPolygon([out])

    say("back to lon/lat…")
    root.boundary, root.area_m2 = lonlat(root_geom), 0.0
    for grid, geom in zip(towns, town_geoms):
        grid.boundary, grid.area_m2 = lonlat(geom), 0.0
    for grid, geom in zip(villages, village_geoms):
        grid.boundary, grid.area_m2 = lonlat(geom), 0.0
    fourth, counters = [], [0] * len(villages)
    for piece, owner in zip(pieces, owners.tolist()):
        counters[owner] += 1
        village = villages[owner]
        fourth.append(Grid(None, f"{village.code}{counters[owner]:03d}", f"{village.name}第{counters[owner]}网格",
                           4, None, lonlat(piece), duties=district.DUTIES[4], valid_from=district.PLAN_DATE))
    return root, towns, villages, fourth, owners, town_of_village


def make_cases(count: int, sources, fourth, rng: np.random.Generator, category_ids: dict[str, int]) -> list[dict]:
    states = list(STATE_SHARES)
    shares = np.array([STATE_SHARES[s] for s in states])
    picked = rng.choice(len(states), size=count, p=shares / shares.sum())
    near = rng.random(count) < 0.7  # most cases are about a ledger source; the rest lie anywhere
    source_index = rng.integers(0, len(sources), count)
    random_xy, owners = ledger.random_points_in([g.boundary for g in fourth], int((~near).sum()), rng)
    case_categories = sorted(category_ids.values())
    sources_of = ([s.value for s in CaseSource])
    rows, r = [], 0
    for i in range(count):
        if near[i]:
            s = sources[source_index[i]]
            lon, lat = s.lon + rng.normal(0, 0.0003), s.lat + rng.normal(0, 0.0003)
            grid_id = s.grid_id
        else:
            lon, lat = float(random_xy[r, 0]), float(random_xy[r, 1])
            grid_id = fourth[owners[r]].id
            r += 1
        state = states[picked[i]]
        created = AS_OF - timedelta(hours=int(rng.integers(1, 24 * 365)))
        closed = created + timedelta(hours=int(rng.integers(2, 24 * 10))) if state in (
            CaseState.CLOSED, CaseState.FALSE_REPORT, CaseState.DUPLICATE) else None
        rows.append({"number": f"BIG{AS_OF:%Y}{i + 1:06d}", "source": sources_of[i % len(sources_of)],
                     "category_id": case_categories[int(rng.integers(0, len(case_categories)))],
                     "description": "基准测试案件", "location": shapely.Point(lon, lat), "lon": lon, "lat": lat,
                     "address": "", "grid_id": grid_id, "state": str(state), "reporter_name": "",
                     "reporter_phone": "", "created_at": created, "due_at": created + timedelta(hours=72),
                     "closed_at": closed, "version": 1})
    return rows


def build(out: Path, grids: int, sources: int, cases: int, seed: int, say) -> dict:
    rng = np.random.default_rng(seed)
    root, towns, villages, fourth, owners, town_of_village = build_levels(grids, rng, say)
    store = open_store(str(out))
    try:
        with store.engine.begin() as connection:
            say("writing grids…")
            insert_grids(connection, [root])
            for town in towns:
                town.parent_id = root.id
            insert_grids(connection, towns)
            for village, t in zip(villages, town_of_village):
                village.parent_id = towns[t].id
            insert_grids(connection, villages)
            for grid, owner in zip(fourth, owners.tolist()):
                grid.parent_id = villages[owner].id
            insert_grids(connection, fourth)
            say(f"writing {sources:,} sources…")
            categories = seed_source_categories(connection)
            town_name = {g.id: towns[town_of_village[o]].name for g, o in zip(fourth, owners.tolist())}
            ledger_rows = ledger.make_sources(fourth, town_name, categories, sources, rng, AS_OF.date())
            insert_sources(connection, ledger_rows)
            ids = connection.execute(schema.pollution_sources.select().with_only_columns(
                schema.pollution_sources.c.id).order_by(schema.pollution_sources.c.id)).scalars().all()
            for row, source_id in zip(ledger_rows, ids):
                row.id = source_id
            say(f"writing {cases:,} cases…")
            connection.execute(schema.cases.insert(),
                               make_cases(cases, ledger_rows, fourth, rng, seed_case_categories(connection)))
            put_setting(connection, "benchmark", {"seed": seed, "grids": grids, "sources": sources,
                                                   "cases": cases, "built": date.today().isoformat()})
    finally:
        store.close()
    return {"grids": 1 + len(towns) + len(villages) + len(fourth), "fourth": len(fourth),
            "sources": sources, "cases": cases}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="SQLite file to write")
    parser.add_argument("--grids", type=int, default=10_000, help="fourth-level grids (default 10,000)")
    parser.add_argument("--sources", type=int, default=100_000)
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--force", action="store_true", help="replace an existing file")
    args = parser.parse_args(argv)
    if args.grids < 292 or args.sources < 1 or args.cases < 0:
        parser.error("--grids must be at least 292 (two per village), --sources at least 1")
    if args.out.exists():
        if not args.force:
            parser.error(f"{args.out} exists; pass --force to replace it")
        args.out.unlink()
    started = time.perf_counter()

    def say(text: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {text}", flush=True)

    counts = build(args.out, args.grids, args.sources, args.cases, args.seed, say)
    say(f"wrote {args.out}: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
