"""AQI per HJ 633-2012: Table 1 breakpoints, formula 1 rounded up, notes 2 and 3, levels."""
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType

import pytest

from gis.aqi import (BREAKPOINTS, HJ212_CODES, IAQI_STEPS, LEVELS, AqiLevel, Pollutant, aqi_level,
                     daily_aqi, hourly_aqi, iaqi, parse_pollutant)

# HJ 633-2012 Table 1, typed in again from the standard so a slip in the module shows up here.
TABLE_1 = {
    ("SO2", "24h"): (0, 50, 150, 475, 800, 1600, 2100, 2620),
    ("SO2", "1h"): (0, 150, 500, 650, 800),
    ("NO2", "24h"): (0, 40, 80, 180, 280, 565, 750, 940),
    ("NO2", "1h"): (0, 100, 200, 700, 1200, 2340, 3090, 3840),
    ("PM10", "24h"): (0, 50, 150, 250, 350, 420, 500, 600),
    ("CO", "24h"): (0, 2, 4, 14, 24, 36, 48, 60),
    ("CO", "1h"): (0, 5, 10, 35, 60, 90, 120, 150),
    ("O3", "1h"): (0, 160, 200, 300, 400, 800, 1000, 1200),
    ("O3", "8h"): (0, 100, 160, 215, 265, 800),
    ("PM2.5", "24h"): (0, 35, 75, 115, 150, 250, 350, 500),
}
STEPS = (0, 50, 100, 150, 200, 300, 400, 500)


def test_tables_are_table_1_of_the_standard():
    assert IAQI_STEPS == STEPS
    assert {(str(p), period): table for (p, period), table in BREAKPOINTS.items()} == TABLE_1


@pytest.mark.parametrize(("pollutant", "period", "concentration", "step"), [
    (p, period, c, STEPS[i]) for (p, period), table in TABLE_1.items() for i, c in enumerate(table)])
def test_every_breakpoint_maps_exactly_to_its_iaqi_step(pollutant, period, concentration, step):
    assert iaqi(pollutant, concentration, period) == step
    assert iaqi(pollutant, float(concentration), period) == step


# Hand-computed with formula 1, (IAQI_hi - IAQI_lo) / (BP_hi - BP_lo) * (C - BP_lo) + IAQI_lo,
# then rounded up.
@pytest.mark.parametrize(("pollutant", "period", "concentration", "expected"), [
    ("SO2", "24h", 30, 30),        # 50/50·30 = 30
    ("SO2", "24h", 51, 51),        # 50/100·1 + 50 = 50.5
    ("SO2", "24h", 100, 75),       # 50/100·50 + 50 = 75
    ("SO2", "24h", 1000, 225),     # 100/800·200 + 200 = 225
    ("SO2", "1h", 300, 72),        # 50/350·150 + 50 = 71.43
    ("SO2", "1h", 700, 167),       # 50/150·50 + 150 = 166.67
    ("NO2", "24h", 60, 75),        # 50/40·20 + 50 = 75
    ("NO2", "24h", 85, 103),       # 50/100·5 + 100 = 102.5
    ("NO2", "1h", 150, 75),        # 50/100·50 + 50 = 75
    ("NO2", "1h", 1000, 180),      # 50/500·300 + 150 = 180
    ("NO2", "1h", 3000, 388),      # 100/750·660 + 300 = 388
    ("PM10", "24h", 85, 68),       # 50/100·35 + 50 = 67.5
    ("PM10", "24h", 380, 243),     # 100/70·30 + 200 = 242.86
    ("CO", "24h", 0.9, 23),        # 50/2·0.9 = 22.5
    ("CO", "24h", 3, 75),          # 50/2·1 + 50 = 75
    ("CO", "24h", 5.5, 108),       # 50/10·1.5 + 100 = 107.5
    ("CO", "1h", 7.3, 73),         # 50/5·2.3 + 50 = 73
    ("CO", "1h", 12, 104),         # 50/25·2 + 100 = 104
    ("O3", "1h", 180, 75),         # 50/40·20 + 50 = 75
    ("O3", "1h", 250, 125),        # 50/100·50 + 100 = 125
    ("O3", "1h", 900, 350),        # 100/200·100 + 300 = 350
    ("O3", "8h", 130, 75),         # 50/60·30 + 50 = 75
    ("O3", "8h", 200, 137),        # 50/55·40 + 100 = 136.36
    ("O3", "8h", 500, 244),        # 100/535·235 + 200 = 243.93
    ("PM2.5", "24h", 36, 52),      # 50/40·1 + 50 = 51.25
    ("PM2.5", "24h", 100, 132),    # 50/40·25 + 100 = 131.25
    ("PM2.5", "24h", 300, 350),    # 100/100·50 + 300 = 350
])
def test_between_breakpoints_interpolates_and_rounds_up(pollutant, period, concentration, expected):
    assert iaqi(pollutant, concentration, period) == expected


def test_decimal_concentrations_are_taken_as_written_not_as_binary_floats():
    # (2.2 - 2) · 25 + 50 is exactly 55, but in binary floats 55.000000000000004, which a naive
    # ceil turns into 56.
    assert (2.2 - 2) * 25 + 50 > 55
    assert iaqi("CO", 2.2, "24h") == 55
    assert iaqi("CO", Decimal("2.2"), "24h") == 55
    assert iaqi("CO", Fraction(11, 5), "24h") == 55
    assert iaqi("CO", 2.21, "24h") == 56   # 55.25


def test_so2_1h_above_800_is_not_computed_and_hourly_uses_the_24h_iaqi():
    assert iaqi("SO2", 800, "1h") == 200
    assert iaqi("SO2", 800.5, "1h") is None
    result = hourly_aqi({"SO2": 900, "NO2": 150}, so2_24h=100)
    assert result.iaqi == {"SO2": 75, "NO2": 75}   # SO2 from 100 µg/m³ on the 24h table
    assert result.periods == {"SO2": "24h", "NO2": "1h"}
    assert result.aqi == 75 and result.primary == ("SO2", "NO2")


def test_so2_24h_is_only_a_replacement_in_the_hourly_aqi():
    result = hourly_aqi({"SO2": 800}, so2_24h=2000)
    assert result.iaqi == {"SO2": 200} and result.periods == {"SO2": "1h"}


def test_so2_1h_above_800_without_the_24h_average_is_an_error():
    with pytest.raises(ValueError, match=r"SO2 1h = 900 .*note 2.*so2_24h"):
        hourly_aqi({"SO2": 900})


def test_o3_8h_above_800_is_not_computed_and_daily_uses_the_1h_iaqi():
    assert iaqi("O3", 800, "8h") == 300
    assert iaqi("O3", 801, "8h") is None
    result = daily_aqi({"O3": 850, "PM2.5": 100}, o3_1h_max=900)
    assert result.iaqi == {"O3": 350, "PM2.5": 132}
    assert result.periods == {"O3": "1h", "PM2.5": "24h"}
    assert result.aqi == 350 and result.primary == ("O3",)
    assert daily_aqi({"O3": 200}, o3_1h_max=900).iaqi == {"O3": 137}   # 8h value used below 800


def test_o3_8h_above_800_without_the_1h_value_is_an_error():
    with pytest.raises(ValueError, match=r"O3 8h = 850.5 .*note 3.*o3_1h_max"):
        daily_aqi({"O3": 850.5})


def test_above_the_top_breakpoint_the_iaqi_is_capped_at_500_and_flagged():
    assert iaqi("PM2.5", 501, "24h") == 500
    assert iaqi("SO2", 5000, "24h") == 500
    assert iaqi("O3", 1500, "1h") == 500
    result = daily_aqi({"PM2.5": 600, "PM10": 600})
    assert result.iaqi == {"PM10": 500, "PM2.5": 500}
    assert result.above_scale == ("PM2.5",)          # PM10 600 is the top breakpoint itself
    assert result.aqi == 500 and result.level.number == 6
    assert result.primary == ("PM10", "PM2.5")


def test_hourly_uses_1h_tables_and_daily_24h_tables():
    hourly = hourly_aqi({"SO2": 200, "NO2": 100, "CO": 5, "O3": 180})
    assert hourly.iaqi == {"SO2": 58, "NO2": 50, "CO": 50, "O3": 75}   # SO2: 50/350·50 + 50 = 57.14
    daily = daily_aqi({"SO2": 200, "NO2": 100, "CO": 5, "O3": 180})
    # SO2 50/325·50 + 100 = 107.69; NO2 50/100·20 + 100; CO 50/10·1 + 100; O3 8h 50/55·20 + 100 = 118.18
    assert daily.iaqi == {"SO2": 108, "NO2": 110, "CO": 105, "O3": 119}
    assert daily.periods == {"SO2": "24h", "NO2": "24h", "CO": "24h", "O3": "8h"}


def test_hourly_pm_uses_the_24h_table_on_the_value_the_caller_names():
    moving = hourly_aqi({"PM2.5": 100, "PM10": 85}, pm_average="24h")
    single = hourly_aqi({"PM2.5": 100, "PM10": 85}, pm_average="1h")
    assert moving.iaqi == single.iaqi == {"PM10": 68, "PM2.5": 132}
    assert moving.periods == {"PM10": "24h", "PM2.5": "24h"}
    assert single.periods == {"PM10": "1h", "PM2.5": "1h"}
    with pytest.raises(ValueError, match="pm_average"):
        hourly_aqi({"PM2.5": 100})
    with pytest.raises(ValueError, match="pm_average must be"):
        hourly_aqi({"PM2.5": 100}, pm_average="8h")
    assert hourly_aqi({"NO2": 150}).aqi == 75          # no PM, no pm_average needed


def test_primary_pollutant_is_the_largest_iaqi_above_50():
    result = daily_aqi({"PM2.5": 100, "PM10": 85, "NO2": 60})
    assert result.aqi == 132
    assert result.primary == ("PM2.5",)
    assert result.exceeding == ("PM2.5",)
    assert result.level.name == "轻度污染"


def test_tied_largest_iaqis_are_all_primary_in_table_order():
    result = daily_aqi({"PM10": 150, "SO2": 150, "NO2": 60})   # 100, 100, 75
    assert result.aqi == 100
    assert result.primary == ("SO2", "PM10")
    assert result.exceeding == ()                    # exactly 100 is not above 100


def test_no_primary_pollutant_at_aqi_50_or_below():
    result = daily_aqi({"PM2.5": 35, "PM10": 50})
    assert result.aqi == 50 and result.primary == () and result.level.name == "优"


def test_exceeding_pollutants_are_all_iaqis_above_100():
    result = daily_aqi({"PM2.5": 100, "O3": 200, "NO2": 85, "CO": 3})   # 132, 137, 103, 75
    assert result.aqi == 137
    assert result.primary == ("O3",)
    assert result.exceeding == ("NO2", "O3", "PM2.5")


@pytest.mark.parametrize(("aqi", "number", "name", "colour"), [
    (0, 1, "优", "#00E400"), (50, 1, "优", "#00E400"),
    (51, 2, "良", "#FFFF00"), (100, 2, "良", "#FFFF00"),
    (101, 3, "轻度污染", "#FF7E00"), (150, 3, "轻度污染", "#FF7E00"),
    (151, 4, "中度污染", "#FF0000"), (200, 4, "中度污染", "#FF0000"),
    (201, 5, "重度污染", "#99004C"), (300, 5, "重度污染", "#99004C"),
    (301, 6, "严重污染", "#7E0023"), (500, 6, "严重污染", "#7E0023"),
])
def test_level_boundaries(aqi, number, name, colour):
    level = aqi_level(aqi)
    assert (level.number, level.name, level.colour) == (number, name, colour)


def test_levels_carry_grade_rgb_and_advice():
    assert [level.grade for level in LEVELS] == ["一级", "二级", "三级", "四级", "五级", "六级"]
    assert [level.rgb for level in LEVELS] == [(0, 228, 0), (255, 255, 0), (255, 126, 0), (255, 0, 0),
                                                (153, 0, 76), (126, 0, 35)]
    assert all(level.colour == "#{:02X}{:02X}{:02X}".format(*level.rgb) for level in LEVELS)
    assert LEVELS[0].advice == "各类人群可正常活动"
    assert LEVELS[2].advice == "儿童、老年人及心脏病、呼吸系统疾病患者应减少长时间、高强度的户外锻炼"
    assert LEVELS[5].health_effect == "健康人群运动耐受力降低，有明显强烈症状，提前出现某些疾病"
    assert [(lv.lowest, lv.highest) for lv in LEVELS] == [(0, 50), (51, 100), (101, 150), (151, 200),
                                                         (201, 300), (301, 500)]


@pytest.mark.parametrize(("pm25", "aqi", "number"), [
    (35, 50, 1), (35.1, 51, 2),        # 50.125 rounds up into 良
    (75, 100, 2), (75.1, 101, 3),      # 100.125
    (250, 300, 5), (250.5, 301, 6),    # 300.5
])
def test_rounding_up_moves_a_concentration_just_past_a_breakpoint_into_the_next_level(pm25, aqi, number):
    result = daily_aqi({"PM2.5": pm25})
    assert result.aqi == aqi and result.level.number == number


def test_aqi_level_rejects_non_integers_and_negatives():
    with pytest.raises(TypeError, match="50.5"):
        aqi_level(50.5)
    with pytest.raises(ValueError, match="-1"):
        aqi_level(-1)


def test_hj212_codes_map_to_pollutants():
    assert dict(HJ212_CODES) == {"a34004": Pollutant.PM25, "a34002": Pollutant.PM10,
                                 "a21026": Pollutant.SO2, "a21004": Pollutant.NO2,
                                 "a05024": Pollutant.O3, "a21005": Pollutant.CO}
    assert Pollutant.PM25.code == "a34004" and Pollutant.CO.code == "a21005"
    assert Pollutant.CO.unit == "mg/m³" and Pollutant.SO2.unit == "µg/m³"
    assert parse_pollutant("A34004") is Pollutant.PM25
    assert parse_pollutant("pm25") is parse_pollutant("PM2_5") is parse_pollutant("PM2.5") is Pollutant.PM25
    result = hourly_aqi({"a21026": 300, "a34004": 36, "a21005": 12}, pm_average="24h")
    assert result.iaqi == {"SO2": 72, "CO": 104, "PM2.5": 52}
    assert daily_aqi({"a05024": 130}).iaqi == {"O3": 75}


def test_unknown_or_repeated_pollutants_are_rejected():
    with pytest.raises(ValueError, match="a01001"):
        daily_aqi({"a01001": 25.0})                  # temperature, not an AQI pollutant
    with pytest.raises(ValueError, match=r"PM2.5 given twice, as 'PM2.5' and 'a34004'"):
        daily_aqi({"PM2.5": 30, "a34004": 31})


@pytest.mark.parametrize("bad", [-1, -0.1, float("nan"), float("inf")])
def test_negative_nan_or_infinite_concentrations_raise_naming_pollutant_and_value(bad):
    with pytest.raises(ValueError, match=rf"PM10 .*{bad!r}"):
        daily_aqi({"PM10": bad})
    with pytest.raises(ValueError, match=rf"NO2 .*{bad!r}"):
        iaqi("NO2", bad, "1h")
    with pytest.raises(ValueError, match=rf"SO2 .*{bad!r}"):
        hourly_aqi({"NO2": 10}, so2_24h=bad)


@pytest.mark.parametrize("bad", ["12", None, True])
def test_non_numbers_raise_type_error(bad):
    with pytest.raises(TypeError, match="CO concentration must be a number"):
        daily_aqi({"CO": bad})


def test_periods_without_a_table_are_rejected():
    with pytest.raises(ValueError, match=r"no 1h table for PM2.5.*24h table"):
        iaqi("PM2.5", 50, "1h")
    with pytest.raises(ValueError, match="no 8h table for SO2"):
        iaqi("SO2", 50, "8h")
    with pytest.raises(ValueError, match="period must be"):
        iaqi("SO2", 50, "daily")


def test_no_pollutants_gives_no_aqi():
    result = daily_aqi({})
    assert (result.aqi, result.level, result.primary, dict(result.iaqi)) == (None, None, (), {})


def test_result_is_read_only_and_ordered_like_table_1():
    result = daily_aqi({"PM2.5": 36, "SO2": 30, "O3": 130})
    assert list(result.iaqi) == ["SO2", "O3", "PM2.5"]
    assert isinstance(result.iaqi, MappingProxyType)
    with pytest.raises(TypeError):
        result.iaqi["SO2"] = 1
    assert isinstance(result.level, AqiLevel)
