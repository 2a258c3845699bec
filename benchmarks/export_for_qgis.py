"""Export a workspace to one GeoPackage for the QGIS side of the benchmark.

Grids come from ``envgrid export-grids`` (EPSG:4490, GeoPackage 1.2 for QGIS 3.22) into OUT;
the points go next to it, read straight from the workspace: ``OUT-sources.gpkg`` (category
code, key flag) and ``OUT-cases.gpkg`` (state). Separate files, because QGIS 3.22 reports
"unable to open database file" when seven layers share one GeoPackage.

    .venv/bin/python benchmarks/export_for_qgis.py /tmp/big10k.sqlite /tmp/big10k.gpkg
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db")
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    import geopandas
    import shapely
    from sqlalchemy import select

    from gis.storage import schema
    from gis.storage.store import open_store

    def beside(name: str) -> Path:
        return args.out.with_name(f"{args.out.stem}-{name}.gpkg")

    for path in (args.out, beside("sources"), beside("cases")):
        if path.exists():
            path.unlink()
    subprocess.run([sys.executable, str(ROOT / "main.py"), "export-grids", str(args.out), "--db", args.db],
                   check=True, cwd=ROOT)
    store = open_store(args.db, create=False)
    with store.engine.connect() as connection:
        s, c = schema.pollution_sources, schema.source_categories
        sources = connection.execute(select(s.c.id, s.c.lon, s.c.lat, c.c.code.label("category"), s.c.is_key)
                                     .join(c, c.c.id == s.c.category_id)).all()
        t = schema.cases
        cases = connection.execute(select(t.c.id, t.c.lon, t.c.lat, t.c.state).where(t.c.lon.is_not(None))).all()
    store.close()
    for name, rows, columns in (("sources", sources, ("id", "category", "is_key")), ("cases", cases, ("id", "state"))):
        frame = geopandas.GeoDataFrame(
            {col: [getattr(r, col) for r in rows] for col in columns},
            geometry=shapely.points([r.lon for r in rows], [r.lat for r in rows]), crs="EPSG:4490")
        if "is_key" in frame:
            frame["is_key"] = frame["is_key"].astype(int)
        frame.to_file(beside(name), layer=name, driver="GPKG", engine="pyogrio", VERSION="1.2")
    print(f"wrote {args.out}: grids, {len(sources):,} sources, {len(cases):,} cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
