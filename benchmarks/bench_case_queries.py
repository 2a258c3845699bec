"""Case table, filter and chart queries over 1,000,000 cases, on SQLite and on PostgreSQL.

Builds the demo workspace (``gis.demo.build.build_demo``), then bulk-loads N synthetic cases over
its level-4 and level-5 grids (SQLite: executemany in chunks; PostgreSQL: COPY), one 登记 event per
case (so the 我经办的 work list has a real history to search), and ANALYZEs. Then times every
operation the desktop does, warm, and prints medians.

    .venv/bin/python benchmarks/bench_case_queries.py [--cases 1000000] [--backend sqlite|postgresql|both]
        [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--runs 7] [--keep DIR] [--explain]

Targets (issue 5): first table page ≤ 1 s, a filter change ≤ 300 ms, a chart aggregate ≤ 300 ms.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from gis.demo.build import build_demo  # noqa: E402
from gis.domain import CaseSource, CaseState  # noqa: E402
from gis.storage import case_queries as q, case_stats as s  # noqa: E402
from gis.storage.schema import case_categories, cases, grids  # noqa: E402
from gis.storage.store import open_store  # noqa: E402

AS_OF = datetime(2026, 6, 1, 8, 0)
YEARS = 2
# State by age: last week's cases are mostly still being handled, a month on half are closed, and
# of older ones 1 % are stuck open (the overdue backlog leadership asks about).
OPEN = (CaseState.PENDING, CaseState.DISPATCHED, CaseState.IN_PROGRESS, CaseState.RECTIFIED, CaseState.RECHECK,
        CaseState.RETURNED, CaseState.ESCALATED, CaseState.TRANSFERRED)
OPEN_MIX = (0.18, 0.22, 0.30, 0.10, 0.10, 0.03, 0.03, 0.04)
DONE = (CaseState.CLOSED, CaseState.FALSE_REPORT, CaseState.DUPLICATE)
DONE_MIX = (0.93, 0.04, 0.03)
OPEN_SHARE_BY_AGE = ((7, 0.85), (30, 0.45), (90, 0.08), (10_000, 0.01))  # (younger than N days, share open)
SOURCE_SHARES = {CaseSource.PATROL: 0.45, CaseSource.COMPLAINT: 0.35, CaseSource.ALARM: 0.12,
                 CaseSource.ASSIGNED: 0.08}
DUE_HOURS = {CaseSource.ALARM: 24, CaseSource.COMPLAINT: 72, CaseSource.PATROL: 168, CaseSource.ASSIGNED: 120}
WHAT = ("工地未覆盖裸土扬尘", "夜间施工噪声扰民", "餐饮油烟直排", "河道漂浮垃圾", "露天焚烧秸秆", "散煤燃烧冒黑烟",
        "企业异味排放", "建筑垃圾乱倒", "污水直排雨水管网", "危废暂存不规范")
STREETS = ("凤台街", "泽州路", "红星街", "中原街", "文昌街", "书院街", "黄华街", "太行路", "景西路", "兰花路")
ACTORS = tuple(f"网格员{i:03d}" for i in range(200))
CHUNK = 50_000


def _fmt(t: np.ndarray) -> list[str]:
    """SQLAlchemy's SQLite DATETIME text ('YYYY-MM-DD HH:MM:SS.ffffff'), so comparisons stay textual."""
    return [str(v).replace("T", " ") + ".000000" for v in t.astype("datetime64[s]")]


def make_cases(connection, n: int, seed: int = 5):
    """Columns of ``n`` cases over the demo's lowest grids (numpy, vectorised)."""
    rng = np.random.default_rng(seed)
    rows = connection.execute(select(grids.c.id, grids.c.code, grids.c.min_lon, grids.c.min_lat, grids.c.max_lon,
                                     grids.c.max_lat).where(grids.c.level >= 4).order_by(grids.c.id)).all()
    category_ids = connection.execute(select(case_categories.c.id).order_by(case_categories.c.id)).scalars().all()
    first_id = (connection.execute(select(func.max(cases.c.id))).scalar() or 0) + 1
    g = rng.integers(len(rows), size=n)
    box = np.array([r[2:] for r in rows])[g]
    lon = box[:, 0] + (box[:, 2] - box[:, 0]) * rng.uniform(0.2, 0.8, n)
    lat = box[:, 1] + (box[:, 3] - box[:, 1]) * rng.uniform(0.2, 0.8, n)
    source_index = rng.choice(len(SOURCE_SHARES), n, p=list(SOURCE_SHARES.values()))
    sources = np.array([str(x) for x in SOURCE_SHARES])[source_index]
    due_hours = np.array([DUE_HOURS[x] for x in SOURCE_SHARES])[source_index]
    age = rng.uniform(0, YEARS * 365 * 86400, n).astype("int64")
    created = np.datetime64(AS_OF, "s") - age.astype("timedelta64[s]")
    limits = np.array([d * 86400 for d, _ in OPEN_SHARE_BY_AGE])
    share = np.array([p for _, p in OPEN_SHARE_BY_AGE])[np.searchsorted(limits, age, side="right")]
    is_open = rng.uniform(size=n) < share
    states = np.where(is_open, np.array([str(x) for x in OPEN])[rng.choice(len(OPEN), n, p=OPEN_MIX)],
                      np.array([str(x) for x in DONE])[rng.choice(len(DONE), n, p=DONE_MIX)])
    due = created + (due_hours * 3600).astype("timedelta64[s]")
    closed = created + rng.uniform(3600, 20 * 86400, n).astype("int64").astype("timedelta64[s]")
    closed_mask = states == str(CaseState.CLOSED)
    closed = np.minimum(closed, np.datetime64(AS_OF, "s"))
    what = np.array(WHAT)[rng.integers(len(WHAT), size=n)]
    street = np.array(STREETS)[rng.integers(len(STREETS), size=n)]
    house = rng.integers(1, 300, size=n)
    points = shapely.points(lon, lat)
    return {
        "id": np.arange(first_id, first_id + n), "grid_id": np.array([r[0] for r in rows])[g], "lon": lon, "lat": lat,
        "state": states, "source": sources, "created": _fmt(created), "due": _fmt(due),
        "closed": [c if m else None for c, m in zip(_fmt(closed), closed_mask)], "what": what,
        "address": [f"{st}{h}号" for st, h in zip(street, house)], "points": points,
        "category": np.array(category_ids)[rng.integers(len(category_ids), size=n)],
        "actor": np.array(ACTORS)[rng.integers(len(ACTORS), size=n)],
    }


def _case_tuples(c, lo, hi, wkb):
    for i in range(lo, hi):
        yield (int(c["id"][i]), f"BM{int(c['id'][i]):09d}", c["source"][i], int(c["category"][i]),
               f"{c['address'][i]}附近{c['what'][i]}，请核查处理", wkb[i - lo], float(c["lon"][i]), float(c["lat"][i]),
               c["address"][i], int(c["grid_id"][i]), c["state"][i], "", "", c["created"][i], c["due"][i],
               c["closed"][i], 1)


CASE_COLUMNS = ("id", "number", "source", "category_id", "description", "location", "lon", "lat", "address",
                "grid_id", "state", "reporter_name", "reporter_phone", "created_at", "due_at", "closed_at", "version")
EVENT_COLUMNS = ("case_id", "at", "actor", "action", "from_state", "to_state", "grid_id", "note", "internal")


def load_sqlite(store, c) -> None:
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        n = len(c["id"])
        marks = ",".join("?" * len(CASE_COLUMNS))
        for lo in range(0, n, CHUNK):
            hi = min(n, lo + CHUNK)
            wkb = shapely.to_wkb(c["points"][lo:hi])
            cursor.executemany(f"INSERT INTO cases ({','.join(CASE_COLUMNS)}) VALUES ({marks})",
                               _case_tuples(c, lo, hi, wkb))
            cursor.executemany(
                f"INSERT INTO case_events ({','.join(EVENT_COLUMNS)}) VALUES (?,?,?,?,?,?,?,?,?)",
                ((int(c["id"][i]), c["created"][i], c["actor"][i], "登记", None, "待受理", int(c["grid_id"][i]), "", 0)
                 for i in range(lo, hi)))
        raw.commit()
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


def load_postgres(store, c) -> None:
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        n = len(c["id"])
        with cursor.copy(f"COPY cases ({','.join(CASE_COLUMNS)}) FROM STDIN") as copy:
            for lo in range(0, n, CHUNK):
                hi = min(n, lo + CHUNK)
                wkb = shapely.to_wkb(shapely.set_srid(c["points"][lo:hi], 4490), hex=True, include_srid=True)
                for row in _case_tuples(c, lo, hi, wkb):
                    copy.write_row(row)
        with cursor.copy(f"COPY case_events ({','.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
            for i in range(n):
                copy.write_row((int(c["id"][i]), c["created"][i], c["actor"][i], "登记", None, "待受理",
                                int(c["grid_id"][i]), "", False))
        cursor.execute("SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases))")
        raw.commit()
    finally:
        raw.close()
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


def timed(fn, runs: int) -> tuple[float, object]:
    fn()  # warm: plans cached, pages in memory
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000, result


def scenarios(connection):
    """(label, filter) pairs: what a seat clicks during a shift."""
    town = connection.execute(select(grids.c.id).where(grids.c.level == 2).order_by(grids.c.code)).scalars().first()
    village = connection.execute(select(grids.c.id).where(grids.c.level == 3).order_by(grids.c.code)).scalars().first()
    mine = connection.execute(select(grids.c.id).where(grids.c.level == 4).order_by(grids.c.code).limit(12)).scalars().all()
    water = connection.execute(select(case_categories.c.id).where(case_categories.c.code == "water")).scalar()
    seat = q.Seat(actor=ACTORS[7], grid_ids=frozenset(mine), command_center=False)
    base = q.CaseFilter(now=AS_OF, seat=seat)
    month = dict(start=AS_OF - timedelta(days=30), end=AS_OF + timedelta(days=1))
    return [
        ("no filter", base),
        ("state 处置中", base.replace(states={"处置中"})),
        ("source 群众举报", base.replace(sources={"群众举报"})),
        ("category 水污染", base.replace(category_ids={water})),
        ("grid: a town (level 2)", base.replace(grid_ids={town})),
        ("grid: a village (level 3)", base.replace(grid_ids={village})),
        ("level 5 grids", base.replace(levels={5})),
        ("last 30 days", base.replace(**month)),
        ("text '油烟'", base.replace(text="油烟")),
        ("text '油烟' + 30 days", base.replace(text="油烟", **month)),
        ("number 'BM000500000'", base.replace(text="BM000500000")),
        ("work list 待办", base.replace(work_list=q.WorkList.TODO)),
        ("work list 我经办的", base.replace(work_list=q.WorkList.MINE)),
        ("work list 已超期", base.replace(work_list=q.WorkList.OVERDUE)),
        ("work list 我的辖区", base.replace(work_list=q.WorkList.JURISDICTION)),
        ("work list 已办结", base.replace(work_list=q.WorkList.CLOSED)),
        ("town + 30 days + 群众举报", base.replace(grid_ids={town}, sources={"群众举报"}, **month)),
    ]


def run(store, runs: int, explain: bool) -> list[tuple[str, str, float]]:
    out: list[tuple[str, str, float]] = []

    def record(group, label, ms, target=300):
        out.append((group, label, ms))
        flag = "" if ms <= target else "  <-- over target"
        print(f"  {group:<8} {label:<44} {ms:9.1f} ms{flag}", flush=True)

    chart_jobs = (s.cases_by_state, s.daily_new_vs_closed, s.top_grids, s.alarms_by_pollutant)

    def charts(f):  # what a filter change asks for, one after another
        return [job(connection, f) for job in chart_jobs]

    def on_threads(pool, f):  # as the window does it: the query runner's three threads, a connection each
        def run_one(job):
            with store.engine.connect() as own:
                return job(own, f)
        return list(pool.map(run_one, chart_jobs))

    pool = ThreadPoolExecutor(3)

    with store.engine.connect() as connection:
        listed = scenarios(connection)
        for label, f in listed:
            page_ms, _ = timed(lambda: q.page_cases(connection, f), runs)
            count_ms, n = timed(lambda: q.count_cases(connection, f), runs)
            if label == "no filter":
                record("page", "first table page, no filter", page_ms, 1000)
            record("filter", f"{label}: first page", page_ms)
            record("filter", f"{label}: count ({n:,})", count_ms)
            record("filter", f"{label}: page + count", page_ms + count_ms)
            if explain and connection.dialect.name == "postgresql":
                sql = q.summary_query().where(*q.filter_conditions(connection, f))
                print(connection.execute(text("EXPLAIN " + str(sql.compile(connection, compile_kwargs={
                    "literal_binds": True})))).scalars().all()[:3])
        named = dict(listed)
        base = named["no filter"]
        for label in ("no filter", "last 30 days", "grid: a town (level 2)", "grid: a village (level 3)",
                      "work list 已超期", "town + 30 days + 群众举报"):
            f = named[label]
            for name, fn in (("by state", lambda: s.cases_by_state(connection, f)),
                             ("daily new vs closed", lambda: s.daily_new_vs_closed(connection, f)),
                             ("top grids open", lambda: s.top_grids(connection, f, by="open")),
                             ("top grids overdue", lambda: s.top_grids(connection, f, by="overdue")),
                             ("alarms by pollutant", lambda: s.alarms_by_pollutant(connection, f))):
                ms, _ = timed(fn, runs)
                record("chart", f"{name} ({label})", ms)
            ms, _ = timed(lambda: charts(f), runs)
            record("charts", f"state+trend+top grids+alarms, in turn ({label})", ms)
            ms, _ = timed(lambda: on_threads(pool, f), runs)
            record("charts", f"the same on 3 threads, as the app ({label})", ms)
        for column in q.SORT_KEYS:
            for descending in (False, True):
                order = q.CaseOrder(column, descending)
                ms, _ = timed(lambda: q.page_cases(connection, base, order), runs)
                record("sort", f"first page by {column} {'desc' if descending else 'asc'}", ms, 1000)
        # Deep scrolling: the page after row 500,000 by keyset, against OFFSET.
        order = q.CaseOrder()
        deep = q.page_cases(connection, base, order, offset=499_999, limit=1)
        if deep:
            key = order.keyset_of(deep[0])
            ms, _ = timed(lambda: q.page_cases(connection, base, order, after=key), runs)
            record("scroll", "page after row 500,000 (keyset)", ms)
            ms, _ = timed(lambda: q.page_cases(connection, base, order, offset=500_000), 3)
            record("scroll", "page at row 500,000 (OFFSET, for comparison)", ms, 10_000)
        for label in ("grid: a town (level 2)", "last 30 days"):
            ms, ids = timed(lambda: q.case_ids(connection, named[label]), runs)
            record("map", f"pin ids, {label} ({len(ids):,})", ms)
        from gis.io.case_export import export_cases_xlsx
        with tempfile.TemporaryDirectory() as folder:
            t = time.perf_counter()
            n = export_cases_xlsx(connection, named["last 30 days"], Path(folder) / "x.xlsx")
            seconds = time.perf_counter() - t
        record("export", "Excel, last 30 days, all rows", seconds * 1000, 10 ** 9)
        print(f"           ({n:,} rows, {n / seconds:,.0f} rows/s)")
    pool.shutdown()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--pg", default=os.environ.get("ENVGRID_TEST_PG",
                                                       "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", help="keep the SQLite file here and the PostgreSQL database (reused next time)")
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    results = {}
    folder = Path(args.keep or tempfile.mkdtemp())
    for backend in (("sqlite", "postgresql") if args.backend == "both" else (args.backend,)):
        print(f"== {backend}: {args.cases:,} cases", flush=True)
        admin = None
        if backend == "sqlite":
            path = folder / f"bench_cases_{args.cases}.sqlite"
            reuse = args.keep and path.exists()
            if path.exists() and not reuse:
                path.unlink()
            url = str(path)
        else:
            admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
            name = f"envgrid_bench_cases_{args.cases}"
            with admin.connect() as c:
                reuse = bool(args.keep and c.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                                     {"n": name}).first())
                if not reuse:
                    c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    c.execute(text(f'CREATE DATABASE "{name}"'))
            url = admin.url.set(database=name).render_as_string(hide_password=False)
        store = open_store(url)
        try:
            if not reuse:
                t = time.perf_counter()
                build_demo(store, as_of=AS_OF)
                with store.engine.connect() as connection:
                    columns = make_cases(connection, args.cases)
                print(f"  demo + generate: {time.perf_counter() - t:.1f} s", flush=True)
                t = time.perf_counter()
                (load_sqlite if backend == "sqlite" else load_postgres)(store, columns)
                print(f"  bulk load: {time.perf_counter() - t:.1f} s", flush=True)
                del columns
            results[backend] = run(store, args.runs, args.explain)
        finally:
            store.close()
            if admin is not None:
                if not args.keep:
                    with admin.connect() as c:
                        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
            if backend == "sqlite" and not args.keep:
                Path(url).unlink(missing_ok=True)
    if len(results) == 2:
        print("\n| operation | SQLite ms | PostgreSQL ms |\n|---|---:|---:|")
        pg = {(g, label): ms for g, label, ms in results["postgresql"]}
        for g, label, ms in results["sqlite"]:
            other = pg.get((g, label))
            print(f"| {g}: {label} | {ms:.0f} | {'' if other is None else f'{other:.0f}'} |")


if __name__ == "__main__":
    main()
