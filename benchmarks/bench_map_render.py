"""Map render time at 1920×1080: full extent and 2 km-wide views, per workspace (in-process).

Reads a workspace with the ``envgrid render`` readers, builds the window's layers and paints
them with the canvas' render job (``MapRenderJob.render``) in this thread, offscreen. Each
view is rendered once to warm up (the first render of a zoom band builds its simplified
copy), then ``--runs`` times; the median is quoted. Also times identify (hit-test) with the
interaction index when it exists, and reports peak RSS.

    .venv/bin/python benchmarks/bench_map_render.py /tmp/big10k.sqlite [--runs 15]
    .venv/bin/python benchmarks/bench_map_render.py --scaling /tmp/big1k.sqlite /tmp/big10k.sqlite /tmp/big50k.sqlite

Modes: ``lod`` draws what the window draws (levels by scale, sources clustered);
``all`` forces all four grid levels at every scale (``envgrid render --levels 1,2,3,4``);
``plain`` is ``all`` with every source drawn (no clusters), the work a plain QGIS project does.
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

WIDTH, HEIGHT = 1920, 1080


def median_ms(render, runs: int) -> tuple[float, float, float]:
    render()  # warm-up: builds the zoom band's simplified copy, sprites, label widths
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        render()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), min(times), max(times)


def zoom_views(viewport, grids, count: int, width_m: float = 2000.0):
    """``count`` views 2 km wide (on the ground) centred on fourth-level grids spread over the district."""
    import numpy as np
    import shapely

    from desktop.widgets.map_geometry import lonlat_to_mercator
    from desktop.widgets.map_viewport import MapViewport

    fourth = [g for g in grids if g.level == 4] or grids
    picks = np.linspace(0, len(fourth) - 1, count).astype(int)
    views = []
    for i in picks:
        point = shapely.point_on_surface(fourth[i].boundary)
        x, y = lonlat_to_mercator(point.x, point.y)
        res = width_m / WIDTH / math.cos(math.radians(point.y))  # ground metres → mercator metres
        views.append(MapViewport(float(x), float(y), res, WIDTH, HEIGHT))
    return views


def bench(db: str, runs: int, zooms: int, save: str | None) -> dict:
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841
    from desktop.render_command import build_layers, full_extent, read_map_data, render_layers
    from desktop.widgets.map_viewport import MapViewport
    from gis.storage.store import open_store

    started = time.perf_counter()
    store = open_store(db, create=False)
    with store.engine.connect() as connection:
        data = read_map_data(connection)
    store.close()
    read_s = time.perf_counter() - started
    started = time.perf_counter()
    layers = {"lod": build_layers(data), "all": build_layers(data, forced_levels=(1, 2, 3, 4))}
    layers["plain"] = [copy.copy(layer) for layer in layers["all"]]  # every point drawn, as plain QGIS does
    for layer in layers["plain"]:
        if layer.key == "sources":
            layer.cluster = None
    build_s = time.perf_counter() - started
    full = MapViewport(width=WIDTH, height=HEIGHT).fitted(full_extent(layers["lod"]), margin=0.03)
    result = {"db": db, "grids": len(data.grids), "fourth": sum(g.level == 4 for g in data.grids),
              "sources": len(data.source_ids), "cases": len(data.cases), "read_s": read_s, "build_s": build_s,
              "scale_full": full.scale_denominator()}
    for mode, stack in layers.items():
        result[f"full_{mode}"] = median_ms(lambda: render_layers(stack, full), runs)
    views = zoom_views(full, data.grids, zooms)
    for mode, stack in layers.items():
        per_view = [median_ms(lambda v=v: render_layers(stack, v), max(3, runs // 2)) for v in views]
        result[f"zoom_{mode}"] = (statistics.median(p[0] for p in per_view), min(p[1] for p in per_view),
                                  max(p[2] for p in per_view))
    if save:
        render_layers(layers["lod"], full).save(f"{save}-full.png")
        render_layers(layers["lod"], views[len(views) // 2]).save(f"{save}-2km.png")
    result.update(hit_test(data, full, views))
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def hit_test(data, full, views) -> dict:
    """Identify at 200 points of the 2 km views (sources, cases, grids), median µs per click."""
    try:
        from desktop.widgets.map_hit import MapHitIndex
    except ImportError:
        return {}
    import numpy as np

    from desktop.widgets.map_geometry import mercator_to_lonlat

    class Point:  # what from_features reads
        __slots__ = ("id", "lon", "lat")

        def __init__(self, i, lon, lat):
            self.id, self.lon, self.lat = i, lon, lat

    sources = [Point(*row) for row in zip(data.source_ids, data.source_lon, data.source_lat)]
    started = time.perf_counter()
    index = MapHitIndex.from_features(data.grids, sources, data.cases)
    build = time.perf_counter() - started
    rng = np.random.default_rng(3)
    times = []
    for n in range(200):
        view = views[n % len(views)]
        x0, y0, x1, y1 = view.extent
        lon, lat = mercator_to_lonlat(rng.uniform(x0, x1), rng.uniform(y0, y1))
        started = time.perf_counter()
        index.identify(lon, lat, view.res)
        times.append((time.perf_counter() - started) * 1e6)
    return {"hit_build_s": build, "hit_us": (statistics.median(times), min(times), max(times))}


def print_result(r: dict) -> None:
    def fmt(triple):
        return f"{triple[0]:6.1f} ms (min {triple[1]:.1f}, max {triple[2]:.1f})"

    print(f"{r['db']}: {r['grids']:,} grids ({r['fourth']:,} fourth-level), {r['sources']:,} sources, "
          f"{r['cases']:,} cases; read {r['read_s']:.2f} s, layers {r['build_s']:.2f} s; "
          f"full extent 1:{r['scale_full']:,.0f}")
    for key, label in (("full_lod", "full extent, window LOD"), ("full_all", "full extent, all 4 levels"),
                       ("full_plain", "full extent, all, no clusters"), ("zoom_lod", "2 km views, window LOD"),
                       ("zoom_all", "2 km views, all 4 levels"), ("zoom_plain", "2 km views, all, no clusters")):
        print(f"  {label:28s} {fmt(r[key])}")
    if "hit_us" in r:
        print(f"  identify (hit-test)          {r['hit_us'][0]:6.0f} µs median (max {r['hit_us'][2]:.0f} µs; "
              f"index built in {r['hit_build_s']:.2f} s)")
    print(f"  peak RSS                     {r['peak_rss_mb']:6.0f} MB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", nargs="?")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--zooms", type=int, default=5, help="how many 2 km views (default 5)")
    parser.add_argument("--save", help="also write PREFIX-full.png and PREFIX-2km.png")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--scaling", nargs="+", metavar="DB", help="one fresh process per workspace; a table")
    args = parser.parse_args()
    if args.scaling:
        rows = []
        for db in args.scaling:
            out = subprocess.run([sys.executable, __file__, db, "--runs", str(args.runs), "--json"],
                                 check=True, capture_output=True, text=True).stdout
            rows.append(json.loads(out.strip().splitlines()[-1]))
            print_result(rows[-1])
        print("\n| fourth-level grids | full extent (window) | full extent (all levels) | 2 km view (window) "
              "| 2 km view (all levels) | peak RSS |\n|---:|---:|---:|---:|---:|---:|")
        for r in rows:
            print(f"| {r['fourth']:,} | {r['full_lod'][0]:.1f} ms | {r['full_all'][0]:.1f} ms | "
                  f"{r['zoom_lod'][0]:.1f} ms | {r['zoom_all'][0]:.1f} ms | {r['peak_rss_mb']:.0f} MB |")
        return 0
    if not args.db:
        parser.error("give a workspace, or --scaling DB …")
    result = bench(args.db, args.runs, args.zooms, args.save)
    print(json.dumps(result) if args.json else "", end="\n" if args.json else "")
    if not args.json:
        print_result(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
