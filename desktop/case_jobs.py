"""The database work behind the case dialogs, as plain functions run in the DB pool.

Each one opens its own connection from ``store.engine`` and is one transaction: a write
either happens completely (case, events and photos) or not at all. No Qt here, so the
dialogs stay views and these can be tested and timed on their own.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import or_, select

from gis.domain import CaseAction, Person, Role
from gis.storage.schema import case_categories, cases, grids
from gis.storage.store import Store
from gis.workflow import (ActionResult, CaseDetail, DuplicateSuggestion, GridIndex, NewAttachment, NewCase,
                          ReporterStep, apply_action, create_case, read_attachment, read_case_detail,
                          reporter_trail, suggest_duplicates)
from gis.workflow.transitions import GridRef

OTHER_CATEGORY = "其他"
RECENT_DAYS = 90  # departments offered for 转办: the common ones plus those used this quarter
# Departments a command center commonly hands cases to (转办); the ones already used in the
# workspace are added to these.
COMMON_DEPARTMENTS = ("生态环境执法大队", "住房和城乡建设局", "城市管理局", "水务局", "农业农村局", "自然资源局",
                      "交通运输局", "公安局交警大队", "市场监督管理局", "应急管理局")


# -- intake ---------------------------------------------------------------------------------
@dataclass(slots=True)
class IntakeChoices:
    categories: list[tuple[int, str]]            # (id, name), 其他 last
    sources: list                                 # PollutionSource
    source_categories: dict[int, str] = field(default_factory=dict)


def load_intake_choices(store: Store) -> IntakeChoices:
    from gis.storage.sources import read_source_categories, read_sources

    T = case_categories
    with store.engine.connect() as connection:
        rows = connection.execute(select(T.c.id, T.c.name).where(T.c.active.is_(True))
                                  .order_by(T.c.sort_order, T.c.id)).all()
        sources = read_sources(connection)
        source_categories = {cid: name for cid, _code, name in read_source_categories(connection)}
    categories = [(r.id, r.name) for r in rows if r.name != OTHER_CATEGORY]
    categories += [(r.id, r.name) for r in rows if r.name == OTHER_CATEGORY]
    return IntakeChoices(categories, sorted(sources, key=lambda s: s.name), source_categories)


@dataclass(slots=True)
class RouteDetails:
    staff: dict[int, list[tuple[Role, Person]]]
    duplicates: list[DuplicateSuggestion]


def load_route_details(store: Store, grid_ids: Sequence[int], category_id: int | None, lon: float, lat: float,
                       now: datetime | None = None) -> RouteDetails:
    """Who answers for each candidate grid, and open cases nearby of the same category."""
    from gis.storage.people import current_staff

    now = now or datetime.now()
    with store.engine.connect() as connection:
        staff = current_staff(connection, list(grid_ids), on=now.date()) if grid_ids else {}
        duplicates = [] if category_id is None else suggest_duplicates(
            connection, lon=lon, lat=lat, category_id=category_id, now=now)
    return RouteDetails({gid: staff.get(gid, []) for gid in grid_ids}, duplicates)


@dataclass(frozen=True, slots=True)
class IntakeRequest:
    """What the form holds when the seat clicks 登记: values only, no widgets."""

    source: str
    category_id: int
    description: str
    reporter_name: str = ""
    reporter_phone: str = ""
    address: str = ""
    lon: float | None = None
    lat: float | None = None
    grid_id: int | None = None        # set when the seat chose among grids near a border
    pollution_source_id: int | None = None
    photos: tuple[Path, ...] = ()
    dispatch: bool = False
    duplicate_of: int | None = None   # merge into this case instead of dispatching
    dispatch_payload: dict = field(default_factory=dict)


@dataclass(slots=True)
class IntakeResult:
    case: NewCase
    action: ActionResult | None
    seconds: float = 0.0


def register_case(store: Store, request: IntakeRequest, actor: str, index: GridIndex | None) -> IntakeResult:
    """登记 (and 派发, or 重复) in one transaction; photos are read before it starts.

    Raises
    ------
    OSError
        A photo could not be read (nothing was written).
    gis.workflow.WorkflowError
        The workflow refused (nothing was written); the message is for the user.
    """
    import time

    files = [NewAttachment.from_path(path) for path in request.photos]
    started = time.perf_counter()
    with store.engine.begin() as connection:
        new = create_case(connection, source=request.source, category=request.category_id,
                          description=request.description, actor=actor, lon=request.lon, lat=request.lat,
                          address=request.address, reporter_name=request.reporter_name,
                          reporter_phone=request.reporter_phone, grid_id=request.grid_id,
                          index=index if request.grid_id is None else None, attachments=files,
                          pollution_source_id=request.pollution_source_id)
        action = None
        if request.duplicate_of is not None:
            action = apply_action(connection, new.id, CaseAction.DUPLICATE, actor, duplicate_of=request.duplicate_of)
        elif request.dispatch:
            action = apply_action(connection, new.id, CaseAction.DISPATCH, actor,
                                  payload=request.dispatch_payload or None)
    return IntakeResult(new, action, time.perf_counter() - started)


# -- detail ---------------------------------------------------------------------------------
@dataclass(slots=True)
class CaseBundle:
    """Everything the detail dialog shows and its action forms offer."""

    detail: CaseDetail
    trail: list[ReporterStep]
    grids: list[GridRef]                      # for 派发: every grid of levels 1–5, by level and code
    grid_codes: dict[int, str]
    departments: list[str]
    duplicates: list[DuplicateSuggestion]     # earlier open cases nearby, for 重复
    loaded_at: datetime


def load_case_bundle(store: Store, case: int | str, now: datetime | None = None, *, viewer=None) -> CaseBundle:
    """``viewer``: the logged-in Session (a case outside its data scope: PermissionDenied), or None."""
    now = now or datetime.now()
    with store.engine.connect() as connection:
        detail = read_case_detail(connection, case, now, viewer=viewer)
        trail = reporter_trail(connection, detail.id, viewer=viewer)
        current = or_(grids.c.valid_to.is_(None), grids.c.valid_to >= now.date())
        rows = connection.execute(select(grids.c.id, grids.c.name, grids.c.level, grids.c.parent_id, grids.c.code)
                                  .where(current).order_by(grids.c.level, grids.c.code)).all()
        # Departments used lately (the created_at index keeps this cheap with a million cases).
        used = connection.execute(select(cases.c.department).where(
            cases.c.created_at >= now - timedelta(days=RECENT_DAYS), cases.c.department.is_not(None))
            .distinct().limit(200)).scalars().all()
        duplicates = []
        if detail.lon is not None:
            nearby = suggest_duplicates(connection, lon=detail.lon, lat=detail.lat, category_id=detail.category_id,
                                        now=now, days=90, exclude_case_id=detail.id)
            duplicates = [d for d in nearby if d.created_at <= detail.created_at]
    departments = list(dict.fromkeys([*used, *COMMON_DEPARTMENTS]))
    return CaseBundle(detail, trail, [GridRef(r.id, r.name, r.level, r.parent_id) for r in rows],
                      {r.id: r.code for r in rows}, departments, duplicates, now)


@dataclass(frozen=True, slots=True)
class ActionRequest:
    action: str
    note: str = ""
    reason: str = ""
    grid_id: int | None = None
    department: str | None = None
    duplicate_of: int | str | None = None
    photos: tuple[Path, ...] = ()


def perform_action(store: Store, case_id: int, request: ActionRequest, actor: str,
                   expected_version: int) -> ActionResult:
    """One action as one transaction; ``expected_version`` is what the seat was looking at.

    Raises ConflictError when another seat changed the case meanwhile.
    """
    files = [NewAttachment.from_path(path) for path in request.photos]
    with store.engine.begin() as connection:
        if request.action == CaseAction.REMIND and not files:
            from gis.workflow.deadlines import remind

            return remind(connection, case_id, actor, note=request.note.strip())
        return apply_action(connection, case_id, request.action, actor, note=request.note, reason=request.reason,
                            grid_id=request.grid_id, department=request.department,
                            duplicate_of=request.duplicate_of, attachments=files,
                            expected_version=expected_version)


def load_attachment(store: Store, attachment_id: int) -> tuple[str, str, bytes]:
    """(filename, mime, bytes), checked against the stored SHA-256 (AttachmentCorrupt otherwise)."""
    with store.engine.connect() as connection:
        info, data = read_attachment(connection, attachment_id)
    return info.filename, info.mime, data
