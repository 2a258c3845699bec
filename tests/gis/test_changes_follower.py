"""ChangeFollower: exactly once and in order, live (LISTEN on PostgreSQL, polling on SQLite), across a
killed connection; pruning and the gap it can leave."""
from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from test_changes_triggers import add_person

from gis.storage.changes import (
    ChangeFeedGap,
    ChangeFollower,
    latest_change_id,
    prune_changes,
)


def _write(store, count: int, prefix: str = "p") -> list[int]:
    with store.engine.begin() as connection:
        return [add_person(connection, f"{prefix}{i}") for i in range(count)]


def _collect(follower, want: int, seconds: float = 10.0) -> list:
    found = []
    deadline = time.monotonic() + seconds
    while len(found) < want and time.monotonic() < deadline:
        found += follower.poll(timeout=0.2)
    found += follower.poll(timeout=0.3)  # nothing more may come
    return found


def test_each_change_once_in_order_while_others_write(store):
    _write(store, 2, "before")  # before the follower: not shown
    with ChangeFollower(store.url, poll_interval=0.05) as follower:
        assert follower.poll(timeout=0) == []
        assert follower.state.connected
        writer = threading.Thread(target=lambda: [_write(store, 3, f"t{k}-") for k in range(10)])
        writer.start()
        found = _collect(follower, 30)
        writer.join()
    rows = [c.row_id for c in found]
    assert len(rows) == 30 and rows == sorted(rows) and len(set(rows)) == 30
    assert [c.id for c in found] == sorted(c.id for c in found)
    assert all(c.table == "people" and c.op == "insert" for c in found)


def test_starting_after_a_saved_id_catches_up_first(store):
    first = _write(store, 3)
    with store.engine.connect() as connection:
        saved = latest_change_id(connection)
    later = _write(store, 2)
    with ChangeFollower(store.url, after_id=saved - 1) as follower:
        assert [c.row_id for c in _collect(follower, 3)] == [first[-1], *later]


def _time_to_see(store, follower) -> float:
    follower.poll(timeout=0)  # connected and caught up
    started = []
    timer = threading.Timer(0.3, lambda: (started.append(time.monotonic()), _write(store, 1)))
    timer.start()
    found = follower.poll(timeout=5)
    seen = time.monotonic()
    timer.join()
    assert len(found) == 1
    return seen - started[0]


@pytest.mark.postgres
def test_postgres_push_arrives_well_under_a_second(pg_workspace_url):
    from gis.storage.store import open_store

    store = open_store(pg_workspace_url)
    try:
        with ChangeFollower(store.url) as follower:  # recheck every 5 s: only NOTIFY can make this fast
            latencies = [_time_to_see(store, follower) for _ in range(3)]
    finally:
        store.close()
    assert max(latencies) < 1.0, latencies  # typically a few ms; benchmarks/bench_change_feed.py measures


def test_sqlite_polling_sees_a_change_within_the_interval(sqlite_url):
    from gis.storage.store import open_store

    store = open_store(sqlite_url)
    try:
        with ChangeFollower(store.url, poll_interval=0.5) as follower:
            assert _time_to_see(store, follower) < 1.5
    finally:
        store.close()


def _terminate_followers(store) -> int:
    with store.engine.connect() as connection:
        killed = connection.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = 'envgrid change follower' AND datname = current_database()")).scalar_one()
        connection.commit()
    return killed


@pytest.mark.postgres
def test_a_killed_connection_reconnects_and_catches_up_exactly_once(pg_workspace_url):
    from gis.storage.store import open_store

    store = open_store(pg_workspace_url)
    states = []
    try:
        with ChangeFollower(store.url, on_state=states.append) as follower:
            assert follower.poll(timeout=0) == []  # connected: it starts after what exists now
            written = _write(store, 3, "a")
            found = _collect(follower, 3)
            for round_ in range(3):
                assert _terminate_followers(store) == 1
                written += _write(store, 4, f"r{round_}-")  # while the follower is cut off
                found += _collect(follower, len(written) - len(found))
                written += _write(store, 2, f"s{round_}-")  # and after it is back
                found += _collect(follower, len(written) - len(found))
    finally:
        store.close()
    assert [c.row_id for c in found] == written
    assert [s.connected for s in states] == [True] + [False, True] * 3
    lost = states[1]
    assert lost.describe().startswith(f"disconnected since {lost.since:%H:%M} (")
    assert lost.error  # the driver's words: "terminating connection…" or "server closed the connection…"


@pytest.mark.postgres
def test_an_unreachable_server_is_reported_and_poll_still_returns():
    states = []
    follower = ChangeFollower("postgresql://postgres@127.0.0.1:1/nothing", on_state=states.append, max_backoff=0.2)
    started = time.monotonic()
    try:
        assert follower.poll(timeout=0.5) == []
        assert follower.poll(timeout=0.5) == []
    finally:
        follower.close()
    assert time.monotonic() - started < 3
    assert not follower.state.connected and follower.state.error
    assert len(states) == 1  # the same failure again is not news


def test_pruned_changes_a_follower_had_not_read_are_a_gap_not_a_silence(store):
    with ChangeFollower(store.url, after_id=0, poll_interval=0.05) as follower:
        old = _write(store, 5)
        with store.engine.begin() as connection:
            assert prune_changes(connection, keep_days=1, now=datetime.now(UTC) + timedelta(days=2)) == 5
        with pytest.raises(ChangeFeedGap) as gap:
            follower.poll(timeout=0.5)
        assert (gap.value.after_id, gap.value.resume_after) == (0, 5)
        new = _write(store, 2)
        assert [c.row_id for c in _collect(follower, 2)] == new
    assert new[0] > old[-1]


def test_prune_keeps_recent_changes_and_ids_are_never_reused(store):
    _write(store, 3)
    with store.engine.begin() as connection:
        assert prune_changes(connection, keep_days=30) == 0
        with pytest.raises(ValueError, match="at least 1"):
            prune_changes(connection, keep_days=0.5)
        assert prune_changes(connection, keep_days=1, now=datetime.now(UTC) + timedelta(days=2)) == 3
        assert latest_change_id(connection) == 3  # an empty feed still knows where it is
    _write(store, 1)
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT id FROM changes")).scalars().all() == [4]
