"""``envgrid demo`` and ``envgrid info``."""
from __future__ import annotations

import json
import time


def register(subparsers) -> None:
    from gis.cli import add_db_argument

    demo = subparsers.add_parser("demo", help="build the demo workspace (晋城市城区, invented grids)")
    add_db_argument(demo)
    demo.add_argument("--force", action="store_true", help="rebuild even if the database holds data")
    demo.add_argument("--seed", type=int, default=20181, help="random seed (default 20181)")
    demo.set_defaults(handler=run_demo)

    info = subparsers.add_parser("info", help="counts of grids per level, people, sources, cases…")
    add_db_argument(info)
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(handler=run_info)


def run_demo(args) -> int:
    from gis.cli import CliError
    from gis.demo.build import DemoNotEmptyError, build_demo
    from gis.storage.store import open_store

    store = open_store(args.db)
    started = time.perf_counter()
    try:
        counts = build_demo(store, seed=args.seed, force=args.force)
    except DemoNotEmptyError as exc:
        raise CliError(str(exc)) from exc
    finally:
        store.close()
    print(f"demo workspace built in {time.perf_counter() - started:.1f} s: {json.dumps(counts, ensure_ascii=False)}")
    return 0


def run_info(args) -> int:
    from gis.storage.info import workspace_info
    from gis.storage.store import open_store

    store = open_store(args.db, create=False)
    try:
        with store.engine.connect() as connection:
            info = workspace_info(connection)
    finally:
        store.close()
    if args.json:
        print(json.dumps(info, ensure_ascii=False))
    else:
        levels = ", ".join(f"{k}级 {v}" for k, v in info["grids"].items())
        print(f"{store.display_name}\n网格: {levels}\n人员 {info['people']}  污染源 {info['sources']}  "
              f"监测站 {info['stations']}  案件 {info['cases']}  报警 {info['alarms']}")
    return 0
