"""Alarm rules: what they say, how a file of them is checked, how they are stored.

A rule is one row of ``alarm_rules``. Its ``kind`` decides which ``params`` it has:

- ``threshold``: ``limit`` — a reading of ``pollutant`` above it fires (per station kind: air
  quality limits differ from an outlet's discharge limits).
- ``aqi``: ``level`` (1–6, HJ 633-2012) — an hourly AQI of that level or worse fires.
- ``rise``: ``factor`` and/or ``absolute``, ``window`` — a value at least ``factor`` × the mean of
  the previous ``window`` readings (and at least ``absolute`` above it) fires.
- ``offline``: ``minutes`` — a station that has sent nothing for that long fires.
- ``flag``: ``flags`` — a reading carrying one of these HJ 212 data flags fires (T 超测上限,
  D 故障, F 停运, M 维护, C 校准, B 通讯异常…).

``cn`` (all kinds but offline) lists the data the rule reads: default hourly (2061).
``repeat_minutes`` (any kind, default 60): while an alarm of the rule is open, its repeats are
recorded in the case history at the first repeat and then at most once per this many minutes,
each event summing the repeats since the last one (gis.monitoring.alarms).
"""
from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from sqlalchemy import Connection, select

from gis.storage.schema import alarm_rules

STATION_KINDS = ("air", "water", "outlet")
DATA_CNS = ("2011", "2051", "2061", "2031")
# Pollutant label of alarms that concern a whole station, not one pollutant.
OFFLINE_POLLUTANT = "离线"
AQI_POLLUTANT = "AQI"
DEFAULT_REPEAT_MINUTES = 60


class RuleKind(StrEnum):
    THRESHOLD = "threshold"
    AQI = "aqi"
    RISE = "rise"
    OFFLINE = "offline"
    FLAG = "flag"


KIND_NAMES = {RuleKind.THRESHOLD: "浓度超标", RuleKind.AQI: "AQI超限", RuleKind.RISE: "浓度突升",
              RuleKind.OFFLINE: "站点离线", RuleKind.FLAG: "数据异常标记"}


class RuleError(ValueError):
    """Bad rules: one message per problem, nothing stored."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class AlarmRule:
    code: str
    kind: RuleKind
    name: str = ""
    pollutant: str | None = None
    station_kind: str | None = None
    params: Mapping = field(default_factory=dict)
    enabled: bool = True
    id: int | None = None

    @property
    def cns(self) -> tuple[str, ...]:
        return tuple(self.params.get("cn", ("2061",)))

    @property
    def repeat_interval(self) -> timedelta:
        """At most one 报警持续 case event per this interval while an alarm of this rule is open."""
        return timedelta(minutes=self.params.get("repeat_minutes", DEFAULT_REPEAT_MINUTES))

    def applies_to(self, station_kind: str | None) -> bool:
        return self.station_kind is None or self.station_kind == station_kind

    def label(self) -> str:
        return self.name or f"{KIND_NAMES[self.kind]} {self.code}"

    def to_json(self) -> dict:
        data = {"code": self.code, "kind": str(self.kind), "name": self.name, "enabled": self.enabled}
        if self.pollutant is not None:
            data["pollutant"] = self.pollutant
        if self.station_kind is not None:
            data["station_kind"] = self.station_kind
        data.update(self.params)
        return data


# GB 3095-2012 二级 (µg/m³, CO mg/m³): 1-hour limits where the standard has them; PM2.5 and PM10 only
# have 24-hour limits, applied here to the hourly value as an early warning. Outlets: typical
# discharge limits (mg/m³; GB 13271-2014 gas boilers, special limits; GB 18918-2002 一级A for water).
DEFAULT_RULES: tuple[dict, ...] = (
    {"code": "air-pm25", "kind": "threshold", "pollutant": "a34004", "station_kind": "air", "limit": 75,
     "name": "PM2.5 超过GB 3095二级日均限值"},
    {"code": "air-pm10", "kind": "threshold", "pollutant": "a34002", "station_kind": "air", "limit": 150,
     "name": "PM10 超过GB 3095二级日均限值"},
    {"code": "air-so2", "kind": "threshold", "pollutant": "a21026", "station_kind": "air", "limit": 500,
     "name": "SO2 超过GB 3095二级小时限值"},
    {"code": "air-no2", "kind": "threshold", "pollutant": "a21004", "station_kind": "air", "limit": 200,
     "name": "NO2 超过GB 3095二级小时限值"},
    {"code": "air-co", "kind": "threshold", "pollutant": "a21005", "station_kind": "air", "limit": 10,
     "name": "CO 超过GB 3095二级小时限值"},
    {"code": "air-o3", "kind": "threshold", "pollutant": "a05024", "station_kind": "air", "limit": 200,
     "name": "O3 超过GB 3095二级小时限值"},
    {"code": "outlet-so2", "kind": "threshold", "pollutant": "a21026", "station_kind": "outlet", "limit": 50,
     "name": "排口SO2超标"},
    {"code": "outlet-nox", "kind": "threshold", "pollutant": "a21002", "station_kind": "outlet", "limit": 150,
     "name": "排口NOx超标"},
    {"code": "outlet-dust", "kind": "threshold", "pollutant": "a34013", "station_kind": "outlet", "limit": 20,
     "name": "排口颗粒物超标"},
    {"code": "outlet-cod", "kind": "threshold", "pollutant": "w01018", "station_kind": "outlet", "limit": 50,
     "name": "排口COD超标"},
    {"code": "outlet-nh3n", "kind": "threshold", "pollutant": "w21003", "station_kind": "outlet", "limit": 5,
     "name": "排口氨氮超标"},
    {"code": "air-aqi", "kind": "aqi", "station_kind": "air", "level": 4, "name": "AQI 中度污染及以上"},
    {"code": "air-pm25-rise", "kind": "rise", "pollutant": "a34004", "station_kind": "air", "factor": 2.0,
     "absolute": 50, "window": 6, "name": "PM2.5 浓度突升"},
    {"code": "offline", "kind": "offline", "minutes": 180, "name": "站点超过3小时无数据"},
    {"code": "flag-fault", "kind": "flag", "flags": ["D", "T"], "name": "设备故障或超测量上限"},
)


def _number(entry: Mapping, key: str, where: str, problems: list[str], *, required: bool, low: float = 0,
            integer: bool = False, above: bool = True) -> float | int | None:
    value = entry.get(key)
    if value is None:
        if required:
            problems.append(f"{where}: missing {key!r}")
        return None
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok and integer:
        ok = float(value).is_integer()
    if not ok or (value <= low if above else value < low):
        kind = "a whole number" if integer else "a number"
        problems.append(f"{where}: {key!r} must be {kind} {'above' if above else 'at least'} {low:g}, got {value!r}")
        return None
    return int(value) if integer else float(value)


ALLOWED_KEYS = {
    RuleKind.THRESHOLD: {"limit", "cn"},
    RuleKind.AQI: {"level", "cn"},
    RuleKind.RISE: {"factor", "absolute", "window", "cn"},
    RuleKind.OFFLINE: {"minutes"},
    RuleKind.FLAG: {"flags", "cn"},
}
COMMON_KEYS = {"code", "kind", "name", "pollutant", "station_kind", "enabled", "repeat_minutes"}


def parse_rule(entry: object, where: str, problems: list[str]) -> AlarmRule | None:
    """One rule from a file entry; problems are appended (naming ``where`` and the field)."""
    if not isinstance(entry, Mapping):
        problems.append(f"{where}: a rule must be a table/object, got {type(entry).__name__}")
        return None
    start = len(problems)
    code = entry.get("code")
    if not isinstance(code, str) or not code.strip() or len(code.strip()) > 40:
        problems.append(f"{where}: 'code' must be a non-empty text of at most 40 characters, got {code!r}")
        code = None
    else:
        code = code.strip()
        where = f"{where} ({code})"
    try:
        kind = RuleKind(entry.get("kind"))
    except ValueError:
        problems.append(f"{where}: 'kind' must be one of {', '.join(RuleKind)}, got {entry.get('kind')!r}")
        return None
    unknown = set(entry) - COMMON_KEYS - ALLOWED_KEYS[kind]
    if unknown:
        problems.append(f"{where}: unknown field(s) for a {kind} rule: {', '.join(sorted(map(str, unknown)))}")
    name = entry.get("name", "")
    if not isinstance(name, str) or len(name) > 100:
        problems.append(f"{where}: 'name' must be a text of at most 100 characters")
    pollutant = entry.get("pollutant")
    if kind in (RuleKind.THRESHOLD, RuleKind.RISE) and pollutant is None:
        problems.append(f"{where}: a {kind} rule needs 'pollutant' (an HJ 212 code such as a34004)")
    elif kind in (RuleKind.AQI, RuleKind.OFFLINE) and pollutant is not None:
        problems.append(f"{where}: a {kind} rule takes no 'pollutant'")
    elif pollutant is not None and (not isinstance(pollutant, str) or not pollutant.strip()
                                    or len(pollutant.strip()) > 16):
        problems.append(f"{where}: 'pollutant' must be an HJ 212 code of at most 16 characters, got {pollutant!r}")
    station_kind = entry.get("station_kind")
    if station_kind is not None and station_kind not in STATION_KINDS:
        problems.append(f"{where}: 'station_kind' must be one of {', '.join(STATION_KINDS)}, got {station_kind!r}")
    enabled = entry.get("enabled", True)
    if not isinstance(enabled, bool):
        problems.append(f"{where}: 'enabled' must be true or false, got {enabled!r}")
    params: dict = {}
    if kind is not RuleKind.OFFLINE:
        cn = entry.get("cn", ["2061"])
        cn = [cn] if isinstance(cn, str) else cn
        if not isinstance(cn, list) or not cn or any(c not in DATA_CNS for c in cn):
            problems.append(f"{where}: 'cn' must list data codes among {', '.join(DATA_CNS)}, got {entry.get('cn')!r}")
        else:
            params["cn"] = sorted(set(cn))
    repeat = _number(entry, "repeat_minutes", where, problems, required=False, low=0, integer=True, above=False)
    if repeat is not None:
        params["repeat_minutes"] = repeat
    if kind is RuleKind.THRESHOLD:
        params["limit"] = _number(entry, "limit", where, problems, required=True, low=0, above=False)
    elif kind is RuleKind.AQI:
        params["level"] = _number(entry, "level", where, problems, required=True, low=2, integer=True, above=False)
        if params["level"] is not None and params["level"] > 6:
            problems.append(f"{where}: 'level' must be an AQI level 2-6 (4 = 中度污染), got {params['level']}")
        if kind is RuleKind.AQI and station_kind not in (None, "air"):
            problems.append(f"{where}: an aqi rule applies to air stations only, got station_kind {station_kind!r}")
    elif kind is RuleKind.RISE:
        factor = _number(entry, "factor", where, problems, required=False, low=1)
        absolute = _number(entry, "absolute", where, problems, required=False, low=0)
        if entry.get("factor") is None and entry.get("absolute") is None:
            problems.append(f"{where}: a rise rule needs 'factor' (e.g. 2.0) and/or 'absolute' (e.g. 50)")
        params.update({k: v for k, v in (("factor", factor), ("absolute", absolute)) if v is not None})
        window = _number(entry, "window", where, problems, required=False, low=2, integer=True, above=False)
        params["window"] = window or 6
    elif kind is RuleKind.OFFLINE:
        params["minutes"] = _number(entry, "minutes", where, problems, required=True, low=0, integer=True)
    elif kind is RuleKind.FLAG:
        flags = entry.get("flags")
        if not isinstance(flags, list) or not flags or any(not isinstance(f, str) or not f.strip() or len(f) > 4
                                                           for f in flags):
            problems.append(f"{where}: 'flags' must list HJ 212 data flags such as [\"D\", \"T\"], got {flags!r}")
        else:
            params["flags"] = sorted({f.strip() for f in flags})
    if len(problems) > start or code is None:
        return None
    return AlarmRule(code, kind, name.strip(), pollutant.strip() if pollutant else None, station_kind,
                     params, enabled)


def parse_rules(entries: Iterable[object], source: str = "rules") -> list[AlarmRule]:
    """Check every entry; raise :class:`RuleError` with one line per bad entry (or field)."""
    problems: list[str] = []
    result: list[AlarmRule] = []
    seen: dict[str, int] = {}
    for number, entry in enumerate(entries, start=1):
        rule = parse_rule(entry, f"{source}: rule {number}", problems)
        if rule is None:
            continue
        if rule.code in seen:
            problems.append(f"{source}: rule {number} ({rule.code}): code already used by rule {seen[rule.code]}")
            continue
        seen[rule.code] = number
        result.append(rule)
    if problems:
        raise RuleError(problems)
    return result


def read_rules_file(path: str | Path) -> list[AlarmRule]:
    """Rules from a ``.json`` (a list, or ``{"rules": [...]}``) or ``.toml`` (``[[rule]]`` tables) file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError([f"{path}: cannot read: {exc}"]) from None
    try:
        if path.suffix.lower() == ".toml":
            data = tomllib.loads(text)
            entries = data.get("rule", data.get("rules"))
        else:
            data = json.loads(text)
            entries = data.get("rules") if isinstance(data, dict) else data
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RuleError([f"{path}: not valid {'TOML' if path.suffix.lower() == '.toml' else 'JSON'}: {exc}"]) from None
    if not isinstance(entries, list):
        raise RuleError([f"{path}: expected a list of rules ([[rule]] tables in TOML, a list or "
                         "{\"rules\": [...]} in JSON)"])
    return parse_rules(entries, path.name)


def read_rules(connection: Connection, *, enabled_only: bool = False) -> list[AlarmRule]:
    T = alarm_rules
    query = select(T).order_by(T.c.id)
    if enabled_only:
        query = query.where(T.c.enabled.is_(True))
    return [AlarmRule(r.code, RuleKind(r.kind), r.name, r.pollutant, r.station_kind, dict(r.params or {}),
                      bool(r.enabled), r.id) for r in connection.execute(query)]


def save_rules(connection: Connection, rules: Iterable[AlarmRule], *, replace: bool = False,
               now: datetime | None = None, actor=None) -> dict[str, int]:
    """Insert or update rules by code in the caller's transaction; ``replace`` disables the others.

    Rules are disabled, never deleted: alarms keep pointing at the rule that raised them.
    Rules are settings: a logged-in ``actor`` (a Session) must be 管理员 (PermissionDenied
    otherwise); None is a trusted system caller (the demo builder, the defaults installer).
    Returns counts ``{"added", "updated", "disabled"}``.
    """
    from gis.security.edit_guard import check_alarm_rules_write

    check_alarm_rules_write(connection, actor)
    now = now or datetime.now()
    T = alarm_rules
    existing = {r.code: r for r in read_rules(connection)}
    counts = {"added": 0, "updated": 0, "disabled": 0}
    wanted = set()
    for rule in rules:
        wanted.add(rule.code)
        values = {"name": rule.name, "kind": str(rule.kind), "pollutant": rule.pollutant,
                  "station_kind": rule.station_kind, "params": dict(rule.params), "enabled": rule.enabled,
                  "updated_at": now}
        old = existing.get(rule.code)
        if old is None:
            connection.execute(T.insert().values(code=rule.code, **values))
            counts["added"] += 1
        elif (old.name, str(old.kind), old.pollutant, old.station_kind, dict(old.params), old.enabled) != (
                rule.name, str(rule.kind), rule.pollutant, rule.station_kind, dict(rule.params), rule.enabled):
            connection.execute(T.update().where(T.c.id == old.id).values(**values))
            counts["updated"] += 1
    if replace:
        stale = [r.id for code, r in existing.items() if code not in wanted and r.enabled]
        if stale:
            connection.execute(T.update().where(T.c.id.in_(stale)).values(enabled=False, updated_at=now))
        counts["disabled"] = len(stale)
    return counts


def install_default_rules(connection: Connection, now: datetime | None = None) -> dict[str, int]:
    """Add the default rules whose code is not taken yet (existing rules are left as they are)."""
    taken = {r.code for r in read_rules(connection)}
    return save_rules(connection, [r for r in parse_rules(DEFAULT_RULES, "default rules") if r.code not in taken],
                      now=now)
