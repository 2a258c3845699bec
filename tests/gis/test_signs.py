"""Public sign content: names, 四至, people in sign order, duties, hotline, map extent."""
from __future__ import annotations

from datetime import date

import pytest
import shapely

from gis.domain import Assignment, Grid, Person, Role
from gis.signs import (
    DEFAULT_DUTIES, SignError, build_sign, contact_text, display_phone, read_signs, sign_extent,
)
from gis.storage.grids import insert_grids
from gis.storage.people import insert_assignments, insert_people


def village(**fields):
    base = dict(id=7, code="140502001001", name="古寨村", level=3, parent_id=2,
                boundary=shapely.box(112.80, 35.45, 112.82, 35.46), area_m2=1_812_000.0,
                east="东街社区", south="南村", west="", north="北岭村")
    return Grid(**{**base, **fields})


def test_sign_orders_people_and_fills_defaults():
    grid = village()
    parent = Grid(2, "140502001", "北街街道", 2, 1, shapely.box(112.7, 35.4, 112.9, 35.5))
    staff = [(Role.STAFF, Person(1, "张三", "13812345678")), (Role.LEADER, Person(2, "李四", "0356-2123456")),
             (Role.FIRST_LEADER, Person(3, "王五", "13900001111"))]
    sign = build_sign(grid, staff=staff, parent=parent, district="晋城市城区", issued=date(2026, 1, 5))
    assert [(p.role, p.name) for p in sign.people] == [("第一网格长", "王五"), ("网格长", "李四"), ("网格员", "张三")]
    assert sign.bounds_phrases() == ["东至东街社区", "南至南村", "西至（待核定）", "北至北岭村"]
    assert sign.duties == DEFAULT_DUTIES[3] and sign.hotline == "12369"
    assert sign.parent_name == "北街街道" and sign.level_name == "三级网格"
    assert sign.area_km2 == pytest.approx(1.812)
    text = contact_text(sign)
    assert text.splitlines() == [
        "古寨村（三级网格，编码 140502001001）", "上级网格：北街街道",
        "四至：东至东街社区，南至南村，西至（待核定），北至北岭村",
        "第一网格长：王五 13900001111", "网格长：李四 0356-2123456", "网格员：张三 13812345678", "环保举报热线：12369"]


def test_four_bounds_fields_that_already_carry_the_prefix_are_not_doubled():
    sign = build_sign(village(east="东至东环路", west=" 西至 西河"))
    assert sign.bounds_phrases()[0] == "东至东环路" and sign.bounds_phrases()[2] == "西至西河"


def test_extent_contains_the_grid_with_a_margin_and_the_asked_aspect():
    grid = village()
    x0, y0, x1, y1 = sign_extent(grid.boundary, aspect=1.12)
    gx0, gy0, gx1, gy1 = grid.boundary.bounds
    assert x0 < gx0 and y0 < gy0 and x1 > gx1 and y1 > gy1
    import math
    width_m = (x1 - x0) * math.cos(math.radians((y0 + y1) / 2))
    assert width_m / (y1 - y0) == pytest.approx(1.12, rel=1e-6)
    px0, py0, px1, py1 = sign_extent(shapely.Point(112.8, 35.5))  # a 五级网格点 stored as a point
    assert (py1 - py0) * 111_320 == pytest.approx(800 * 1.36, rel=0.01)


def test_display_phone_groups_mobiles_only():
    assert display_phone("13812345678") == "138 1234 5678"
    assert display_phone("0356-2123456") == "0356-2123456"


def test_read_signs_by_grid_level_and_parent(sqlite_url):
    from gis.storage.store import open_store

    store = open_store(sqlite_url)
    with store.engine.begin() as connection:
        district = Grid(None, "140502", "测试城区", 1, None, shapely.box(112.8, 35.45, 112.9, 35.55))
        insert_grids(connection, [district])
        towns = [Grid(None, "140502001", "西街道", 2, district.id, shapely.box(112.8, 35.45, 112.85, 35.55)),
                 Grid(None, "140502002", "东街道", 2, district.id, shapely.box(112.85, 35.45, 112.9, 35.55))]
        insert_grids(connection, towns)
        people = [Person(None, "赵六", "13700001111"), Person(None, "钱七", "13700002222")]
        insert_people(connection, people)
        insert_assignments(connection, [Assignment(towns[0].id, people[0].id, Role.LEADER, date(2020, 1, 1)),
                                        Assignment(towns[0].id, people[1].id, Role.LEADER, date(2019, 1, 1),
                                                   date(2019, 12, 31))])
    with store.engine.connect() as connection:
        (west,) = read_signs(connection, grid_code="140502001")
        assert [(p.role, p.name) for p in west.people] == [("网格长", "赵六")]  # the former leader is not printed
        assert west.district == "测试城区" and west.parent_name == "测试城区"
        assert [n.name for n in west.neighbours] == ["东街道"]
        assert [s.name for s in read_signs(connection, level=2)] == ["西街道", "东街道"]
        assert [s.name for s in read_signs(connection, parent_code="140502")] == ["西街道", "东街道"]
        with pytest.raises(SignError, match="no grid with code 9"):
            read_signs(connection, grid_code="9")
        with pytest.raises(SignError, match="no grids at level 4"):
            read_signs(connection, level=4)
    store.close()
