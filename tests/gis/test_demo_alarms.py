"""The demo's alarms and readings tell one story: an ordinary last day after an earlier episode, and
alarms raised by the alarm engine from the hourly readings (drawn ones only before them)."""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta

import numpy as np
import pytest
import shapely
from sqlalchemy import func, select

from gis.aqi import hourly_aqi
from gis.demo import history
from gis.demo.build import build_demo
from gis.domain import AlarmStatus, CaseSource
from gis.monitoring.rules import RuleKind, read_rules
from gis.storage import schema
from gis.storage.store import open_store

AS_OF = datetime(2026, 11, 20, 9, 0)
A, S, R, C, G = (schema.alarms.c, schema.stations.c, schema.readings.c, schema.cases.c, schema.grids.c)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    store = open_store(tmp_path_factory.mktemp("demo_alarms") / "demo.sqlite")
    build_demo(store, seed=20181, as_of=AS_OF)
    with store.engine.connect() as connection:
        yield connection
    store.close()


def _hourly(connection, since: datetime | None = None) -> dict[tuple[int, datetime], dict[str, float]]:
    query = select(R.station_id, R.data_time, R.pollutant, R.avg).where(R.cn == "2061")
    if since is not None:
        query = query.where(R.data_time >= since)
    found: dict[tuple[int, datetime], dict[str, float]] = defaultdict(dict)
    for row in connection.execute(query):
        found[(row.station_id, row.data_time)][row.pollutant] = row.avg
    return found


def _air(connection) -> set[int]:
    return set(connection.execute(select(S.id).where(S.kind == "air")).scalars())


def test_rule_alarms_are_readings_that_break_their_rule(demo):
    rules = {r.id: r for r in read_rules(demo)}
    hourly = _hourly(demo)
    alarms = demo.execute(select(A.station_id, A.pollutant, A.value, A.threshold, A.raised_at, A.due_at, A.rule_id,
                                 A.last_at, A.occurrences, A.grid_id, C.source, C.created_at, C.lon, C.lat,
                                 G.boundary).join(schema.cases, C.id == A.case_id).join(schema.grids, G.id == A.grid_id)
                          .where(A.rule_id.is_not(None))).all()
    assert alarms
    kinds = Counter()
    for alarm in alarms:
        rule = rules[alarm.rule_id]
        kinds[rule.kind] += 1
        values = hourly[(alarm.station_id, alarm.raised_at)]  # raised when that hour's frame came in
        if rule.kind is RuleKind.AQI:
            result = hourly_aqi(values, pm_average="1h")
            assert alarm.value == result.aqi and result.level.number >= rule.params["level"]
        else:
            assert alarm.pollutant == rule.pollutant and alarm.value == pytest.approx(values[rule.pollutant])
        if rule.kind is RuleKind.THRESHOLD:
            assert alarm.value > rule.params["limit"] == alarm.threshold
        assert alarm.last_at >= alarm.raised_at and alarm.occurrences >= 1
        # Its 监测报警 case: raised with it, at the station, in the station's grid, 24 hours to answer.
        assert alarm.source == str(CaseSource.ALARM) and alarm.created_at == alarm.raised_at
        assert alarm.boundary.covers(shapely.Point(alarm.lon, alarm.lat))
        assert alarm.due_at - alarm.raised_at == timedelta(hours=24)
    assert kinds[RuleKind.AQI] > 0 and kinds[RuleKind.THRESHOLD] > 0


def test_every_reading_over_an_enabled_limit_is_an_alarm_or_one_of_its_repeats(demo):
    station_kind = dict(demo.execute(select(S.id, S.kind)).all())
    hourly = _hourly(demo)
    occurrences = {(s, r): n for s, r, n in demo.execute(
        select(A.station_id, A.rule_id, func.sum(A.occurrences)).where(A.rule_id.is_not(None))
        .group_by(A.station_id, A.rule_id))}
    # A rule applies from when it was saved (the demo switches its PM2.5 early warning on shortly before "now").
    since = dict(demo.execute(select(schema.alarm_rules.c.id, schema.alarm_rules.c.updated_at)).all())
    checked = 0
    for rule in read_rules(demo, enabled_only=True):
        if rule.kind is not RuleKind.THRESHOLD:
            continue
        over = Counter(station for (station, at), values in hourly.items()
                       if at >= since[rule.id] and rule.applies_to(station_kind[station])
                       and values.get(rule.pollutant, 0) > rule.params["limit"])
        for station in set(over) | {s for s, r in occurrences if r == rule.id}:
            assert occurrences.get((station, rule.id), 0) == over[station], (rule.code, station)
            checked += over[station]
    assert checked > 0


def test_open_alarms_are_few_and_one_per_station_pollutant_and_rule(demo):
    open_alarms = demo.execute(select(A.station_id, A.pollutant, A.rule_id, A.raised_at)
                               .where(A.status == str(AlarmStatus.AWAITING))).all()
    assert len(open_alarms) <= 20
    assert all(n == 1 for n in Counter((a.station_id, a.pollutant, a.rule_id) for a in open_alarms).values())
    assert all(AS_OF - a.raised_at < timedelta(days=3) for a in open_alarms)
    # Answered ones were answered after they were raised; most of them are closed cases.
    answered = demo.execute(select(A.raised_at, A.feedback_at, C.state).join(schema.cases, C.id == A.case_id)
                            .where(A.rule_id.is_not(None), A.status != str(AlarmStatus.AWAITING))).all()
    assert answered and all(a.feedback_at > a.raised_at for a in answered)
    assert sum(a.state == "已销号" for a in answered) > len(answered) / 2


def test_drawn_alarms_end_where_the_hourly_readings_begin(demo):
    first = dict(demo.execute(select(R.station_id, func.min(R.data_time)).where(R.cn == "2061")
                              .group_by(R.station_id)).all())
    drawn = demo.execute(select(A.station_id, A.raised_at).where(A.rule_id.is_(None))).all()
    assert drawn and all(a.raised_at < first[a.station_id] for a in drawn)
    # From the first air hour on, every 监测报警 case belongs to an alarm.
    start = min(first[s] for s in _air(demo))
    lonely = demo.execute(select(func.count()).select_from(schema.cases).outerjoin(schema.alarms, A.case_id == C.id)
                          .where(C.source == str(CaseSource.ALARM), C.created_at >= start, A.id.is_(None))).scalar_one()
    assert lonely == 0


def _levels(connection, since: datetime, until: datetime) -> dict[datetime, list[int]]:
    air = _air(connection)
    by_day: dict[datetime, list[int]] = defaultdict(list)
    for (station, at), values in _hourly(connection, since).items():
        if station in air and at < until:
            by_day[at.date()].append(hourly_aqi(values, pm_average="1h").level.number)
    return by_day


def test_the_demo_opens_on_an_ordinary_day_after_an_episode(demo):
    last_day = [n for levels in _levels(demo, AS_OF - timedelta(hours=23), AS_OF + timedelta(hours=1)).values()
                for n in levels]
    assert len(last_day) == 24 * len(_air(demo))
    assert sum(n <= 3 for n in last_day) >= 0.9 * len(last_day)   # 优, 良, some 轻度
    assert Counter(last_day).most_common(1)[0][0] == 2             # mostly 良
    earlier = _levels(demo, AS_OF - timedelta(days=16), AS_OF - timedelta(days=4))
    episode = [day for day, levels in earlier.items() if np.median(levels) >= 4]   # 中度 or worse at most stations
    assert episode
    raised = demo.execute(select(func.count()).select_from(schema.alarms).where(
        A.rule_id.is_not(None), A.raised_at >= datetime.combine(min(episode), datetime.min.time()),
        A.raised_at < datetime.combine(max(episode), datetime.min.time()) + timedelta(days=1))).scalar_one()
    assert raised > 0


@pytest.mark.parametrize("seed", range(6))
def test_the_weather_walk_ends_ordinary_after_an_episode(seed):
    rng = np.random.default_rng(seed)
    sd = history.STAGNATION_SD / np.sqrt(1 - history.STAGNATION_MEMORY ** 2)
    x = history._story_walk(96, rng)
    low, high = history.ORDINARY_LEVELS
    end = x[-(history.ORDINARY_DAYS + 1):]
    assert low * sd <= end.min() and end.max() <= high * sd
    first, last = history.EPISODE_BACK
    assert np.count_nonzero(x[96 - last:96 - first + 1] >= history.EPISODE_LEVEL * sd) >= history.EPISODE_LENGTH
    # Still the weather model: the whole walk moves as much as the unconditioned process does.
    assert 0.5 * sd < x.std() < 2 * sd
