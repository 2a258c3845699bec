"""``envgrid import-grids``, ``export-grids`` and ``import-sources``.

Thin wrappers over :mod:`gis.io.grids_io` and :mod:`gis.io.sources_io`: the counts go to stdout,
notes and problems to stderr. A problem in the input exits with 1 and writes nothing.
"""
from __future__ import annotations

import sys

CRS_HELP = ("CRS of the coordinates, overriding the file's own: EPSG:xxxx, gcj02 (Amap/Gaode, Tencent) "
            "or bd09 (Baidu); default: the file's .prj / crs, else WGS84")
ENCODING_HELP = "Shapefile text encoding, e.g. gbk (default: .cpg, else UTF-8, else GBK)"
LAYER_HELP = "layer to read from a GeoPackage with several layers (a KML is read whole)"


def register(subparsers) -> None:
    from gis.cli import add_db_argument

    grids = subparsers.add_parser("import-grids", help="import grid boundaries of one level (all or nothing)")
    grids.add_argument("file", help="GeoJSON, Shapefile (.shp), GeoPackage (.gpkg) or KML/KMZ (Google Earth, 奥维; "
                                    "placemark names are the grid names, ExtendedData the other fields)")
    add_db_argument(grids)
    grids.add_argument("--level", type=int, required=True, help="level 1-5 of every grid in the file")
    grids.add_argument("--name-field", help="attribute holding the name (default: name, NAME, 名称, 网格名称)")
    grids.add_argument("--code-field", help="attribute holding the code (default: code, CODE, 编码, 网格编码, adcode; "
                                            "without one, codes <parent>-<n> are generated)")
    grids.add_argument("--parent-code-field", help="attribute holding the parent grid's code "
                                                   "(default: parent_code, parent, 上级编码)")
    grids.add_argument("--src-crs", help=CRS_HELP)
    grids.add_argument("--encoding", help=ENCODING_HELP)
    grids.add_argument("--layer", help=LAYER_HELP)
    grids.set_defaults(handler=run_import_grids)

    export = subparsers.add_parser("export-grids", help="export grids to .geojson, .gpkg, .shp (EPSG:4490) or .kml/.kmz")
    export.add_argument("out", help="output file; the extension chooses the format")
    add_db_argument(export)
    export.add_argument("--level", type=int, help="only grids of this level")
    export.set_defaults(handler=run_export_grids)

    sources = subparsers.add_parser("import-sources", help="import pollution sources from a point file")
    sources.add_argument("file", help="GeoJSON, Shapefile (.shp) or GeoPackage (.gpkg) of points")
    add_db_argument(sources)
    sources.add_argument("--name-field", help="attribute holding the name (default: name, 名称, 企业名称…)")
    sources.add_argument("--category-field", help="attribute holding the category code or name "
                                                  "(default: category, 类别, 行业类别…)")
    sources.add_argument("--src-crs", help=CRS_HELP)
    sources.add_argument("--encoding", help=ENCODING_HELP)
    sources.add_argument("--layer", help=LAYER_HELP)
    sources.set_defaults(handler=run_import_sources)


def _warn(command: str):
    return lambda line: print(f"envgrid {command}: warning: {line}", file=sys.stderr)


def run_import_grids(args) -> int:
    from gis.cli import CliError
    from gis.io.grids_io import import_grids
    from gis.io.vector import ImportProblems
    from gis.storage.store import open_store

    store = open_store(args.db)
    try:
        count = import_grids(store, args.file, level=args.level, name_field=args.name_field,
                             code_field=args.code_field, parent_code_field=args.parent_code_field,
                             src_crs=args.src_crs, encoding=args.encoding, layer=args.layer,
                             warn=_warn("import-grids"))
    except ImportProblems as exc:
        raise CliError(*exc.problems, f"nothing was imported from {args.file}") from exc
    finally:
        store.close()
    print(f"imported {count} grids at level {args.level} from {args.file}")
    return 0


def run_export_grids(args) -> int:
    from gis.cli import CliError
    from gis.io.grids_io import ExportError, export_grids
    from gis.storage.store import open_store

    store = open_store(args.db, create=False)
    try:
        count = export_grids(store, args.out, level=args.level, warn=_warn("export-grids"))
    except ExportError as exc:
        raise CliError(str(exc)) from exc
    finally:
        store.close()
    print(f"exported {count} grids to {args.out}")
    return 0


def run_import_sources(args) -> int:
    from gis.cli import CliError
    from gis.io.sources_io import import_sources
    from gis.io.vector import ImportProblems
    from gis.storage.store import open_store

    store = open_store(args.db)
    try:
        count = import_sources(store, args.file, name_field=args.name_field, category_field=args.category_field,
                               src_crs=args.src_crs, encoding=args.encoding, layer=args.layer,
                               warn=_warn("import-sources"))
    except ImportProblems as exc:
        raise CliError(*exc.problems, f"nothing was imported from {args.file}") from exc
    finally:
        store.close()
    print(f"imported {count} pollution sources from {args.file}")
    return 0
