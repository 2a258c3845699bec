"""HJ 212 receiver throughput: many devices sending as fast as TCP lets them (target ≥ 2,000 frames/s).

A receiver runs in this process on a fresh SQLite workspace (and, with --pg, a fresh PostgreSQL
database); a second process opens --connections connections and writes real-time (CN 2011) air
frames of six pollutants for --seconds (every frame a new DataTime, as a
re-sent reading would be stored once), each frame asking for a reply (Flag=5) unless --no-reply.
A client does not wait for each reply before sending more, but keeps at most --window frames
unanswered (a real device has one or a few; without a bound, loopback TCP buffers would hold
hundreds of megabytes and the test would measure them). At the end every frame must have been
answered, and the rows in ``readings`` are counted: none may be missing. Half the devices have
a stations row, half are unknown MNs.

The rate is frames sent / (time from the clients' first byte until the last row is committed).

    .venv/bin/python benchmarks/bench_hj212.py [--seconds 10] [--connections 50] [--runs 3]
                                                [--pg postgresql+psycopg://postgres@127.0.0.1/postgres]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gis.hj212.frame import build_frame  # noqa: E402

POLLUTANTS = ("a34004", "a34002", "a21026", "a21004", "a21005", "a05024")
FRAMES_PER_WRITE = 20


def device_frames(index: int, count: int, reply: bool, first: int = 0) -> list[bytes]:
    start = datetime(2024, 5, 1)
    frames = []
    for n in range(first, first + count):
        at = start + timedelta(seconds=30 * n)
        fields = {"DataTime": at}
        for k, code in enumerate(POLLUTANTS):
            fields[f"{code}-Rtd"] = round(10 + k * 7.3 + n % 17 * 0.1, 2)
            fields[f"{code}-Flag"] = "N"
        frames.append(build_frame("22", "2011", f"BENCH{index:04d}", fields, qn=f"{at:%Y%m%d%H%M%S}{n % 1000:03d}",
                                  flag=5 if reply else 4))
    return frames


async def one_device(port: int, index: int, deadline: float, reply: bool, window: int) -> tuple[int, int]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sent = 0
    replies = 0

    async def count_replies():
        nonlocal replies
        while data := await reader.read(65536):
            replies += data.count(b"\n")  # one per reply, even when a read cuts a CR LF

    counter = asyncio.create_task(count_replies())
    while time.monotonic() < deadline:
        if reply and sent - replies >= window:
            await asyncio.sleep(0.005)
            continue
        # Every frame a new DataTime: the store keeps one reading per device, time and pollutant.
        writer.write(b"".join(device_frames(index, FRAMES_PER_WRITE, reply, sent)))
        sent += FRAMES_PER_WRITE
        await writer.drain()
    if reply:
        try:
            async with asyncio.timeout(120):
                while replies < sent:
                    await asyncio.sleep(0.01)
        except TimeoutError:
            pass
    writer.close()
    await writer.wait_closed()
    counter.cancel()
    return sent, replies


async def clients(port: int, connections: int, seconds: float, reply: bool, window: int) -> dict:
    started = time.time()
    deadline = time.monotonic() + seconds
    results = await asyncio.gather(*(one_device(port, i, deadline, reply, window) for i in range(connections)))
    return {"started": started, "sent": sum(r[0] for r in results), "replies": sum(r[1] for r in results)}


async def run_once(db: str, args) -> dict:
    import shapely
    from sqlalchemy import func, insert, select

    from gis.hj212.receiver import Hj212Receiver
    from gis.storage.schema import readings, stations
    from gis.storage.store import open_store

    store = open_store(db)
    with store.engine.begin() as connection:
        connection.execute(insert(stations), [
            {"mn": f"BENCH{i:04d}", "name": f"基准站 {i}", "kind": "air", "location": shapely.Point(112.8, 35.5),
             "lon": 112.8, "lat": 35.5, "active": True, "created_at": datetime.now()}
            for i in range(0, args.connections, 2)])
    try:
        receiver = Hj212Receiver(store, port=0)
        await receiver.start()
        process = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--client", str(receiver.port), "--connections", str(args.connections),
            "--seconds", str(args.seconds), "--window", str(args.window), *(["--no-reply"] if args.no_reply else []),
            stdout=asyncio.subprocess.PIPE)
        out, _ = await process.communicate()
        client = json.loads(out)
        # The clients have closed; what sits in socket buffers is still to be read, so wait for
        # every connection to reach its EOF before the last flush.
        async with asyncio.timeout(600):
            while receiver.stats.connections:
                await asyncio.sleep(0.01)
        await receiver.drain(120)
        finished = time.time()
        await receiver.stop()
        with store.engine.connect() as connection:
            rows = connection.execute(select(func.count()).select_from(readings)).scalar_one()
        stats = receiver.stats
    finally:
        store.close()
    expected = client["sent"] * len(POLLUTANTS)
    result = {"frames": client["sent"], "seconds": finished - client["started"], "rows": rows,
              "lost_rows": expected - rows, "frames_ok": stats.frames_ok, "frames_bad": stats.frames_bad,
              "replies_received": client["replies"], "replies_expected": 0 if args.no_reply else client["sent"]}
    result["fps"] = result["frames"] / result["seconds"]
    return result


def check(result: dict) -> list[str]:
    problems = []
    if result["lost_rows"] or result["frames_ok"] != result["frames"] or result["frames_bad"]:
        problems.append(f"LOST: {result}")
    if result["replies_received"] != result["replies_expected"]:
        problems.append(f"replies {result['replies_received']} of {result['replies_expected']}")
    return problems


def bench(backend: str, make_db, args) -> bool:
    runs = []
    ok = True
    for _ in range(args.runs):
        with make_db() as db:
            result = asyncio.run(run_once(db, args))
        problems = check(result)
        ok &= not problems
        runs.append(result["fps"])
        print(f"  {backend}: {result['frames']} frames ({result['rows']} rows) in {result['seconds']:.2f} s = "
              f"{result['fps']:,.0f} frames/s; lost rows {result['lost_rows']}, "
              f"replies {result['replies_received']}/{result['replies_expected']} {' '.join(problems)}", flush=True)
    print(f"HJ 212 receiver on {backend}: {args.connections} connections, {args.seconds:g} s, runs={len(runs)} "
          f"min={min(runs):,.0f} median={statistics.median(runs):,.0f} max={max(runs):,.0f} frames/s "
          f"(target ≥ 2,000){'' if ok else ' — DATA LOST'}", flush=True)
    return ok


class _SqliteDb:
    def __enter__(self):
        self._folder = tempfile.TemporaryDirectory()
        return str(Path(self._folder.name) / "bench.sqlite")

    def __exit__(self, *exc):
        self._folder.cleanup()


class _PgDb:
    def __init__(self, admin_url: str):
        from sqlalchemy import create_engine

        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")

    def __enter__(self):
        from sqlalchemy import text

        self.name = f"envgrid_bench_{uuid.uuid4().hex[:8]}"
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{self.name}"'))
        return self.admin.url.set(database=self.name).render_as_string(hide_password=False)

    def __exit__(self, *exc):
        from sqlalchemy import text

        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pg", help="PostgreSQL maintenance URL; each run uses a new database")
    parser.add_argument("--no-reply", action="store_true", help="frames with Flag=4 (no answer wanted)")
    parser.add_argument("--window", type=int, default=200, help="most unanswered frames per connection")
    parser.add_argument("--client", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        print(json.dumps(asyncio.run(clients(args.client, args.connections, args.seconds, not args.no_reply,
                                             args.window))))
        return 0
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("gis.hj212.receiver").setLevel(logging.ERROR)  # 25 unknown MNs per run, on purpose
    ok = bench("sqlite", _SqliteDb, args)
    if args.pg:
        ok &= bench("postgresql", lambda: _PgDb(args.pg), args)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
