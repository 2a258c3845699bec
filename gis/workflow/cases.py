"""Registering cases and moving them through the state machine, one event per step.

Every function takes a Connection and leaves the transaction to the caller, so a case row
update and its event commit or roll back together. The row carries a version: a transition
updates ``WHERE id = ? AND version = ?`` and raises :class:`ConflictError` when another seat
got there first. The actor is a logged-in Session (or User): its role and data scope are checked
(gis.security.permissions) and every change is audited in the same transaction; a plain string
is a trusted system caller (CLI without accounts, receiver), audited under that name.

An event's ``grid_id`` is the grid responsible *after* the step (for 上报上级: the parent); the
grid it came from is in ``payload["from_grid_id"]``.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import shapely
from sqlalchemy import Connection, func, select
from sqlalchemy.exc import IntegrityError

from gis.domain import CaseAction, CaseSource, CaseState, Grid, Person, Role
from gis.security.audit import audited
from gis.security.permissions import Permission, authorize, require_in_scope
from gis.storage.schema import case_categories, case_events, cases, grids
from gis.workflow.attachments import (AttachmentInfo, NewAttachment, check_attachments, insert_attachments,
                                      read_attachment_infos)
from gis.workflow.deadlines import deadline_for
from gis.workflow.duplicates import DuplicateSuggestion, suggest_duplicates
from gis.workflow.routing import GridIndex, RouteResult
from gis.workflow.transitions import (CaseRef, GridRef, Move, MissingInput, Request, WorkflowError,
                                      check_request, escalation_target, rule_for)

NUMBER_PREFIX = "AJ"
NUMBER_ATTEMPTS = 20
SOURCE_ALIASES = {
    "巡查": CaseSource.PATROL, "巡查发现": CaseSource.PATROL, "patrol": CaseSource.PATROL,
    "举报": CaseSource.COMPLAINT, "12369": CaseSource.COMPLAINT, "信访": CaseSource.COMPLAINT,
    "complaint": CaseSource.COMPLAINT, "报警": CaseSource.ALARM, "alarm": CaseSource.ALARM,
    "交办": CaseSource.ASSIGNED, "督察": CaseSource.ASSIGNED, "上级督察": CaseSource.ASSIGNED,
    "assigned": CaseSource.ASSIGNED,
}
NO_STATE_CHANGE = frozenset({CaseAction.NOTE, CaseAction.FEEDBACK, CaseAction.REMIND})
ACTION_ALIASES = {action.name.lower(): action for action in CaseAction}


class CaseNotFound(WorkflowError):
    pass


class ConflictError(WorkflowError):
    """Someone changed the case since it was read (optimistic lock)."""

    def __init__(self, number: str, expected: int, actual: int | None):
        now = "已不存在" if actual is None else f"当前版本 {actual}"
        super().__init__(f"案件 {number} 已被他人修改：预期版本 {expected}，{now}；请刷新后重试")
        self.number, self.expected, self.actual = number, expected, actual


@dataclass(slots=True)
class NewCase:
    id: int
    number: str
    grid: Grid | None
    due_at: datetime
    event_id: int
    route: RouteResult | None = None
    duplicates: list[DuplicateSuggestion] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ActionResult:
    case_id: int
    number: str
    action: str
    event_id: int
    from_state: str
    to_state: str
    version: int
    grid_id: int | None
    department: str | None
    attachment_ids: tuple[int, ...] = ()


@dataclass(slots=True)
class CaseEvent:
    id: int
    at: datetime
    actor: str
    action: str
    from_state: str | None
    to_state: str | None
    grid_id: int | None
    grid_name: str
    note: str
    internal: bool
    payload: dict
    attachments: list[AttachmentInfo] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ReporterStep:
    """What a reporter may be told: no names of staff, no internal notes."""

    at: datetime
    action: str
    state: str
    text: str


@dataclass(slots=True)
class CaseDetail:
    id: int
    number: str
    source: str
    category: str
    category_id: int
    description: str
    lon: float | None
    lat: float | None
    address: str
    grid: GridRef | None
    grid_code: str
    department: str | None
    state: str
    reporter_name: str
    reporter_phone: str
    duplicate_of: str | None
    created_at: datetime
    due_at: datetime | None
    closed_at: datetime | None
    version: int
    events: list[CaseEvent]
    attachments: list[AttachmentInfo]
    staff: list[tuple[Role, Person]]


def parse_source(text: str) -> CaseSource:
    try:
        return CaseSource(text)
    except ValueError:
        pass
    source = SOURCE_ALIASES.get(str(text).strip().lower())
    if source is None:
        raise MissingInput(f"未知的案件来源「{text}」；可选：{'、'.join(CaseSource)}")
    return source


def parse_action(text: str) -> CaseAction:
    try:
        return CaseAction(text)
    except ValueError:
        pass
    action = ACTION_ALIASES.get(str(text).strip().lower().replace("-", "_"))
    if action is None:
        raise MissingInput(f"未知的操作「{text}」；可选：{'、'.join(CaseAction)}")
    return action


def resolve_category(connection: Connection, category: str | int | None) -> tuple[int, str]:
    """(id, name) of a category given by id, code or name; empty means 其他."""
    T = case_categories
    rows = connection.execute(select(T.c.id, T.c.code, T.c.name, T.c.active).order_by(T.c.sort_order)).all()
    wanted = "其他" if category in (None, "") else category
    for row in rows:
        if wanted in (row.id, row.code, row.name):
            return row.id, row.name
    names = "、".join(r.name for r in rows if r.active) or "（类别表为空）"
    raise MissingInput(f"未知的案件类别「{category}」；可选：{names}")


def case_id_of(connection: Connection, case: int | str) -> int:
    return _load(connection, case).id


def _load(connection: Connection, case: int | str):
    key = cases.c.number == case if isinstance(case, str) else cases.c.id == case
    row = connection.execute(
        select(cases.c.id, cases.c.number, cases.c.state, cases.c.grid_id, cases.c.department, cases.c.version,
               cases.c.created_at, cases.c.source, cases.c.category_id).where(key)
    ).first()
    if row is None:
        raise CaseNotFound(f"案件 {case} 不存在")
    return row


def _grid_ref(connection: Connection, grid_id: int | None) -> GridRef | None:
    if grid_id is None:
        return None
    row = connection.execute(select(grids.c.id, grids.c.name, grids.c.level, grids.c.parent_id)
                             .where(grids.c.id == grid_id)).first()
    return GridRef(*row) if row else None


_GRID_FIELDS = ("id", "code", "name", "level", "parent_id", "boundary", "area_m2", "east", "south", "west",
                "north", "duties", "valid_from", "valid_to", "version")


def _read_grid(connection: Connection, grid_id: int | None) -> Grid | None:
    if grid_id is None:
        return None
    row = connection.execute(select(*(grids.c[f] for f in _GRID_FIELDS)).where(grids.c.id == grid_id)).first()
    return Grid(**row._mapping) if row else None


def _savepoint(connection: Connection):
    """A SAVEPOINT that really nests.

    The store keeps pysqlite's default (deferred) transactions on purpose: a SELECT before
    the first write then sees the latest commit, as PostgreSQL's READ COMMITTED does, so a
    stale version is caught by the ``WHERE version = ?`` check rather than by SQLite
    refusing to upgrade an old read snapshot. The price: pysqlite emits no BEGIN before a
    SAVEPOINT, and a SAVEPOINT outside a transaction would commit on RELEASE.
    """
    if connection.dialect.name == "sqlite" and not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN")
    return connection.begin_nested()


def _next_number(connection: Connection, at: datetime, floor: int) -> tuple[str, int]:
    prefix = f"{NUMBER_PREFIX}{at:%Y%m%d}"
    # A range on the unique index, not LIKE (which neither SQLite, case-insensitive, nor PostgreSQL,
    # non-C collation, can serve from an index): only the day's entries are read. Digit-only bounds
    # compare the same under any collation; length first, since AJ…1000 sorts before AJ…999.
    numbers = connection.execute(
        select(cases.c.number).where(cases.c.number >= prefix + "000", cases.c.number <= prefix + "9" * 9)
        .order_by(func.length(cases.c.number).desc(), cases.c.number.desc()).limit(1)).scalars().all()
    tail = numbers[0][len(prefix):] if numbers else ""
    n = max(floor, int(tail) + 1 if tail.isdigit() else 1)
    return f"{prefix}{n:03d}", n


def _insert_with_number(connection: Connection, row: dict, at: datetime) -> tuple[int, str]:
    """Insert the case under the next free ``AJyyyymmddNNN``; a number taken meanwhile by another
    seat (unique constraint) is retried with the next one."""
    floor = 1
    for _ in range(NUMBER_ATTEMPTS):
        number, n = _next_number(connection, at, floor)
        try:
            with _savepoint(connection):
                case_id = connection.execute(
                    cases.insert().values(number=number, **row).returning(cases.c.id)).scalar_one()
            return case_id, number
        except IntegrityError:
            taken = connection.execute(select(cases.c.id).where(cases.c.number == number)).first()
            if taken is None:
                raise  # some other constraint: not ours to retry
            floor = n + 1
    raise WorkflowError(f"连续 {NUMBER_ATTEMPTS} 次未能分配案件编号（{at:%Y-%m-%d}），请重试")


def _insert_event(connection: Connection, case_id: int, at: datetime, actor: str, action: str,
                  from_state: str | None, to_state: str | None, grid_id: int | None, note: str,
                  internal: bool, payload: dict | None) -> int:
    return connection.execute(case_events.insert().values(
        case_id=case_id, at=at, actor=actor, action=str(action), from_state=from_state and str(from_state),
        to_state=to_state and str(to_state), grid_id=grid_id, note=note, internal=internal,
        payload=payload or None).returning(case_events.c.id)).scalar_one()


def _check_actor(actor: str) -> str:
    if not isinstance(actor, str) or not actor.strip():
        raise MissingInput("需要填写操作人")
    return actor.strip()[:100]


def create_case(connection: Connection, *, source: str, category: str | int | None, description: str,
                actor: str, lon: float | None = None, lat: float | None = None, address: str = "",
                reporter_name: str = "", reporter_phone: str = "", grid_id: int | None = None,
                index: GridIndex | None = None, border_m: float | None = None,
                attachments: Sequence[NewAttachment] = (), pollution_source_id: int | None = None,
                duplicate_radius_m: float | None = None, duplicate_days: int | None = None,
                now: datetime | None = None) -> NewCase:
    """Register a case (待受理): number, routing, deadline, the 登记 event and its photos.

    Without ``grid_id`` the point is routed with ``index`` (built from the workspace if not given).
    The result carries the routing (with alternatives near a border) and the open cases nearby
    that may be the same problem, for the seat to confirm.

    Raises
    ------
    MissingInput
        Unknown source or category, no description or actor, half a coordinate, unknown grid.
    """
    now = now or datetime.now()
    session = authorize(connection, actor, Permission.CASES_WRITE)  # None: a plain-string system caller
    actor = _check_actor(session.actor_name if session else actor)
    source = parse_source(source)
    category_id, _ = resolve_category(connection, category)
    if not description or not description.strip():
        raise MissingInput("需要填写问题描述")
    if (lon is None) != (lat is None):
        raise MissingInput("经度和纬度需要同时提供")
    if lon is not None and not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise MissingInput(f"坐标超出范围：经度 {lon}，纬度 {lat}")
    check_attachments(attachments)

    route = None
    if grid_id is not None:
        if _grid_ref(connection, grid_id) is None:
            raise MissingInput(f"网格 {grid_id} 不存在")
    elif lon is not None:
        index = index or GridIndex.from_connection(connection)
        route = index.locate(lon, lat, border_m)
        grid_id = route.grid.id if route.grid else None
    if session is not None:
        require_in_scope(session, grid_id, Permission.CASES_WRITE, connection=connection)
    due_at = deadline_for(connection, source, category_id, now)
    row = {"source": str(source), "category_id": category_id, "description": description.strip(),
           "location": shapely.Point(lon, lat) if lon is not None else None, "lon": lon, "lat": lat,
           "address": address, "grid_id": grid_id, "department": None, "pollution_source_id": pollution_source_id,
           "state": str(CaseState.PENDING), "reporter_name": reporter_name, "reporter_phone": reporter_phone,
           "duplicate_of": None, "created_at": now, "due_at": due_at, "closed_at": None, "version": 1}
    case_id, number = _insert_with_number(connection, row, now)
    payload = {"source": str(source)}
    if route is not None:
        payload["distance_to_border_m"] = (None if route.distance_to_border_m is None
                                           else round(route.distance_to_border_m, 1))
        if route.candidates_near_border:
            payload["candidates"] = [g.id for g in route.candidates_near_border]
    event_id = _insert_event(connection, case_id, now, actor, CaseAction.REGISTER, None, CaseState.PENDING,
                             grid_id, description.strip(), False, payload)
    insert_attachments(connection, case_id, event_id, attachments, now)
    audited(connection, session or actor, "case.create", "cases", case_id, None,
            {**{k: v for k, v in row.items() if k != "location"}, "number": number}, now=now)
    duplicates = []
    if lon is not None:
        options = {k: v for k, v in (("radius_m", duplicate_radius_m), ("days", duplicate_days)) if v is not None}
        duplicates = suggest_duplicates(connection, lon=lon, lat=lat, category_id=category_id, now=now,
                                        exclude_case_id=case_id, **options)
    grid = route.grid if route is not None else _read_grid(connection, grid_id)
    return NewCase(case_id, number, grid, due_at, event_id, route, duplicates)


def apply_action(connection: Connection, case: int | str, action: str, actor: str, *, note: str = "",
                 reason: str = "", grid_id: int | None = None, department: str | None = None,
                 duplicate_of: int | str | None = None, attachments: Sequence[NewAttachment] = (),
                 internal: bool | None = None, due_at: datetime | None = None, payload: dict | None = None,
                 expected_version: int | None = None, now: datetime | None = None) -> ActionResult:
    """Apply ``action`` to ``case`` (id or number) and record it as one event.

    ``grid_id``/``department`` name where 派发 sends the case (default: its current grid) or the
    department of 转办; ``duplicate_of`` (id or number) the earlier case of a 重复; ``reason`` is
    required for 退回, 误报 and 复查不通过, ``note`` for 整改完成, 备注 and 反馈. ``expected_version``
    is the version the user saw; without it the version read here is the one checked.

    Raises
    ------
    InvalidTransition
        The action is not allowed in the case's state.
    MissingInput
        Something the action needs is missing (the message says what).
    ConflictError
        The case changed since ``expected_version`` (or concurrently).
    CaseNotFound
    """
    now = now or datetime.now()
    session = authorize(connection, actor, Permission.CASES_WRITE)  # None: a plain-string system caller
    actor = _check_actor(session.actor_name if session else actor)
    action = parse_action(action)
    row = _load(connection, case)
    if session is not None:
        require_in_scope(session, row.grid_id, Permission.CASES_WRITE, connection=connection)
    if expected_version is not None and expected_version != row.version and action not in NO_STATE_CHANGE:
        # A stale screen: say so, rather than that the action does not fit a state the user never saw.
        raise ConflictError(row.number, expected_version, row.version)
    rule = rule_for(row.state, action, row.number)
    changes_state = rule.to_state is not None
    department = (department or "").strip() or None
    if rule.move in (Move.KEEP, Move.PARENT, Move.BACK) and (grid_id is not None or department):
        raise MissingInput(f"「{action}」不需要指定网格或部门")
    if rule.move is Move.DEPARTMENT and grid_id is not None:
        raise MissingInput(f"「{action}」只能指定部门，不能指定网格")
    if rule.move is Move.DESTINATION:
        if grid_id is not None and department:
            raise MissingInput(f"「{action}」只能派发给一个网格或一个部门，不能同时指定")
        if grid_id is None and not department:
            grid_id = row.grid_id  # the grid the case was routed to
    original = None
    if duplicate_of is not None:
        if action is not CaseAction.DUPLICATE:
            raise MissingInput(f"「{action}」不需要指定重复的原案件")
        other = _load(connection, duplicate_of)
        original = CaseRef(other.id, other.number, other.created_at)
    check_request(rule, action, Request(note, reason, grid_id, department, original),
                  CaseRef(row.id, row.number, row.created_at))
    check_attachments(attachments)

    new_grid, new_department = row.grid_id, row.department
    if rule.move is Move.DESTINATION:
        if grid_id is not None:
            if _grid_ref(connection, grid_id) is None:
                raise MissingInput(f"网格 {grid_id} 不存在")
            if session is not None:  # 派发 only inside the scope (上报上级 may leave it: that is its point)
                require_in_scope(session, grid_id, Permission.CASES_WRITE, connection=connection)
            new_grid, new_department = grid_id, None
        else:
            new_department = department
    elif rule.move is Move.DEPARTMENT:
        new_department = department
    elif rule.move is Move.PARENT:
        target, new_department = escalation_target(_grid_ref(connection, row.grid_id), row.department,
                                                   lambda gid: _grid_ref(connection, gid))
        new_grid = target.id if target else None
    elif rule.move is Move.BACK:
        new_department = None

    event_payload = dict(payload or {})
    if reason.strip():
        event_payload["reason"] = reason.strip()
    if new_department != row.department:
        event_payload["department"] = new_department
    if new_grid != row.grid_id:
        event_payload["from_grid_id"] = row.grid_id
    if original is not None:
        event_payload["duplicate_of"] = original.number
    if due_at is not None:
        event_payload["due_at"] = due_at.isoformat(timespec="minutes")

    version = row.version
    to_state = rule.to_state or row.state
    if changes_state:
        values = {"state": str(to_state), "grid_id": new_grid, "department": new_department,
                  "version": row.version + 1}
        if due_at is not None:
            values["due_at"] = due_at
        if to_state == CaseState.CLOSED:
            values["closed_at"] = now
        if original is not None:
            values["duplicate_of"] = original.id
        updated = connection.execute(
            cases.update().where(cases.c.id == row.id, cases.c.version == row.version).values(**values))
        if updated.rowcount != 1:
            actual = connection.execute(select(cases.c.version).where(cases.c.id == row.id)).scalar()
            raise ConflictError(row.number, row.version if expected_version is None else expected_version, actual)
        version += 1
    text = note.strip() or reason.strip()
    event_id = _insert_event(connection, row.id, now, actor, action, row.state, to_state, new_grid, text,
                             rule.internal if internal is None else bool(internal), event_payload)
    attachment_ids = insert_attachments(connection, row.id, event_id, attachments, now)
    audited(connection, session or actor, f"case.{action}", "cases", row.id,
            {"state": row.state, "grid_id": row.grid_id, "department": row.department, "version": row.version},
            {"state": str(to_state), "grid_id": new_grid, "department": new_department, "version": version,
             "event_id": event_id, "note": text}, now=now)
    return ActionResult(row.id, row.number, str(action), event_id, row.state, str(to_state), version, new_grid,
                        new_department, tuple(attachment_ids))


def add_note(connection: Connection, case: int | str, actor: str, text: str, *, internal: bool = True,
             attachments: Sequence[NewAttachment] = (), now: datetime | None = None) -> ActionResult:
    """An internal 备注 (``internal=True``) or a 反馈 the reporter is told (``internal=False``)."""
    action = CaseAction.NOTE if internal else CaseAction.FEEDBACK
    return apply_action(connection, case, action, actor, note=text, attachments=attachments, now=now)


def attach(connection: Connection, case: int | str, actor: str, files: Sequence[NewAttachment], *,
           note: str = "", now: datetime | None = None) -> ActionResult:
    """Add photos or documents to a case, recorded as an internal 备注 saying what was added."""
    if not files:
        raise MissingInput("没有要上传的附件")
    text = note.strip() or "上传附件：" + "、".join(f.filename for f in files)
    return apply_action(connection, case, CaseAction.NOTE, actor, note=text, attachments=files, now=now)


def read_events(connection: Connection, case_id: int) -> list[CaseEvent]:
    """The full history in the order it was written."""
    query = (select(case_events, grids.c.name.label("grid_name"))
             .outerjoin(grids, grids.c.id == case_events.c.grid_id)
             .where(case_events.c.case_id == case_id).order_by(case_events.c.id))
    events = [CaseEvent(r.id, r.at, r.actor, r.action, r.from_state, r.to_state, r.grid_id, r.grid_name or "",
                        r.note, bool(r.internal), r.payload or {}) for r in connection.execute(query)]
    return events


def _load_for(connection: Connection, case: int | str, viewer):
    """The case row if ``viewer`` may read it: a Session or User is re-read (active?) and held to
    its data scope; None or a plain name is a trusted caller (as for the writing services).

    Raises
    ------
    CaseNotFound, PermissionDenied (naming the user, the case and the scope)
    """
    row = _load(connection, case)
    session = authorize(connection, viewer, Permission.READ)
    if session is not None:
        require_in_scope(session, row.grid_id, Permission.READ, connection=connection, what=f"案件 {row.number}")
    return row


def read_case_detail(connection: Connection, case: int | str, on: datetime | None = None, *,
                     viewer=None) -> CaseDetail:
    """Everything about one case: the row, the full event history with attachments, the current
    grid's staff (on ``on``, default today). A ``viewer`` (Session) outside whose data scope the
    case lies gets PermissionDenied."""
    from gis.storage.people import current_staff

    case_id = _load_for(connection, case, viewer).id
    original = cases.alias("original")
    r = connection.execute(
        select(cases, case_categories.c.name.label("category"), grids.c.code.label("grid_code"),
               original.c.number.label("original_number"))
        .join(case_categories, case_categories.c.id == cases.c.category_id)
        .outerjoin(grids, grids.c.id == cases.c.grid_id)
        .outerjoin(original, original.c.id == cases.c.duplicate_of)
        .where(cases.c.id == case_id)).one()
    events = read_events(connection, case_id)
    files = read_attachment_infos(connection, case_id)
    by_event: dict[int | None, list[AttachmentInfo]] = {}
    for info in files:
        by_event.setdefault(info.event_id, []).append(info)
    for event in events:
        event.attachments = by_event.get(event.id, [])
    grid = _grid_ref(connection, r.grid_id)
    staff = []
    if grid is not None:
        staff = current_staff(connection, [grid.id], on=(on or datetime.now()).date()).get(grid.id, [])
    return CaseDetail(r.id, r.number, r.source, r.category, r.category_id, r.description, r.lon, r.lat, r.address,
                      grid, r.grid_code or "", r.department, r.state, r.reporter_name, r.reporter_phone,
                      r.original_number, r.created_at, r.due_at, r.closed_at, r.version, events, files, staff)


PUBLIC_TEXT = {
    CaseAction.REGISTER: "已受理您反映的问题",
    CaseAction.DISPATCH: "已派发至责任单位处理",
    CaseAction.ACCEPT: "工作人员已到场处置",
    CaseAction.RECTIFY: "已整改",
    CaseAction.CLOSE: "经复查合格，已办结",
    CaseAction.FALSE_REPORT: "经现场核实，未发现所反映的问题",
    CaseAction.DUPLICATE: "该问题已有他人反映，合并办理",
}


def reporter_trail(connection: Connection, case: int | str, *, viewer=None) -> list[ReporterStep]:
    """The steps a reporter (12369 caller) is told: non-internal events, without staff names.

    Only a 反馈 carries its own words; other steps are told in fixed phrases, so a note written
    for colleagues on a public step (派发 "请张三…") never reaches the reporter. ``viewer``: as for
    :func:`read_case_detail`.
    """
    steps = []
    for event in read_events(connection, _load_for(connection, case, viewer).id):
        if event.internal:
            continue
        text = event.note if event.action == CaseAction.FEEDBACK else PUBLIC_TEXT.get(event.action, event.action)
        steps.append(ReporterStep(event.at, event.action, event.to_state or "", text))
    return steps
