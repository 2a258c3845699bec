"""Readings from a CSV or Excel file, for stations without a live HJ 212 link.

Columns (header row, any order, case-insensitive; Chinese names accepted): ``mn`` or ``station``
(the device MN or the station's name), ``time``, ``pollutant`` (HJ 212 code), ``value`` and
optionally ``flag`` (default N) and ``cn`` (default 2061 hourly). Every bad cell is reported as
one line naming the file, row and column; nothing is stored unless the whole file is good.
"""
from __future__ import annotations

import csv
import math
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, select

from gis.monitoring.rules import DATA_CNS
from gis.storage.schema import stations

ALIASES = {
    "mn": ("mn", "station", "站点", "站点编码", "设备编码", "监测点"),
    "time": ("time", "data_time", "datatime", "时间", "监测时间", "数据时间"),
    "pollutant": ("pollutant", "code", "pollutant code", "因子", "因子编码", "污染物"),
    "value": ("value", "avg", "值", "浓度", "监测值"),
    "flag": ("flag", "标记", "数据标记"),
    "cn": ("cn", "命令编码"),
}
REQUIRED = ("mn", "time", "pollutant", "value")
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y%m%d%H%M%S")


class ReadingsFileError(ValueError):
    """Bad file: one line per problem."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def _read_table(path: Path) -> list[list[object]]:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            raise ReadingsFileError([f"{path.name}: cannot read as Excel: {exc}"]) from None
        try:
            return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
        finally:
            workbook.close()
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):  # offices save CSV from Excel as GBK
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ReadingsFileError([f"{path.name}: not UTF-8 or GBK text"])
    return [row for row in csv.reader(text.splitlines())]


def _parse_time(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    text = str(value).strip()
    try:
        parsed = datetime.fromisoformat(text)
        return parsed.astimezone().replace(tzinfo=None) if parsed.tzinfo else parsed
    except ValueError:
        pass
    for fmt in TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def read_readings_file(connection: Connection, path: str | Path, received_at: datetime | None = None) -> list[dict]:
    """``readings`` rows from the file, checked against the stations table; raises ReadingsFileError."""
    path = Path(path)
    if not path.is_file():
        raise ReadingsFileError([f"{path}: no such file"])
    table = _read_table(path)
    name = path.name
    if not table or not any(cell not in (None, "") for cell in table[0]):
        raise ReadingsFileError([f"{name}: empty file (expected a header row: mn, time, pollutant, value, flag)"])
    header = [str(cell or "").strip().lower() for cell in table[0]]
    columns: dict[str, int] = {}
    for key, names in ALIASES.items():
        for index, title in enumerate(header):
            if title in names:
                columns.setdefault(key, index)
    missing = [key for key in REQUIRED if key not in columns]
    if missing:
        raise ReadingsFileError([f"{name}: row 1: missing column(s) {', '.join(missing)} (found: {', '.join(header)})"])
    by_mn, by_name = {}, {}
    for row in connection.execute(select(stations.c.id, stations.c.mn, stations.c.name)):
        by_mn[row.mn] = (row.id, row.mn)
        by_name[row.name] = (row.id, row.mn)
    received_at = received_at or datetime.now().replace(microsecond=0)
    problems, rows = [], []
    titles = {key: table[0][index] for key, index in columns.items()}
    for number, cells in enumerate(table[1:], start=2):
        if all(cell in (None, "") for cell in cells):
            continue

        def cell(key):
            index = columns.get(key)
            return cells[index] if index is not None and index < len(cells) else None

        def bad(key, why):
            problems.append(f"{name}: row {number}, column {titles[key]}: {why}")

        station = str(cell("mn") or "").strip()
        found = by_mn.get(station) or by_name.get(station)
        if not station:
            bad("mn", "empty")
        elif found is None:
            bad("mn", f"unknown station {station!r} (no station has this MN or name)")
        at = _parse_time(cell("time")) if cell("time") not in (None, "") else None
        if at is None:
            bad("time", f"not a date-time: {cell('time')!r} (e.g. 2024-05-01 08:00)")
        pollutant = str(cell("pollutant") or "").strip()
        if not pollutant or len(pollutant) > 16:
            bad("pollutant", f"must be an HJ 212 code such as a34004, got {cell('pollutant')!r}")
        value = cell("value")
        try:
            value = float(str(value).strip()) if not isinstance(value, (int, float)) else float(value)
            if not math.isfinite(value):
                raise ValueError
        except (TypeError, ValueError):
            bad("value", f"not a number: {cell('value')!r}")
            value = None
        flag = str(cell("flag") or "N").strip() or "N"
        if "flag" in columns and len(flag) > 4:
            bad("flag", f"an HJ 212 data flag has at most 4 characters, got {flag!r}")
        cn = str(cell("cn") or "2061").strip()
        if "cn" in columns and cn not in DATA_CNS:
            bad("cn", f"must be one of {', '.join(DATA_CNS)}, got {cn!r}")
        if found is None or at is None or value is None or len(problems) and problems[-1].startswith(
                f"{name}: row {number},"):
            continue
        realtime = cn == "2011"
        rows.append({"station_id": found[0], "mn": found[1], "cn": cn, "data_time": at, "pollutant": pollutant,
                     "rtd": value if realtime else None, "avg": None if realtime else value, "min": None,
                     "max": None, "flag": flag, "received_at": received_at})
    if problems:
        raise ReadingsFileError(problems)
    if not rows:
        raise ReadingsFileError([f"{name}: no readings (only a header row)"])
    return rows
