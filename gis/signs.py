"""What a grid's public sign (公示牌) says: pure content, no Qt, no layout.

Seed 001 asks every grid to publish "“四至”范围、工作职责、具体责任人和联系方式"; DOMAIN.md adds the
12369 hotline. `build_sign` assembles that for one grid from plain values; `read_signs` reads a
workspace and builds the signs of one grid, a level, or the children of a parent. The desktop's
``sign_pdf`` lays them out; the contact card in the staff dialog uses `contact_text`.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import shapely
from shapely.geometry.base import BaseGeometry

from gis.domain import HOTLINE, LEVEL_NAMES, Grid, Person, Role
from gis.four_bounds import SECTORS, FourBounds

# Order on the sign: who answers for the grid first (seed 001 §三(二): the 第一网格长 of a village
# "负总责"), then the leaders, then the people on the ground.
SIGN_ROLE_ORDER = (Role.FIRST_LEADER, Role.LEADER, Role.DEPUTY, Role.STAFF, Role.FULLTIME_STAFF, Role.SUPERVISOR)
SIGN_TITLE = "环境保护网格化监管公示牌"
POINT_EXTENT_M = 400.0
NEIGHBOUR_MARGIN = 0.6  # neighbours are kept within this margin, wide enough for any map frame  # a 五级网格点 stored as a point: show this much around it
_M_PER_DEG = 111_320.0

# 主要职责 per level, condensed from seed 001 §三(三) — printed when a grid has no duties of its own.
DEFAULT_DUTIES = {
    1: "对全区环保攻坚任务的完成、环境突出问题整改和环保网格化监管体系建设负总责，协调解决本区重大环境监管问题。",
    2: "对本辖区环保攻坚任务的完成、环境突出问题整改和网格化监管体系建设负责；做好辖区内环境突出问题的巡查、发现、"
       "处置工作，对超出本级职权范围的问题及时上报并配合处置；指导完善污染源台账。",
    3: "承担本辖区生态环境保护的主要责任，开展环境保护网格化监管巡查、发现、处置、报告、配合整改等工作；定期排查，"
       "摸清底数，完善各类污染源台账；完成上级交办的环保攻坚任务和突出问题整改。",
    4: "在上级网格长的监督指导下，对本片区开展每日巡查，负责环境保护问题的巡查、发现、处置、报告、协助整改；"
       "接收群众举报，对反映的环保问题积极查实、及时处置并回复。",
    5: "负责监督本单位区域的环境保护工作，对发现的环境问题及时制止、处置，并报告上级网格监管人员。",
}


@dataclass(frozen=True, slots=True)
class SignPerson:
    role: str
    name: str
    phone: str
    unit: str = ""
    title: str = ""


@dataclass(frozen=True, slots=True)
class Neighbour:
    """A grid drawn (and labelled) on the sign's map around the grid itself."""

    name: str
    boundary: BaseGeometry


@dataclass(frozen=True, slots=True)
class Sign:
    """Everything printed on one grid's 公示牌.

    ``extent`` is the lon/lat box the map shows (the grid with a margin); ``neighbours`` are the
    grids of the same level inside it, ``parent_boundary`` the outline of the parent grid.
    """

    code: str
    name: str
    level: int
    parent_name: str
    district: str
    four_bounds: FourBounds
    people: tuple[SignPerson, ...]
    duties: str
    hotline: str
    boundary: BaseGeometry
    extent: tuple[float, float, float, float]
    neighbours: tuple[Neighbour, ...] = ()
    parent_boundary: BaseGeometry | None = None
    area_km2: float = 0.0
    issued: date = field(default_factory=date.today)

    @property
    def level_name(self) -> str:
        return LEVEL_NAMES.get(self.level, "网格")

    @property
    def title(self) -> str:
        return SIGN_TITLE

    def bounds_phrases(self) -> list[str]:
        """``["东至…", …]``; a side nobody wrote is ``"东至（待核定）"`` rather than left blank."""
        out = []
        for phrase in self.four_bounds.phrases():
            prefix, text = phrase[:2], phrase[2:].strip()
            text = text[2:].strip() if text.startswith(prefix) else text  # fields that already say "东至…"
            out.append(prefix + (text or "（待核定）"))
        return out


def display_phone(phone: str) -> str:
    """Mobiles in 3-4-4 groups (``138 0000 0001``) — easier to read off a sign; others as stored."""
    if len(phone) == 11 and phone.isdigit() and phone.startswith("1"):
        return f"{phone[:3]} {phone[3:7]} {phone[7:]}"
    return phone


def sign_people(staff: Sequence[tuple[Role | str, Person]]) -> tuple[SignPerson, ...]:
    order = {str(role): i for i, role in enumerate(SIGN_ROLE_ORDER)}
    people = [SignPerson(str(role), p.name, p.phone, p.unit, p.title) for role, p in staff]
    return tuple(sorted(people, key=lambda p: order.get(p.role, len(order))))  # stable: names keep their order


def sign_extent(boundary: BaseGeometry, margin: float = 0.18, aspect: float = 1.0) -> tuple[float, float, float, float]:
    """The grid's box with ``margin`` on every side, widened to ``aspect`` (width/height, in metres)."""
    x0, y0, x1, y1 = boundary.bounds
    kx = max(math.cos(math.radians((y0 + y1) / 2)), 0.1)  # metres per degree of longitude / of latitude
    if x1 - x0 < 1e-9 and y1 - y0 < 1e-9:
        half = POINT_EXTENT_M / _M_PER_DEG
        x0, x1, y0, y1 = x0 - half / kx, x1 + half / kx, y0 - half, y1 + half
    w, h = (x1 - x0) * kx, (y1 - y0)
    w, h = w * (1 + 2 * margin), h * (1 + 2 * margin)
    if w / h < aspect:
        w = h * aspect
    else:
        h = w / aspect
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return (cx - w / kx / 2, cy - h / 2, cx + w / kx / 2, cy + h / 2)


def build_sign(grid: Grid, *, staff: Sequence[tuple[Role | str, Person]] = (), parent: Grid | None = None,
               district: str = "", same_level: Sequence[Grid] = (), hotline: str = HOTLINE,
               issued: date | None = None, aspect: float = 1.0) -> Sign:
    """The sign of one grid from plain values.

    Parameters
    ----------
    grid : Grid
    staff : sequence of (role, Person)
        Who holds which role today.
    parent : Grid, optional
        Named on the sign and outlined on the map.
    district : str
        The 一级网格's name (the sign's issuer line); defaults to the grid's own at level 1.
    same_level : sequence of Grid
        Candidates for the neighbours drawn on the map (those inside the extent are kept).
    aspect : float
        Width/height of the map frame the extent must fill.
    """
    extent = sign_extent(grid.boundary, aspect=aspect)
    box = shapely.box(*sign_extent(grid.boundary, margin=NEIGHBOUR_MARGIN))  # any frame shape a layout picks
    neighbours = tuple(Neighbour(g.name, g.boundary) for g in same_level
                       if g.id != grid.id and g.level == grid.level and g.boundary is not None
                       and not g.boundary.is_empty and shapely.intersects(box, g.boundary))
    return Sign(
        code=grid.code, name=grid.name, level=grid.level, parent_name=parent.name if parent else "",
        district=district or (grid.name if grid.level == 1 else ""),
        four_bounds=FourBounds(*(getattr(grid, side) or "" for side in SECTORS)),
        people=sign_people(staff), duties=(grid.duties or DEFAULT_DUTIES.get(grid.level, "")).strip(),
        hotline=hotline, boundary=grid.boundary, extent=extent, neighbours=neighbours,
        parent_boundary=parent.boundary if parent is not None else None,
        area_km2=(grid.area_m2 or 0.0) / 1e6, issued=issued or date.today())


def contact_text(sign: Sign) -> str:
    """The grid's contact card as plain text (the “复制” button; pastes into WeChat or a document)."""
    lines = [f"{sign.name}（{sign.level_name}，编码 {sign.code}）"]
    if sign.parent_name:
        lines.append(f"上级网格：{sign.parent_name}")
    lines.append("四至：" + "，".join(sign.bounds_phrases()))
    if sign.people:
        lines += [f"{p.role}：{p.name} {p.phone}".rstrip() for p in sign.people]
    else:
        lines.append("责任人：（未配置）")
    lines.append(f"环保举报热线：{sign.hotline}")
    return "\n".join(lines)


class SignError(ValueError):
    """No such grid or level; the message names what was asked for."""


def read_signs(connection, *, grid_code: str | None = None, level: int | None = None,
               parent_code: str | None = None, on: date | None = None, aspect: float = 1.0) -> list[Sign]:
    """Signs for one grid (``grid_code``), every grid of a ``level``, or the children of ``parent_code``
    (optionally only those of ``level``), ordered by code.

    Raises
    ------
    SignError
        Nothing chosen, an unknown code, or no grid matches.
    """
    from gis.storage.grids import read_grids
    from gis.storage.people import current_staff

    if grid_code is None and level is None and parent_code is None:
        raise SignError("choose the grids: a grid code, a level or a parent code")
    if level is not None and level not in LEVEL_NAMES:
        raise SignError(f"level {level}: grid levels are 1 to 5")
    grids = read_grids(connection)
    by_code = {g.code: g for g in grids}
    by_id = {g.id: g for g in grids}
    if grid_code is not None:
        if grid_code not in by_code:
            raise SignError(f"no grid with code {grid_code}")
        chosen = [by_code[grid_code]]
    else:
        chosen = grids
        if parent_code is not None:
            if parent_code not in by_code:
                raise SignError(f"no grid with code {parent_code}")
            chosen = [g for g in chosen if g.parent_id == by_code[parent_code].id]
        if level is not None:
            chosen = [g for g in chosen if g.level == level]
    if not chosen:
        what = f"level {level}" if level is not None else ""
        under = f" under {parent_code}" if parent_code else ""
        raise SignError(f"no grids at {what or 'any level'}{under}")
    staff = current_staff(connection, [g.id for g in chosen], on=on)
    levels: dict[int, list[Grid]] = {}
    for g in grids:
        levels.setdefault(g.level, []).append(g)
    trees = {lvl: shapely.STRtree([g.boundary for g in gs]) for lvl, gs in levels.items()}

    def top(grid: Grid) -> Grid:
        while grid.parent_id in by_id:
            grid = by_id[grid.parent_id]
        return grid

    signs = []
    for grid in sorted(chosen, key=lambda g: g.code):
        extent = sign_extent(grid.boundary, margin=NEIGHBOUR_MARGIN)
        near = [levels[grid.level][i] for i in trees[grid.level].query(shapely.box(*extent)).tolist()]
        signs.append(build_sign(grid, staff=staff.get(grid.id, []), parent=by_id.get(grid.parent_id),
                                district=top(grid).name, same_level=near, aspect=aspect))
    return signs
