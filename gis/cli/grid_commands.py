"""``envgrid validate``: check the grid hierarchy (全面覆盖、无缝隙, validity, staff)."""
from __future__ import annotations

import json
import sys
import time


def register(subparsers) -> None:
    from gis.cli import add_db_argument
    from gis.validation import DEFAULT_TOLERANCE_M2

    validate = subparsers.add_parser(
        "validate", help="check grids: validity, gaps, overlaps, children outside parents, missing leaders",
        description="Exit status 0 when there are no errors (warnings allowed), 1 when there are errors.")
    add_db_argument(validate)
    validate.add_argument("--level", type=int, choices=range(1, 6), metavar="N",
                          help="only problems of grids of this level (1-5)")
    validate.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE_M2, metavar="M2",
                          help=f"ignore gaps and overlaps up to this many m² (default {DEFAULT_TOLERANCE_M2:g})")
    validate.add_argument("--json", action="store_true",
                          help='print {"problems": [{"kind", "severity", "level", "grids", "area_m2", '
                               '"location", "message"}]}')
    validate.set_defaults(handler=run_validate)


def run_validate(args) -> int:
    from gis.cli import CliError
    from gis.storage.store import open_store
    from gis.validation import has_errors, problems_to_json, validate_workspace

    if args.tolerance < 0:
        raise CliError(f"--tolerance must be >= 0, got {args.tolerance:g}")
    store = open_store(args.db, create=False)
    started = time.perf_counter()
    try:
        with store.engine.connect() as connection:
            problems = validate_workspace(connection, level=args.level, tolerance_m2=args.tolerance)
    finally:
        store.close()
    elapsed = time.perf_counter() - started
    if args.json:
        print(json.dumps(problems_to_json(problems), ensure_ascii=False, indent=1))
    else:
        for p in problems:
            lon, lat = p.location
            area = f" {p.area_m2:.1f} m²" if p.area_m2 else ""
            print(f"{'错误' if p.is_error else '警告'} [{p.kind}] {p.message}（{lon:.6f}, {lat:.6f}）{area}")
        errors = sum(p.is_error for p in problems)
        print(f"{errors} 个错误，{len(problems) - errors} 个警告（{elapsed:.2f} 秒）", file=sys.stderr)
    return 1 if has_errors(problems) else 0
