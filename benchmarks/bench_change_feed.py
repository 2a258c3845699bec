"""Change-feed push on PostgreSQL: N seats listening while cases are created and updated at a steady rate.

A fresh database is made on the server given by --pg (dropped afterwards). --listeners processes each
run a ChangeFollower from the same starting id; this process writes --rate changes per second for
--seconds (a new case, then a state change of an earlier one, alternately; one transaction each)
and notes, for every change, the wall-clock time just before its COMMIT. Every listener must then
hold exactly the written ids, in order, each once. Latency = time a listener's poll() returned
the change − time its COMMIT was sent (same machine, same clock), over all listeners and changes.

--terminate-at S kills every listener's connection (pg_terminate_backend) S seconds in: the
followers must reconnect by themselves and catch up; the time until each is connected again is
reported.

--restart-server S restarts PostgreSQL itself S seconds in (``pg_ctlcluster --skip-systemctl-redirect
15 main restart``, see --cluster): every connection dies, the server is down for a while, then the
listeners must reconnect and catch up. The writer pauses while the server is down (it runs the
restart itself) and carries on afterwards, so every change has a known commit. Reported: how long
the restart took, the time from its start until each listener was connected again and until it had
seen the first change written after it, and how many changes were lost or received twice over all
listeners (must be 0 and 0). The restart disturbs everything else on the server, so it waits for a
quiet server (no client on another database) first and is never part of pytest.

    .venv/bin/python benchmarks/bench_change_feed.py [--listeners 50] [--rate 20] [--seconds 60]
        [--terminate-at 30 | --restart-server 10] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
        [--json]
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEFAULT_PG = os.environ.get("ENVGRID_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def listener(url: str, start_id: int, ready, stop, results) -> None:
    """One seat: follow the feed until told to stop; report (id, time seen) and state changes."""
    from gis.storage.changes import ChangeFollower

    seen: list[tuple[int, float]] = []
    states: list[tuple[float, bool]] = []
    follower = ChangeFollower(url, after_id=start_id, on_state=lambda s: states.append((time.time(), s.connected)))
    follower.poll(timeout=0)
    ready.release()
    while not stop.is_set():
        for change in follower.poll(timeout=0.2):
            seen.append((change.id, time.time()))
    seen += [(change.id, time.time()) for change in follower.poll(timeout=0.5)]
    follower.close()
    results.put((os.getpid(), seen, states))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def wait_quiet(admin, own_database: str, timeout: float) -> float:
    """Wait until no client is connected to another database of the server; seconds waited.

    Raises RuntimeError after ``timeout`` (someone else's tests would break on a restart)."""
    from sqlalchemy import text

    started = time.monotonic()
    while True:
        with admin.connect() as connection:
            others = connection.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
                "AND pid <> pg_backend_pid() AND datname IS NOT NULL AND datname <> :own"),
                {"own": own_database}).scalar_one()
        if not others:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"--restart-server: {others} other client(s) still connected after {timeout:.0f} s; "
                               "not restarting a server others are using")
        time.sleep(2)


def restart_server(cluster: str) -> float:
    """Restart the cluster (``15 main``) and return how long the command took."""
    import subprocess

    version, name = cluster.split()
    started = time.time()
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "restart"], check=True,
                   capture_output=True, timeout=120)
    return time.time() - started


def _connect(engine, deadline: float = 60.0):
    """A new connection, retried while the server is starting."""
    from sqlalchemy.exc import OperationalError

    started = time.monotonic()
    while True:
        try:
            return engine.connect()
        except OperationalError:
            if time.monotonic() - started > deadline:
                raise
            time.sleep(0.1)


def write_load(url: str, rate: float, seconds: float, terminate_at: float | None,
               restart_at: float | None = None, cluster: str = "15 main",
               quiet=None) -> tuple[dict[int, float], float, float]:
    """Write at ``rate`` changes/s; return {change id: commit time}, when the listeners were cut (or
    the restart began) and how long the restart took."""
    from sqlalchemy import create_engine, func, insert, select, text, update

    from gis.storage import schema

    engine = create_engine(url)
    committed: dict[int, float] = {}
    killed_at = restart_took = 0.0
    connection = engine.connect()
    try:
        category = connection.execute(select(func.min(schema.case_categories.c.id))).scalar_one()
        cases: list[int] = []
        started = time.monotonic()
        for k in range(int(rate * seconds)):
            due = started + k / rate
            time.sleep(max(0.0, due - time.monotonic()))
            if terminate_at is not None and not killed_at and time.monotonic() - started >= terminate_at:
                killed_at = time.time()
                connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                                        "application_name = 'envgrid change follower' AND datname = current_database()"))
                connection.commit()
            if restart_at is not None and not killed_at and time.monotonic() - started >= restart_at:
                if quiet is not None:
                    quiet()
                connection.close()  # between two commits: no write is in doubt
                engine.dispose()
                killed_at = time.time()
                restart_took = restart_server(cluster)
                connection = _connect(engine)
            if k % 2 == 0 or not cases:
                cases.append(connection.execute(insert(schema.cases).values(
                    number=f"BENCH{k:07d}", source="群众举报", category_id=category, state="待受理",
                    created_at=datetime.now()).returning(schema.cases.c.id)).scalar_one())
            else:
                connection.execute(update(schema.cases).where(schema.cases.c.id == cases[(k // 2) % len(cases)])
                                   .values(state="已派发", version=schema.cases.c.version + 1))
            change_id = connection.execute(text("SELECT currval('changes_id_seq')")).scalar_one()
            committed[change_id] = time.time()
            connection.commit()
    finally:
        connection.close()
        engine.dispose()
    return committed, killed_at, restart_took


def run(args) -> dict:
    from sqlalchemy import create_engine, text

    from gis.storage.changes import latest_change_id
    from gis.storage.store import open_store

    admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
    name = f"envgrid_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    processes = []
    try:
        store = open_store(url)
        with store.engine.connect() as connection:
            start_id = latest_change_id(connection)
        store.close()
        context = multiprocessing.get_context("spawn")
        ready, stop, results = context.Semaphore(0), context.Event(), context.Queue()
        processes = [context.Process(target=listener, args=(url, start_id, ready, stop, results))
                     for _ in range(args.listeners)]
        for process in processes:
            process.start()
        for _ in processes:
            if not ready.acquire(timeout=120):
                raise RuntimeError("a listener did not start")
        quiet = (lambda: wait_quiet(admin, name, args.quiet_timeout)) if args.restart_server is not None else None
        committed, killed_at, restart_took = write_load(url, args.rate, args.seconds, args.terminate_at,
                                                        args.restart_server, args.cluster, quiet)
        time.sleep(args.drain)
        stop.set()
        reports = [results.get(timeout=120) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
        admin.dispose()  # after a restart its pooled connections are dead
        with _connect(admin) as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    expected = sorted(committed)
    latencies, exact = [], 0
    recoveries, caught_up, lost, doubled = [], [], 0, 0
    first_after = min((i for i, at in committed.items() if at > killed_at), default=None) if killed_at else None
    for _pid, seen, states in reports:
        ids = [change_id for change_id, _ in seen]
        exact += ids == expected
        lost += len(set(expected) - set(ids))
        doubled += len(ids) - len(set(ids))
        latencies += [at - committed[change_id] for change_id, at in seen if change_id in committed]
        if killed_at:
            back = [at for at, connected in states if connected and at > killed_at]
            recoveries.append(back[0] - killed_at if back else float("inf"))
            got = [at for change_id, at in seen if change_id == first_after]
            caught_up.append(got[0] - killed_at if got else float("inf"))
    result = {
        "listeners": args.listeners, "rate_per_s": args.rate, "seconds": args.seconds, "changes": len(expected),
        "listeners_exactly_once_in_order": exact,
        "latency_ms": {"p50": round(1000 * _percentile(latencies, 0.50), 2),
                       "p99": round(1000 * _percentile(latencies, 0.99), 2),
                       "max": round(1000 * max(latencies), 2)} if latencies else None,
    }
    if killed_at:
        result["reconnect_s"] = {"p50": round(statistics.median(recoveries), 3), "max": round(max(recoveries), 3)}
    if args.restart_server is not None:
        result["restart"] = {"server_restart_s": round(restart_took, 3),
                             "first_new_change_seen_s": {"p50": round(statistics.median(caught_up), 3),
                                                         "max": round(max(caught_up), 3)},
                             "lost": lost, "doubled": doubled}
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=DEFAULT_PG, help="a server's maintenance database (default $ENVGRID_TEST_PG)")
    parser.add_argument("--listeners", type=int, default=50)
    parser.add_argument("--rate", type=float, default=20.0, help="changes per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--terminate-at", type=float, help="kill the listeners' connections after this many seconds")
    parser.add_argument("--restart-server", type=float, metavar="S",
                        help="restart PostgreSQL itself after S seconds (waits for a quiet server first)")
    parser.add_argument("--cluster", default="15 main", help="pg_ctlcluster VERSION NAME (default: 15 main)")
    parser.add_argument("--quiet-timeout", type=float, default=300.0,
                        help="--restart-server: give up if other clients stay connected this long")
    parser.add_argument("--drain", type=float, default=2.0, help="seconds to let listeners catch up at the end")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['listeners']} listeners, {result['changes']} changes at {result['rate_per_s']}/s: "
              f"{result['listeners_exactly_once_in_order']}/{result['listeners']} got every change exactly once, "
              f"in order; latency {result['latency_ms']}"
              + (f"; reconnected after {result['reconnect_s']}" if "reconnect_s" in result else "")
              + (f"; server restart {result['restart']}" if "restart" in result else ""))
    return 0 if result["listeners_exactly_once_in_order"] == result["listeners"] else 1


if __name__ == "__main__":
    sys.exit(main())
