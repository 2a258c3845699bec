"""Vocabulary of environmental grid supervision (网格化环境监管).

Plain values shared by storage, workflow and the desktop: grid levels, roles,
case sources and states, source and case categories. The seeds in
``shared/seeds`` are where these names come from.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from shapely.geometry.base import BaseGeometry

HOTLINE = "12369"  # national environmental complaint hotline, printed on every 公示牌

LEVEL_NAMES = {1: "一级网格", 2: "二级网格", 3: "三级网格", 4: "四级网格", 5: "五级网格点"}
LEVELS = tuple(LEVEL_NAMES)


class Role(StrEnum):
    """Who is responsible for a grid (seed 001 §三(二))."""

    LEADER = "网格长"
    DEPUTY = "副网格长"
    FIRST_LEADER = "第一网格长"
    STAFF = "网格员"
    FULLTIME_STAFF = "专职网格员"
    SUPERVISOR = "监督员"


class StationKind(StrEnum):
    AIR = "air"
    WATER = "water"
    OUTLET = "outlet"


STATION_KIND_NAMES = {StationKind.AIR: "空气自动站", StationKind.WATER: "水质自动站", StationKind.OUTLET: "企业排口"}


class CaseSource(StrEnum):
    PATROL = "巡查上报"
    COMPLAINT = "群众举报"
    ALARM = "监测报警"
    ASSIGNED = "上级交办"


class CaseState(StrEnum):
    """Closed loop of a case; the transitions live in the workflow module."""

    PENDING = "待受理"
    DISPATCHED = "已派发"
    IN_PROGRESS = "处置中"
    RECTIFIED = "已整改"
    RECHECK = "待复查"
    CLOSED = "已销号"
    RETURNED = "退回"
    ESCALATED = "上报上级"
    TRANSFERRED = "转办"
    FALSE_REPORT = "误报"
    DUPLICATE = "重复"


class CaseAction(StrEnum):
    """What a step in a case's history did (each one an append-only event)."""

    REGISTER = "登记"
    DISPATCH = "派发"
    ACCEPT = "签收处置"
    ESCALATE = "上报上级"
    RETURN = "退回"
    TRANSFER = "转办"
    RECTIFY = "整改完成"
    SUBMIT_RECHECK = "提交复查"
    RECHECK_FAIL = "复查不通过"
    CLOSE = "复查销号"
    FALSE_REPORT = "误报"
    DUPLICATE = "重复"
    REMIND = "督办"
    NOTE = "备注"  # internal: only staff see it
    FEEDBACK = "反馈"  # to the reporter: part of the trail a 12369 caller is told


class AlarmStatus(StrEnum):
    AWAITING = "待反馈"
    ANSWERED = "已反馈"
    LATE = "超时反馈"


OPEN_STATES = frozenset(
    {CaseState.PENDING, CaseState.DISPATCHED, CaseState.IN_PROGRESS, CaseState.RECTIFIED,
     CaseState.RECHECK, CaseState.RETURNED, CaseState.ESCALATED, CaseState.TRANSFERRED}
)


class SourceStatus(StrEnum):
    OPERATING = "在产"
    SUSPENDED = "停产"
    RECTIFYING = "整治中"
    CLOSED = "关停取缔"


# Ledger categories named in the seeds (DOMAIN.md, "污染源台账"); the list in the
# database is what users edit, this only seeds it.
SOURCE_CATEGORIES = (
    ("industrial", "工业企业"),
    ("medical", "医疗机构(医废、医疗废水)"),
    ("auto_repair", "汽修行业"),
    ("water_source", "饮用水水源保护区"),
    ("livestock", "畜禽养殖"),
    ("sanluanwu", "“散乱污”企业"),
    ("catering", "餐饮油烟"),
    ("construction", "建筑施工工地"),
    ("road_dust", "道路扬尘"),
    ("material_yard", "煤场料场堆场"),
    ("boiler", "燃煤锅炉"),
    ("vocs", "VOCs排放企业"),
    ("hazardous_waste", "危险废物产生经营单位"),
)

CASE_CATEGORIES = (
    ("air_dust", "扬尘污染"),
    ("air_smoke", "露天焚烧"),
    ("catering_fume", "餐饮油烟"),
    ("coal", "散煤燃烧"),
    ("vocs", "VOCs排放"),
    ("water", "水污染"),
    ("waste", "固废乱堆乱倒"),
    ("noise", "噪声扰民"),
    ("hazardous", "危险废物"),
    ("monitoring", "监测超标"),
    ("other", "其他"),
)


@dataclass(slots=True)
class Grid:
    """One grid of the hierarchy; ``boundary`` is lon/lat (CGCS2000)."""

    id: int | None
    code: str
    name: str
    level: int
    parent_id: int | None
    boundary: BaseGeometry
    area_m2: float = 0.0
    east: str = ""
    south: str = ""
    west: str = ""
    north: str = ""
    duties: str = ""
    valid_from: date | None = None
    valid_to: date | None = None
    version: int = 1


@dataclass(slots=True)
class Person:
    id: int | None
    name: str
    phone: str = ""
    unit: str = ""
    title: str = ""


@dataclass(slots=True)
class Assignment:
    grid_id: int
    person_id: int
    role: Role
    start_date: date
    end_date: date | None = None
    id: int | None = None


@dataclass(slots=True)
class CaseSummary:
    """A case row as tables and pins show it (no history, no attachments)."""

    id: int
    number: str
    source: str
    category: str
    state: str
    grid_id: int | None
    grid_name: str
    lon: float | None
    lat: float | None
    created_at: datetime
    due_at: datetime | None
    closed_at: datetime | None
    description: str = ""
    extra: dict = field(default_factory=dict)
