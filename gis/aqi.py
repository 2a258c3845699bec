"""Air quality index (AQI) per HJ 633-2012 环境空气质量指数(AQI)技术规定(试行).

Each pollutant's concentration becomes a sub-index (IAQI, 空气质量分指数) by linear
interpolation in Table 1 of the standard (formula 1)::

    IAQI = (IAQI_hi - IAQI_lo) / (BP_hi - BP_lo) * (C - BP_lo) + IAQI_lo

The AQI is the largest IAQI (formula 2). When the AQI is above 50, every pollutant whose IAQI
equals it is a primary pollutant (首要污染物; ties name all of them); every pollutant with an
IAQI above 100 is an exceeding pollutant (超标污染物).

Decisions the standard leaves to the implementation, taken here:

- Rounding: the interpolated IAQI is rounded *up* to an integer (ceil), as most
  implementations do; the 2012 text gives formula 1 without a rounding rule, so this is a
  choice, not a quotation. Concentrations are interpreted exactly as written:
  a float is read as its shortest decimal repr, so ``2.2`` mg/m³ of CO is 2.2, not
  2.2000000000000002, and lands on IAQI 55, not 56. Concentrations are not rounded first;
  pass the reported (revised) values if your data need it.
- Above the top breakpoint of a table the IAQI is capped at 500, and the result lists the
  pollutant in ``above_scale`` so a display can say "500+".
- Table 1 note 2: above 800 µg/m³ the SO2 1-hour IAQI is not computed; the SO2 IAQI comes
  from the 24-hour average instead. Note 3: above 800 µg/m³ the O3 8-hour IAQI is not
  computed; the O3 IAQI comes from the 1-hour value instead. :func:`iaqi` returns ``None``
  for those cases; :func:`hourly_aqi` and :func:`daily_aqi` take the replacement value as
  a keyword argument and raise if it is needed but missing, rather than silently leave out
  a pollutant at an IAQI of at least 200.
- Units: µg/m³ for everything except CO in mg/m³.

Hourly (实时报) AQI uses the 1-hour tables of SO2, NO2, CO and O3; Table 1 has only 24-hour
tables for PM10 and PM2.5, so their IAQI always uses those, on either the 24-hour moving
average or the hourly value — the caller says which (``pm_average``), and the result
records it. Daily (日报) AQI uses the 24-hour averages and the daily maximum 8-hour moving
average of O3.
"""
from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from numbers import Integral, Real
from types import MappingProxyType
from typing import Literal

__all__ = [
    "AqiLevel",
    "AqiResult",
    "BREAKPOINTS",
    "HJ212_CODES",
    "IAQI_STEPS",
    "LEVELS",
    "Pollutant",
    "aqi_level",
    "daily_aqi",
    "hourly_aqi",
    "iaqi",
    "parse_pollutant",
    "station_hour_aqi",
]

Period = Literal["1h", "8h", "24h"]
PmAverage = Literal["24h", "1h"]


class Pollutant(StrEnum):
    """The six pollutants of HJ 633-2012, in the column order of its Table 1.

    Members are strings (``Pollutant.PM25 == "PM2.5"``), so results can be indexed by name.
    """

    SO2 = "SO2"
    NO2 = "NO2"
    PM10 = "PM10"
    CO = "CO"
    O3 = "O3"
    PM25 = "PM2.5"

    @property
    def code(self) -> str:
        """Pollutant code of HJ 212-2017 / HJ 524 (``"a34004"`` for PM2.5)."""
        return _CODE_OF[self]

    @property
    def unit(self) -> str:
        """Concentration unit the tables use: mg/m³ for CO, µg/m³ for the rest."""
        return "mg/m³" if self is Pollutant.CO else "µg/m³"


_CODE_OF = {
    Pollutant.SO2: "a21026",
    Pollutant.NO2: "a21004",
    Pollutant.PM10: "a34002",
    Pollutant.CO: "a21005",
    Pollutant.O3: "a05024",
    Pollutant.PM25: "a34004",
}
#: HJ 212 / HJ 524 pollutant code → AQI pollutant.
HJ212_CODES: Mapping[str, Pollutant] = MappingProxyType({code: p for p, code in _CODE_OF.items()})
_NAMES = {p.value.replace(".", "").lower(): p for p in Pollutant}  # "pm25", "so2", …

#: IAQI at each breakpoint column of Table 1.
IAQI_STEPS: tuple[int, ...] = (0, 50, 100, 150, 200, 300, 400, 500)

_P = Pollutant
#: HJ 633-2012 Table 1: (pollutant, averaging period) → concentrations at IAQI_STEPS.
#: SO2 1h and O3 8h stop at 800 (notes 2 and 3).
BREAKPOINTS: Mapping[tuple[Pollutant, str], tuple[int, ...]] = MappingProxyType({
    (_P.SO2, "24h"): (0, 50, 150, 475, 800, 1600, 2100, 2620),
    (_P.SO2, "1h"): (0, 150, 500, 650, 800),
    (_P.NO2, "24h"): (0, 40, 80, 180, 280, 565, 750, 940),
    (_P.NO2, "1h"): (0, 100, 200, 700, 1200, 2340, 3090, 3840),
    (_P.PM10, "24h"): (0, 50, 150, 250, 350, 420, 500, 600),
    (_P.CO, "24h"): (0, 2, 4, 14, 24, 36, 48, 60),
    (_P.CO, "1h"): (0, 5, 10, 35, 60, 90, 120, 150),
    (_P.O3, "1h"): (0, 160, 200, 300, 400, 800, 1000, 1200),
    (_P.O3, "8h"): (0, 100, 160, 215, 265, 800),
    (_P.PM25, "24h"): (0, 35, 75, 115, 150, 250, 350, 500),
})


@dataclass(frozen=True, slots=True)
class AqiLevel:
    """One of the six AQI levels of HJ 633-2012 Table 2 and Appendix A."""

    number: int                 #: 1 … 6
    grade: str                  #: 一级 … 六级
    name: str                   #: 优, 良, 轻度污染, 中度污染, 重度污染, 严重污染
    colour: str                 #: "#00E400" …
    colour_name: str            #: 绿色 …
    rgb: tuple[int, int, int]
    lowest: int                 #: smallest AQI of the level
    highest: int                #: largest AQI of the level (500 for 六级)
    health_effect: str          #: 对健康影响情况
    advice: str                 #: 建议采取的措施


LEVELS: tuple[AqiLevel, ...] = (
    AqiLevel(1, "一级", "优", "#00E400", "绿色", (0, 228, 0), 0, 50,
             "空气质量令人满意，基本无空气污染", "各类人群可正常活动"),
    AqiLevel(2, "二级", "良", "#FFFF00", "黄色", (255, 255, 0), 51, 100,
             "空气质量可接受，但某些污染物可能对极少数异常敏感人群健康有较弱影响",
             "极少数异常敏感人群应减少户外活动"),
    AqiLevel(3, "三级", "轻度污染", "#FF7E00", "橙色", (255, 126, 0), 101, 150,
             "易感人群症状有轻度加剧，健康人群出现刺激症状",
             "儿童、老年人及心脏病、呼吸系统疾病患者应减少长时间、高强度的户外锻炼"),
    AqiLevel(4, "四级", "中度污染", "#FF0000", "红色", (255, 0, 0), 151, 200,
             "进一步加剧易感人群症状，可能对健康人群心脏、呼吸系统有影响",
             "儿童、老年人及心脏病、呼吸系统疾病患者避免长时间、高强度的户外锻炼，一般人群适量减少户外运动"),
    AqiLevel(5, "五级", "重度污染", "#99004C", "紫色", (153, 0, 76), 201, 300,
             "心脏病和肺病患者症状显著加剧，运动耐受力降低，健康人群普遍出现症状",
             "儿童、老年人和心脏病、肺病患者应停留在室内，停止户外运动，一般人群减少户外运动"),
    AqiLevel(6, "六级", "严重污染", "#7E0023", "褐红色", (126, 0, 35), 301, 500,
             "健康人群运动耐受力降低，有明显强烈症状，提前出现某些疾病",
             "儿童、老年人和病人应当留在室内，避免体力消耗，一般人群应避免户外活动"),
)


@dataclass(frozen=True)
class AqiResult:
    """AQI of one station (or city) and time.

    Attributes
    ----------
    aqi : int or None
        Largest IAQI; None when no pollutant was given.
    level : AqiLevel or None
        Level of ``aqi``.
    primary : tuple of Pollutant
        首要污染物: pollutants whose IAQI equals the AQI, empty when the AQI is 50 or less.
    iaqi : mapping of Pollutant to int
        IAQI of every pollutant given, read-only.
    exceeding : tuple of Pollutant
        超标污染物: pollutants with IAQI above 100.
    periods : mapping of Pollutant to str
        Averaging period of the concentration behind each IAQI: ``"1h"``, ``"8h"`` or
        ``"24h"``. Shows the note 2/3 replacements (SO2 ``"24h"`` in an hourly AQI, O3
        ``"1h"`` in a daily one) and which PM value an hourly AQI used.
    above_scale : tuple of Pollutant
        Pollutants above their table's top breakpoint, reported with the capped IAQI 500.
    """

    aqi: int | None
    level: AqiLevel | None
    primary: tuple[Pollutant, ...]
    iaqi: Mapping[Pollutant, int]
    exceeding: tuple[Pollutant, ...]
    periods: Mapping[Pollutant, str]
    above_scale: tuple[Pollutant, ...] = ()


def parse_pollutant(key: str) -> Pollutant:
    """The pollutant a key names.

    Parameters
    ----------
    key : str or Pollutant
        A name (``"PM2.5"``, ``"pm25"``, ``"SO2"``; case-insensitive) or an HJ 212 code
        (``"a34004"``).

    Returns
    -------
    Pollutant

    Raises
    ------
    ValueError
        If the key names none of the six pollutants (e.g. ``"a01001"``, temperature).
    """
    if isinstance(key, Pollutant):
        return key
    if not isinstance(key, str):
        raise TypeError(f"pollutant key must be a string, got {key!r} ({type(key).__name__})")
    text = key.strip().lower()
    found = HJ212_CODES.get(text) or _NAMES.get(text.replace(".", "").replace("_", ""))
    if found is None:
        raise ValueError(f"unknown pollutant {key!r}: expected one of "
                         f"{', '.join(p.value for p in Pollutant)} or an HJ 212 code "
                         f"({', '.join(HJ212_CODES)})")
    return found


def iaqi(pollutant: str, concentration: float, period: Period) -> int | None:
    """IAQI of one concentration (HJ 633-2012 formula 1, rounded up).

    Parameters
    ----------
    pollutant : str or Pollutant
        Name or HJ 212 code, see :func:`parse_pollutant`.
    concentration : float
        µg/m³, or mg/m³ for CO.
    period : {"1h", "8h", "24h"}
        Which table of Table 1: SO2, NO2, CO have ``"1h"`` and ``"24h"``; O3 ``"1h"``
        and ``"8h"``; PM10 and PM2.5 only ``"24h"`` (use it for hourly PM values too).

    Returns
    -------
    int or None
        0 … 500, capped at 500 above the top breakpoint. None for SO2 ``"1h"`` or O3 ``"8h"``
        above 800 µg/m³, which the standard does not compute (notes 2 and 3).

    Raises
    ------
    ValueError
        Negative, NaN or infinite concentration, or a period the pollutant has no table for.
    TypeError
        A concentration that is not a number.
    """
    p = parse_pollutant(pollutant)
    table = _table(p, period)
    value, _ = _evaluate(table, _exact(p, concentration))
    return value


def hourly_aqi(concentrations: Mapping[str, float], *, pm_average: PmAverage | None = None,
               so2_24h: float | None = None) -> AqiResult:
    """Hourly (实时报) AQI.

    Parameters
    ----------
    concentrations : mapping of str to float
        Pollutant name or HJ 212 code → concentration. SO2, NO2, CO and O3 are 1-hour
        averages. PM10 and PM2.5 are evaluated on the 24-hour table; ``pm_average`` says
        what they are. Missing pollutants are simply left out.
    pm_average : {"24h", "1h"}, optional
        Required when PM10 or PM2.5 is given: ``"24h"`` for the 24-hour moving average,
        ``"1h"`` for the hourly value. Recorded in ``AqiResult.periods``.
    so2_24h : float, optional
        SO2 24-hour (moving) average, used only when SO2 1h is above 800 µg/m³ (note 2).

    Returns
    -------
    AqiResult

    Raises
    ------
    ValueError
        Bad concentration, unknown or repeated pollutant, PM without ``pm_average``, or SO2
        1h above 800 µg/m³ without ``so2_24h``.
    """
    values = _parse_concentrations(concentrations)
    if pm_average not in (None, "24h", "1h"):
        raise ValueError(f"pm_average must be '24h' or '1h', got {pm_average!r}")
    if pm_average is None and (_P.PM10 in values or _P.PM25 in values):
        raise ValueError("hourly PM10/PM2.5 need pm_average: '24h' if you pass the 24-hour moving "
                         "average, '1h' if you pass the hourly value (both use the 24-hour table)")
    fallback = None if so2_24h is None else _exact(_P.SO2, so2_24h)
    tables = {p: "24h" if p in (_P.PM10, _P.PM25) else "1h" for p in values}
    periods = {p: pm_average if p in (_P.PM10, _P.PM25) else "1h" for p in values}
    return _combine(values, tables, periods, ("24h", fallback),
                    "SO2 1h = {} µg/m³ is above 800: HJ 633-2012 Table 1 note 2 reports the SO2 IAQI "
                    "from the 24-hour average instead; pass so2_24h")


def station_hour_aqi(values: Mapping[str, float]) -> AqiResult | None:
    """Hourly AQI of a station's latest hourly averages, as the map and the briefing show it.

    ``values`` is HJ 212 code → hourly average; other codes (temperature, COD…) and negative
    instrument values are ignored, and None comes back when no AQI pollutant is left. PM values
    are hourly (``pm_average="1h"``). An SO2 hour above 800 µg/m³ has no 24-hour mean here; the
    hourly value stands in: it can only overstate the level, the safe side for a warning map, and
    such an hour is 重度污染 or worse anyway.
    """
    usable = {code: v for code, v in values.items() if code in HJ212_CODES and v is not None and v >= 0}
    if not usable:
        return None
    try:
        return hourly_aqi(usable, pm_average="1h")
    except ValueError:
        return hourly_aqi(usable, pm_average="1h", so2_24h=usable[Pollutant.SO2.code])


def daily_aqi(concentrations: Mapping[str, float], *, o3_1h_max: float | None = None) -> AqiResult:
    """Daily (日报) AQI.

    Parameters
    ----------
    concentrations : mapping of str to float
        Pollutant name or HJ 212 code → concentration: 24-hour averages of SO2, NO2, PM10,
        CO and PM2.5; for O3 the day's maximum 8-hour moving average. Missing pollutants are
        simply left out.
    o3_1h_max : float, optional
        The day's maximum O3 1-hour average, used only when the O3 8-hour value is above
        800 µg/m³ (note 3).

    Returns
    -------
    AqiResult

    Raises
    ------
    ValueError
        Bad concentration, unknown or repeated pollutant, or O3 8h above 800 µg/m³ without
        ``o3_1h_max``.
    """
    values = _parse_concentrations(concentrations)
    fallback = None if o3_1h_max is None else _exact(_P.O3, o3_1h_max)
    tables = {p: "8h" if p is _P.O3 else "24h" for p in values}
    return _combine(values, tables, dict(tables), ("1h", fallback),
                    "O3 8h = {} µg/m³ is above 800: HJ 633-2012 Table 1 note 3 reports the O3 IAQI "
                    "from the 1-hour value instead; pass o3_1h_max")


def aqi_level(aqi: int) -> AqiLevel:
    """Level of an AQI: 0–50 一级 优, 51–100 二级 良, … , above 300 六级 严重污染.

    Raises
    ------
    TypeError
        If ``aqi`` is not an integer (AQI values are whole numbers).
    ValueError
        If ``aqi`` is negative.
    """
    if isinstance(aqi, bool) or not isinstance(aqi, Integral):
        raise TypeError(f"AQI must be an integer, got {aqi!r} ({type(aqi).__name__})")
    if aqi < 0:
        raise ValueError(f"AQI cannot be negative, got {aqi}")
    return next((level for level in LEVELS if aqi <= level.highest), LEVELS[-1])


# --- internals ---------------------------------------------------------------

def _table(pollutant: Pollutant, period: str) -> tuple[int, ...]:
    if period not in ("1h", "8h", "24h"):
        raise ValueError(f"period must be '1h', '8h' or '24h', got {period!r}")
    table = BREAKPOINTS.get((pollutant, period))
    if table is None:
        has = ", ".join(f"'{t}'" for q, t in BREAKPOINTS if q is pollutant)
        hint = (" (hourly PM values are evaluated on the 24h table)"
                if pollutant in (_P.PM10, _P.PM25) else "")
        raise ValueError(f"HJ 633-2012 has no {period} table for {pollutant}; it has {has}{hint}")
    return table


def _exact(pollutant: Pollutant, value: object) -> Fraction:
    """Check a concentration and return it as an exact fraction (floats via their repr)."""
    if isinstance(value, bool) or not isinstance(value, Real | Decimal):
        raise TypeError(f"{pollutant} concentration must be a number, got {value!r} "
                        f"({type(value).__name__})")
    as_float = float(value)
    if math.isnan(as_float) or math.isinf(as_float) or value < 0:
        raise ValueError(f"{pollutant} concentration must be finite and not negative, got {value!r}")
    if isinstance(value, Integral):
        return Fraction(int(value))
    if isinstance(value, Fraction | Decimal):
        return Fraction(value)
    # Shortest repr: 2.2 is the 2.2 the instrument reported, not 2.2000000000000001776…,
    # which would push an exact IAQI like 55 up to 56 when rounded up. Other reals (numpy
    # float32) print their own shortest form.
    if not isinstance(value, float):
        try:
            return Fraction(str(value))
        except ValueError:
            pass
    return Fraction(repr(as_float))


def _evaluate(table: tuple[int, ...], c: Fraction) -> tuple[int | None, bool]:
    """IAQI of ``c`` in ``table`` and whether it was capped at 500."""
    if c > table[-1]:
        if len(table) < len(IAQI_STEPS):  # SO2 1h, O3 8h: not computed above 800
            return None, False
        return IAQI_STEPS[-1], True
    i = bisect_left(table, c)
    if table[i] == c:
        return IAQI_STEPS[i], False
    lo, hi = table[i - 1], table[i]
    step_lo, step_hi = IAQI_STEPS[i - 1], IAQI_STEPS[i]
    return math.ceil(Fraction(step_hi - step_lo, hi - lo) * (c - lo) + step_lo), False


def _parse_concentrations(concentrations: Mapping[str, float]) -> dict[Pollutant, Fraction]:
    if not isinstance(concentrations, Mapping):
        raise TypeError(f"concentrations must be a mapping, got {type(concentrations).__name__}")
    values: dict[Pollutant, Fraction] = {}
    keys: dict[Pollutant, str] = {}
    for key, value in concentrations.items():
        p = parse_pollutant(key)
        if p in values:
            raise ValueError(f"{p} given twice, as {keys[p]!r} and {key!r}")
        values[p], keys[p] = _exact(p, value), key
    return values


def _combine(values: dict[Pollutant, Fraction], tables: dict[Pollutant, str],
             periods: dict[Pollutant, str], fallback: tuple[str, Fraction | None],
             missing: str) -> AqiResult:
    """IAQIs on ``tables``; where a table does not compute (notes 2, 3), the fallback period."""
    iaqis: dict[Pollutant, int] = {}
    above = set()
    for p, c in values.items():
        value, capped = _evaluate(_table(p, tables[p]), c)
        if value is None:
            period, replacement = fallback
            if replacement is None:
                raise ValueError(missing.format(_show(c)))
            value, capped = _evaluate(_table(p, period), replacement)
            periods[p] = period
        iaqis[p] = value
        if capped:
            above.add(p)
    order = [p for p in Pollutant if p in iaqis]  # Table 1 order, whatever the input order
    aqi = max(iaqis.values(), default=None)
    return AqiResult(
        aqi=aqi,
        level=None if aqi is None else aqi_level(aqi),
        primary=tuple(p for p in order if iaqis[p] == aqi) if aqi is not None and aqi > 50 else (),
        iaqi=MappingProxyType({p: iaqis[p] for p in order}),
        exceeding=tuple(p for p in order if iaqis[p] > 100),
        periods=MappingProxyType({p: periods[p] for p in order}),
        above_scale=tuple(p for p in order if p in above),
    )


def _show(c: Fraction) -> str:
    return str(c.numerator) if c.denominator == 1 else repr(float(c))
