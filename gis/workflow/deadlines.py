"""Deadlines (限时办结), the work calendar, overdue cases and reminders (限时督办).

A rule gives a source (and optionally a category) either calendar hours or working days.
Working days follow ``work_calendar``: Monday–Friday unless the table says otherwise
(public holidays off, 调休 weekend days on). Migration 0002 seeds the 2026 calendar; later
years need their rows added with :func:`set_calendar_days` when the State Council publishes them.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Connection, and_, func, or_, select

from gis.domain import OPEN_STATES, CaseAction, CaseSource, CaseState, Person, Role
from gis.storage.schema import case_categories, case_events, cases, deadline_rules, grids, work_calendar
from gis.workflow.transitions import WorkflowError

# Used when the table has no rule for a source (a workspace whose rules were deleted).
DEFAULT_HOURS = {CaseSource.ALARM: 24, CaseSource.COMPLAINT: 72, CaseSource.PATROL: 168, CaseSource.ASSIGNED: 120}
SEAT = "指挥中心"  # who holds a case that is waiting to be (re)dispatched


@dataclass(frozen=True, slots=True)
class DeadlineRule:
    source: str
    category_id: int | None
    hours: int | None = None
    workdays: int | None = None

    def describe(self) -> str:
        return f"{self.hours} 小时" if self.hours is not None else f"{self.workdays} 个工作日"


class WorkCalendar:
    """Which days are working days: weekdays, corrected by explicit entries."""

    def __init__(self, overrides: Mapping[date, bool] | None = None):
        self.overrides = dict(overrides or {})

    def is_workday(self, day: date) -> bool:
        return self.overrides.get(day, day.weekday() < 5)

    def add_workdays(self, start: datetime, workdays: int) -> datetime:
        """``start`` plus ``workdays`` × 24 h of working-day time: the clock stops on days off.

        A case registered on Friday 15:00 with 2 working days is due on Tuesday 15:00; one
        registered on Saturday is due at the end of the ``workdays``-th working day after it.
        """
        remaining = timedelta(days=workdays)
        t = start
        for _ in range(3660):  # ten years of days off in a row means a broken calendar
            next_day = datetime.combine(t.date() + timedelta(days=1), time())
            if self.is_workday(t.date()):
                if remaining <= next_day - t:
                    return t + remaining
                remaining -= next_day - t
            t = next_day
        raise WorkflowError(f"工作日历从 {start:%Y-%m-%d} 起十年内没有足够的工作日")


def load_calendar(connection: Connection) -> WorkCalendar:
    return WorkCalendar(dict(connection.execute(select(work_calendar.c.day, work_calendar.c.is_workday)).all()))


def set_calendar_days(connection: Connection, days: Iterable[tuple[date, bool, str]]) -> None:
    """Add or correct calendar entries: ``(day, is_workday, name)``."""
    for day, is_workday, name in days:
        exists = connection.execute(select(work_calendar.c.day).where(work_calendar.c.day == day)).first()
        values = {"is_workday": bool(is_workday), "name": name}
        if exists:
            connection.execute(work_calendar.update().where(work_calendar.c.day == day).values(**values))
        else:
            connection.execute(work_calendar.insert().values(day=day, **values))


def read_deadline_rules(connection: Connection) -> list[DeadlineRule]:
    T = deadline_rules
    query = select(T.c.source, T.c.category_id, T.c.hours, T.c.workdays).order_by(T.c.source, T.c.category_id)
    return [DeadlineRule(*row) for row in connection.execute(query)]


def set_deadline_rule(connection: Connection, source: str, category_id: int | None = None, *,
                      hours: int | None = None, workdays: int | None = None) -> None:
    """Create or replace the rule for ``source`` (and ``category_id``; None = the source's default)."""
    if (hours is None) == (workdays is None):
        raise WorkflowError("期限规则需要且只能指定小时数或工作日数之一")
    if (hours or workdays) <= 0:
        raise WorkflowError("期限必须大于零")
    T = deadline_rules
    where = and_(T.c.source == str(source),
                 T.c.category_id.is_(None) if category_id is None else T.c.category_id == category_id)
    values = {"hours": hours, "workdays": workdays}
    if connection.execute(select(T.c.id).where(where)).first():
        connection.execute(T.update().where(where).values(**values))
    else:
        connection.execute(T.insert().values(source=str(source), category_id=category_id, **values))


def rule_for_case(connection: Connection, source: str, category_id: int | None) -> DeadlineRule:
    """The category's own rule if there is one, else the source's, else the built-in default."""
    T = deadline_rules
    rows = connection.execute(
        select(T.c.source, T.c.category_id, T.c.hours, T.c.workdays)
        .where(T.c.source == str(source), or_(T.c.category_id.is_(None), T.c.category_id == category_id))
    ).all()
    rows.sort(key=lambda r: r.category_id is None)
    if rows:
        return DeadlineRule(*rows[0])
    return DeadlineRule(str(source), None, hours=DEFAULT_HOURS.get(str(source), 72))


def compute_deadline(rule: DeadlineRule, start: datetime, calendar: WorkCalendar) -> datetime:
    if rule.hours is not None:
        return start + timedelta(hours=rule.hours)
    return calendar.add_workdays(start, rule.workdays)


def deadline_for(connection: Connection, source: str, category_id: int | None, start: datetime,
                 calendar: WorkCalendar | None = None) -> datetime:
    rule = rule_for_case(connection, source, category_id)
    if rule.workdays is not None and calendar is None:
        calendar = load_calendar(connection)
    return compute_deadline(rule, start, calendar or WorkCalendar())


def time_left(case, now: datetime) -> timedelta | None:
    """Time until ``case.due_at`` (negative once overdue); None without a deadline or once finished.

    ``case`` is anything with ``due_at`` and ``state`` (CaseSummary, CaseDetail).
    """
    if case.due_at is None or case.state not in OPEN_STATES:
        return None
    return case.due_at - now


def describe_time_left(left: timedelta | None) -> str:
    """``剩余 1天3小时`` / ``超期 5小时`` / ``—``, as the case table and the CLI show it."""
    if left is None:
        return "—"
    seconds = abs(left.total_seconds())
    days, hours, minutes = int(seconds // 86400), int(seconds % 86400 // 3600), int(seconds % 3600 // 60)
    text = (f"{days}天{hours}小时" if days else f"{hours}小时{minutes}分" if hours else f"{minutes}分")
    return ("剩余 " if left.total_seconds() >= 0 else "超期 ") + text


@dataclass(slots=True)
class OverdueCase:
    id: int
    number: str
    source: str
    category: str
    state: str
    grid_id: int | None
    grid_name: str
    department: str | None
    created_at: datetime
    due_at: datetime
    overdue_by: timedelta
    holder: str  # who has to act: a grid leader, a department, or the command center
    leader: Person | None = None
    leader_role: Role | None = None
    last_reminded_at: datetime | None = None


def responsible_leader(staff: list[tuple[Role, Person]], level: int) -> tuple[Role, Person] | None:
    """The leader a reminder goes to: at level 3 the 第一网格长 (seed 001: 负总责), else the 网格长."""
    preference = ([Role.FIRST_LEADER] if level == 3 else []) + [Role.LEADER, Role.DEPUTY, Role.FIRST_LEADER,
                                                                  Role.FULLTIME_STAFF, Role.STAFF]
    for role in preference:
        for held, person in staff:
            if held == role:
                return role, person
    return None


def overdue_cases(connection: Connection, now: datetime, *, viewer=None) -> list[OverdueCase]:
    """Open cases past their deadline, the most overdue first, with whom to remind.

    ``viewer``: a Session or User sees only the cases in its data scope (re-read, so a lock or a
    new scope counts at once); None or a plain name (trusted caller) sees all.
    """
    from gis.security.permissions import Permission, authorize, scope_filter
    from gis.storage.people import current_staff

    session = authorize(connection, viewer, Permission.READ)

    last_reminder = (select(case_events.c.case_id, func.max(case_events.c.at).label("at"))
                     .where(case_events.c.action == str(CaseAction.REMIND))
                     .group_by(case_events.c.case_id).subquery())
    query = (
        select(cases.c.id, cases.c.number, cases.c.source, case_categories.c.name.label("category"),
               cases.c.state, cases.c.grid_id, grids.c.name.label("grid_name"), grids.c.level,
               cases.c.department, cases.c.created_at, cases.c.due_at, last_reminder.c.at.label("reminded"))
        .join(case_categories, case_categories.c.id == cases.c.category_id)
        .outerjoin(grids, grids.c.id == cases.c.grid_id)
        .outerjoin(last_reminder, last_reminder.c.case_id == cases.c.id)
        .where(cases.c.state.in_(sorted(OPEN_STATES)), cases.c.due_at < now, scope_filter(session, cases.c.grid_id))
        .order_by(cases.c.due_at, cases.c.id)
    )
    rows = connection.execute(query).all()
    staff = current_staff(connection, {r.grid_id for r in rows if r.grid_id is not None}, on=now.date())
    result = []
    for r in rows:
        leader = None
        if r.state in (CaseState.PENDING, CaseState.RETURNED):
            holder = SEAT
        elif r.department:
            holder = r.department
        else:
            leader = responsible_leader(staff.get(r.grid_id, []), r.level) if r.grid_id else None
            holder = f"{r.grid_name or ''} {leader[0]} {leader[1].name}".strip() if leader else (r.grid_name or SEAT)
        result.append(OverdueCase(
            r.id, r.number, r.source, r.category, r.state, r.grid_id, r.grid_name or "", r.department,
            r.created_at, r.due_at, now - r.due_at, holder, leader[1] if leader else None,
            leader[0] if leader else None, r.reminded))
    return result


def remind(connection: Connection, case, actor: str, now: datetime | None = None, *, note: str = "",
           overdue: OverdueCase | None = None):
    """Record a 督办 on ``case`` (id or number) naming the responsible leader and phone.

    Returns the :class:`gis.workflow.cases.ActionResult` of the event.
    """
    from gis.workflow.cases import apply_action, case_id_of

    now = now or datetime.now()
    if overdue is None:
        case_id = case_id_of(connection, case)
        overdue = next((o for o in overdue_cases(connection, now) if o.id == case_id), None)
    if overdue is None:
        return apply_action(connection, case, CaseAction.REMIND, actor, note=note or "督办：请按期办结", now=now)
    hours = overdue.overdue_by.total_seconds() / 3600
    payload = {"holder": overdue.holder, "due_at": overdue.due_at.isoformat(timespec="minutes"),
               "overdue_hours": round(hours, 1)}
    who = overdue.holder
    if overdue.leader is not None:
        payload.update(leader=overdue.leader.name, phone=overdue.leader.phone, role=str(overdue.leader_role),
                       grid_id=overdue.grid_id)
        who = f"{overdue.grid_name}{overdue.leader_role} {overdue.leader.name}（{overdue.leader.phone}）"
    text = note or f"督办：案件已超期 {describe_time_left(overdue.due_at - now).removeprefix('超期 ')}，请{who}尽快办结"
    return apply_action(connection, overdue.id, CaseAction.REMIND, actor, note=text, payload=payload, now=now)


def remind_overdue(connection: Connection, actor: str, now: datetime, *,
                   every: timedelta = timedelta(hours=24)) -> list:
    """督办 every overdue case not reminded within ``every``; returns the action results. A scoped
    ``actor`` (Session) reminds the overdue cases of its scope only."""
    results = []
    for overdue in overdue_cases(connection, now, viewer=actor):
        if overdue.last_reminded_at is None or now - overdue.last_reminded_at >= every:
            results.append(remind(connection, overdue.id, actor, now, overdue=overdue))
    return results
