"""PostgreSQL commits out of id order; a reader that resumes from "last id seen" must still miss nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from test_changes_triggers import add_person

from gis.storage.changes import latest_change_id, read_changes

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine(pg_workspace_url):
    engine = create_engine(pg_workspace_url)
    yield engine
    engine.dispose()


def _ids(engine, after=0) -> list[int]:
    with engine.connect() as connection:
        return [c.row_id for c in read_changes(connection, after)]


def _naive_ids(engine, after=0) -> list[int]:
    with engine.connect() as connection:
        return connection.execute(text("SELECT row_id FROM changes WHERE id > :a ORDER BY id"), {"a": after}).scalars().all()


def test_a_change_that_commits_after_a_later_one_is_not_missed(engine):
    with engine.connect() as a, engine.connect() as b:
        first = add_person(a, "A")  # A draws the smaller id…
        second = add_person(b, "B")
        b.commit()  # …B commits first
        assert _naive_ids(engine) == [second]  # what a plain "id > last" reader would take, then skip A
        assert _ids(engine) == []  # held back: A's id is below it and A may still commit
        with engine.connect() as connection:
            assert latest_change_id(connection) == 0
        a.commit()
    assert _ids(engine) == [first, second]


def test_a_larger_xid_can_hold_a_smaller_id_and_is_still_not_missed(engine):
    """Why "xid < snapshot xmin" is not enough: xids are assigned at the first write, ids at each change."""
    with engine.connect() as long, engine.connect() as short:
        one = add_person(long, "long-1")
        two = add_person(short, "short")  # a newer transaction (larger xid) draws id 2…
        three = add_person(long, "long-2")  # …and the older one id 3
        xid_long = long.execute(text("SELECT pg_current_xact_id()::text::bigint")).scalar_one()
        xid_short = short.execute(text("SELECT pg_current_xact_id()::text::bigint")).scalar_one()
        long.commit()
        # With only `short` in flight, xmin is xid_short: an "xid < xmin" rule would deliver ids 1
        # and 3 now, and never id 2.
        assert xid_long < xid_short
        assert _ids(engine) == [one]
        short.commit()
    assert _ids(engine, after=1) == [two, three]


def test_a_rolled_back_transaction_stops_holding_later_changes(engine):
    with engine.connect() as a, engine.connect() as b:
        add_person(a, "A")
        kept = add_person(b, "B")
        b.commit()
        assert _ids(engine) == []
        a.rollback()
    assert _ids(engine) == [kept]


def test_many_concurrent_writers_commit_in_random_order_and_nothing_is_missed(engine):
    import random

    rng = random.Random(7)
    seen: list[int] = []
    last = 0
    connections = [engine.connect() for _ in range(8)]
    try:
        written = []
        for round_ in range(6):
            order = list(range(len(connections)))
            rng.shuffle(order)
            for i in order:
                written.append(add_person(connections[i], f"w{round_}-{i}"))
            rng.shuffle(order)
            for i in order:
                connections[i].commit()
                with engine.connect() as reader:
                    found = read_changes(reader, last)
                if found:
                    last = found[-1].id
                    seen += [c.row_id for c in found]
        with engine.connect() as reader:
            seen += [c.row_id for c in read_changes(reader, last)]
    finally:
        for connection in connections:
            connection.close()
    assert sorted(seen) == sorted(written) and len(seen) == len(set(seen))


def test_one_lock_and_one_notification_per_transaction(engine, pg_workspace_url):
    import psycopg

    listener = psycopg.connect(pg_workspace_url.replace("+psycopg", ""), autocommit=True)
    listener.execute("LISTEN envgrid_changes")
    with engine.connect() as connection:
        for i in range(300):
            add_person(connection, f"p{i}")
        locks = connection.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                        "AND pid = pg_backend_pid()")).scalar_one()
        connection.commit()
    notices = list(listener.notifies(timeout=0.5))
    listener.close()
    assert locks == 1
    assert [n.payload for n in notices] == ["0"]  # the floor of the transaction's ids


def test_reading_inside_a_repeatable_read_transaction_is_refused(engine):
    connection = engine.connect().execution_options(isolation_level="REPEATABLE READ")
    with connection, pytest.raises(ValueError, match="READ COMMITTED"):
        read_changes(connection, 0)
