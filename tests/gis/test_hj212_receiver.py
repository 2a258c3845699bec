"""The TCP receiver on both backends: real sockets on 127.0.0.1, many devices, junk, replies, counts."""
from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta

import pytest
import shapely
from sqlalchemy import func, insert, select, text

from gis.hj212.frame import build_frame, parse_frame
from gis.hj212.receiver import Hj212Receiver
from gis.hj212.stream import FrameSplitter
from gis.storage.schema import readings, stations

KNOWN = ("AIR-0001", "AIR-0002")
UNKNOWN = "NOBODY-0009"
T0 = datetime(2024, 5, 1, 8, 0, 0)


def add_station(store, mn: str, kind: str = "air") -> int:
    with store.engine.begin() as connection:
        return connection.execute(insert(stations).returning(stations.c.id), {
            "mn": mn, "name": f"测试站 {mn}", "kind": kind, "location": shapely.Point(112.85, 35.49),
            "lon": 112.85, "lat": 35.49, "active": True, "created_at": datetime.now()}).scalar_one()


def data_frame(mn: str, n: int, cn: str = "2011", *, reply: bool = False) -> tuple[bytes, int]:
    """A data frame and how many readings rows it should give."""
    at = T0 + timedelta(minutes=n)
    if cn == "2011":
        fields = {"DataTime": at, "a34004-Rtd": 30 + n % 7, "a34004-Flag": "N", "a21026-Rtd": 8.5, "a21026-Flag": "N",
                  "a01001-Rtd": 21.5}
    else:
        fields = {"DataTime": at, "a34004-Avg": 30.0, "a34004-Min": 20.0, "a34004-Max": 40.0, "a34004-Flag": "N",
                  "a21004-Avg": 35.0, "a21004-Min": 30.0, "a21004-Max": 40.0, "a21004-Flag": "N"}
    raw = build_frame("22", cn, mn, fields, qn=f"{at:%Y%m%d%H%M%S}{n % 1000:03d}", flag=5 if reply else 4)
    return raw, len({key.split("-")[0] for key in fields if "-" in key})


def random_cuts(data: bytes, rng: random.Random) -> list[bytes]:
    cuts = sorted(rng.sample(range(1, len(data)), k=min(len(data) - 1, rng.randint(1, 40))))
    return [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)])]


async def send(port: int, chunks: list[bytes], expect_replies: int = 0, timeout: float = 20.0) -> list[bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for chunk in chunks:
        writer.write(chunk)
        await writer.drain()
        await asyncio.sleep(0)  # let reads interleave between clients
    replies: list[bytes] = []
    splitter = FrameSplitter()
    async with asyncio.timeout(timeout):
        while len(replies) < expect_replies:
            data = await reader.read(4096)
            assert data, "server closed before all replies arrived"
            replies += [item for item in splitter.feed(data) if isinstance(item, bytes)]
    writer.close()
    await writer.wait_closed()
    return replies


def counts(store) -> dict:
    with store.engine.connect() as connection:
        total = connection.execute(select(func.count()).select_from(readings)).scalar_one()
        per_mn = dict(connection.execute(select(readings.c.mn, func.count()).group_by(readings.c.mn)).all())
        unassigned = connection.execute(select(func.count()).select_from(readings)
                                        .where(readings.c.station_id.is_(None))).scalar_one()
    return {"total": total, "per_mn": per_mn, "unassigned": unassigned}


def test_twenty_devices_split_frames_one_sends_junk(store):
    ids = {mn: add_station(store, mn) for mn in KNOWN}
    rng = random.Random(20)
    plans, expected_rows, expected_frames = [], {}, 0
    for client in range(20):
        mn = (*KNOWN, UNKNOWN)[client % 3]
        stream, replies, qns = b"", 0, []
        for n in range(client * 100, client * 100 + 25):
            reply = n % 3 == 0
            raw, rows = data_frame(mn, n, cn=("2011", "2061")[n % 2], reply=reply)
            stream += raw
            replies += reply
            qns += [parse_frame(raw).qn] if reply else []
            expected_rows[mn] = expected_rows.get(mn, 0) + rows
            expected_frames += 1
        plans.append((random_cuts(stream, rng), replies, qns))
    good = data_frame(KNOWN[0], 9999, reply=True)[0]
    junk = [b"\x00\xffGARBAGE##12" + bytes(rng.randrange(256) for _ in range(3000)), b"##9999xxxx",
            good[:-6] + b"0000\r\n", b"##0010abc\r\n", good]  # the last one is good and must count
    expected_rows[KNOWN[0]] += 3

    async def scenario():
        async with Hj212Receiver(store, port=0, flush_interval=0.05) as receiver:
            results = await asyncio.gather(*(send(receiver.port, chunks, replies) for chunks, replies, _ in plans),
                                           send(receiver.port, junk, expect_replies=1))
            await receiver.drain()
            stats = receiver.stats.snapshot()
        return results, stats

    results, stats = asyncio.run(scenario())
    for (_, _, qns), replies in zip(plans, results):
        parsed = [parse_frame(r) for r in replies]
        assert [(r.cn, r.st) for r in parsed] == [("9014", "91")] * len(qns)
        assert sorted(r.qn for r in parsed) == sorted(qns)
    assert parse_frame(results[-1][0]).qn == parse_frame(good).qn
    stored = counts(store)
    assert stored["per_mn"] == expected_rows
    assert stored["total"] == sum(expected_rows.values()) == stats["readings_stored"]
    assert stored["unassigned"] == expected_rows[UNKNOWN]
    assert stats["frames_ok"] == expected_frames + 1
    assert stats["frames_bad"] >= 4 and stats["readings_failed"] == 0
    assert stats["connections"] == 0 and stats["connections_total"] == 21 and stats["unknown_mns"] == 1
    assert stats["replies_sent"] == sum(p[1] for p in plans) + 1
    with store.engine.connect() as connection:
        rows = connection.execute(select(readings.c.mn, readings.c.station_id).distinct()).all()
        assert set(rows) == {(KNOWN[0], ids[KNOWN[0]]), (KNOWN[1], ids[KNOWN[1]]), (UNKNOWN, None)}
        hourly = connection.execute(select(readings).where(readings.c.cn == "2061", readings.c.pollutant == "a21004")
                                    .limit(1)).one()
        assert (hourly.avg, hourly.min, hourly.max, hourly.flag, hourly.rtd) == (35.0, 30.0, 40.0, "N", None)
        assert (hourly.data_time - T0).total_seconds() % 60 == 0 and hourly.data_time >= T0
        assert hourly.received_at > datetime.now() - timedelta(minutes=5)


def test_unknown_mn_is_kept_then_assigned_when_its_station_appears(store):
    async def scenario():
        async with Hj212Receiver(store, port=0, flush_interval=0.02, refresh_interval=0.1) as receiver:
            await send(receiver.port, [data_frame(UNKNOWN, 1)[0], data_frame(UNKNOWN, 2)[0]])
            await receiver.drain()
            assert counts(store)["unassigned"] == 6
            station_id = add_station(store, UNKNOWN)
            async with asyncio.timeout(10):
                while receiver.stats.unknown_mns:
                    await asyncio.sleep(0.05)
            await send(receiver.port, [data_frame(UNKNOWN, 3)[0]])
            await receiver.drain()
        return station_id

    station_id = asyncio.run(scenario())
    stored = counts(store)
    assert stored["total"] == 9 and stored["unassigned"] == 0
    with store.engine.connect() as connection:
        assert set(connection.execute(select(readings.c.station_id).distinct()).scalars()) == {station_id}


def test_shutdown_flushes_pending_rows_and_answers_them(store):
    add_station(store, KNOWN[0])

    async def scenario():
        receiver = Hj212Receiver(store, port=0, flush_interval=60)  # only stop() will write
        await receiver.start()
        reader, writer = await asyncio.open_connection("127.0.0.1", receiver.port)
        for n in range(10):
            writer.write(data_frame(KNOWN[0], n, reply=True)[0])
        await writer.drain()
        async with asyncio.timeout(10):
            while receiver.stats.frames_ok < 10:
                await asyncio.sleep(0.01)
        assert counts(store)["total"] == 0
        await receiver.stop()
        replies = FrameSplitter().feed(await reader.read())  # until the server closes
        writer.close()
        return replies, receiver.stats

    replies, stats = asyncio.run(scenario())
    assert counts(store)["total"] == 30 == stats.readings_stored
    assert len(replies) == 10 and all(parse_frame(r).cn == "9014" for r in replies)


def test_back_pressure_with_a_tiny_pending_limit_loses_nothing(store):
    async def scenario():
        async with Hj212Receiver(store, port=0, flush_interval=0.01, batch_rows=6, max_pending_rows=9) as receiver:
            await asyncio.gather(*(send(receiver.port, [b"".join(data_frame(f"M{c}", n)[0] for n in range(30))])
                                   for c in range(4)))
            await receiver.drain()

    asyncio.run(scenario())
    assert counts(store)["total"] == 4 * 30 * 3


def test_other_commands_are_answered_but_not_stored(store):
    restart = build_frame("22", "2081", KNOWN[0], {"DataTime": T0, "RestartTime": "20240501075900"}, flag=5)
    answer = build_frame("91", "9014", KNOWN[0], "", flag=5)  # answering an answer would loop

    async def scenario():
        async with Hj212Receiver(store, port=0, flush_interval=0.02) as receiver:
            replies = await send(receiver.port, [restart, answer], expect_replies=1)
            await asyncio.sleep(0.1)
            return replies, receiver.stats

    replies, stats = asyncio.run(scenario())
    assert [parse_frame(r).qn for r in replies] == [parse_frame(restart).qn]
    assert (stats.frames_ok, stats.frames_other, stats.replies_sent, stats.readings_stored) == (2, 2, 1, 0)
    assert counts(store)["total"] == 0


def test_a_frame_the_database_refuses_costs_only_itself(sqlite_url):
    from gis.storage.store import open_store

    store = open_store(sqlite_url)
    with store.engine.begin() as connection:
        connection.execute(text("CREATE TRIGGER refuse BEFORE INSERT ON readings WHEN NEW.mn = 'POISON' "
                                "BEGIN SELECT RAISE(ABORT, 'refused'); END"))

    async def scenario():
        async with Hj212Receiver(store, port=0, flush_interval=0.2) as receiver:
            stream = b"".join([data_frame("GOOD-1", 1, reply=True)[0], data_frame("POISON", 2, reply=True)[0],
                               data_frame("GOOD-2", 3, reply=True)[0]])
            replies = await send(receiver.port, [stream], expect_replies=2)
            await receiver.drain()
            return replies, receiver.stats

    try:
        replies, stats = asyncio.run(scenario())
        assert sorted(parse_frame(r).mn for r in replies) == ["GOOD-1", "GOOD-2"]  # no reply: POISON resends
        assert counts(store)["per_mn"] == {"GOOD-1": 3, "GOOD-2": 3}
        assert (stats.readings_stored, stats.readings_failed) == (6, 3)
    finally:
        store.close()


def test_port_in_use_raises_and_leaves_nothing_running(sqlite_url):
    from gis.storage.store import open_store

    store = open_store(sqlite_url)

    async def scenario():
        async with Hj212Receiver(store, port=0) as first:
            second = Hj212Receiver(store, port=first.port)
            with pytest.raises(OSError):
                await second.start()

    try:
        asyncio.run(scenario())
    finally:
        store.close()


def test_fast_insert_paths_read_back_exactly(store):
    from gis.hj212.writer import insert_readings

    at = datetime(2024, 5, 1, 8, 0, 0, 123456)
    tricky = {"station_id": None, "mn": "MN\\tab\t汉字;,", "cn": "2061", "data_time": at, "pollutant": "a34004",
              "rtd": None, "avg": 1e-300, "min": -0.0, "max": 123456789.125, "flag": "N", "received_at": at}
    with store.engine.begin() as connection:
        insert_readings(connection, [tricky, {**tricky, "pollutant": "a21026", "flag": None, "avg": None}])
    with store.engine.connect() as connection:
        rows = [row._asdict() for row in connection.execute(select(readings).order_by(readings.c.id))]
    assert [{k: v for k, v in row.items() if k != "id"} for row in rows] == [
        tricky, {**tricky, "pollutant": "a21026", "flag": None, "avg": None}]


def test_a_slow_database_does_not_block_other_devices(store, monkeypatch):
    import time

    from gis.hj212 import writer

    fast = writer.insert_readings
    writing = []

    def slow(connection, rows):
        writing.append(True)
        time.sleep(1.0)  # on the DB thread: the event loop must keep serving meanwhile
        fast(connection, rows)

    monkeypatch.setattr(writer, "insert_readings", slow)

    async def scenario():
        async with Hj212Receiver(store, port=0, flush_interval=0.01) as receiver:
            await send(receiver.port, [data_frame("SLOW-1", 1)[0]])
            async with asyncio.timeout(5):
                while not writing:
                    await asyncio.sleep(0.01)
            started = asyncio.get_running_loop().time()
            replies = await send(receiver.port, [data_frame("OTHER-2", 2)[0]])
            async with asyncio.timeout(5):
                while receiver.stats.frames_ok < 2:
                    await asyncio.sleep(0.005)
            parsed_after = asyncio.get_running_loop().time() - started
            await receiver.drain()
            return parsed_after, replies

    parsed_after, _ = asyncio.run(scenario())
    assert parsed_after < 0.5
    assert counts(store)["total"] == 6
