"""The case state machine as data: (state, action) → rule, plus the checks a rule asks for.

Pure: no database. ``gis.workflow.cases`` looks up what a check needs (the parent grid, the
duplicated case) and passes it in. The flow is seed 001 §四(二) 分级处置、逐级上报: a grid handles
what it can, escalates the rest one level up (5/4 → 3 → 2 → 1 → 市级), and the district
dispatches to departments; then 整改 → 复查 → 销号.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from gis.domain import OPEN_STATES, CaseAction, CaseState

S, A = CaseState, CaseAction
CITY_DEPARTMENT = "市级平台"  # above level 1 (seed 001: 向市级(市环保委办公室)上报)
TERMINAL_STATES = frozenset({S.CLOSED, S.FALSE_REPORT, S.DUPLICATE})


class WorkflowError(Exception):
    """A case action was refused; the message is meant for the user as it is."""


class InvalidTransition(WorkflowError):
    """The action is not allowed in the case's state."""

    def __init__(self, state: str, action: str, number: str | None = None):
        super().__init__(f"{state} 的案件不能执行「{action}」")
        self.state, self.action, self.number = state, action, number


class MissingInput(WorkflowError):
    """The action is allowed but something it needs (a reason, a note, a target…) is missing or wrong."""


class Need(Enum):
    REASON = "原因"
    NOTE = "说明"
    DESTINATION = "派发对象（网格或部门）"
    DEPARTMENT = "承办部门"
    DUPLICATE_OF = "重复的原案件"


class Move(Enum):
    """How the responsible grid/department changes."""

    KEEP = "keep"
    DESTINATION = "destination"  # to the grid or department named in the request
    DEPARTMENT = "department"  # to a department; the territorial grid stays for 属地 follow-up
    PARENT = "parent"  # one level up (escalation_target)
    BACK = "back"  # back to the command center: a department lets go, the territorial grid stays


@dataclass(frozen=True, slots=True)
class Rule:
    to_state: CaseState | None  # None: the state stays (notes, reminders)
    needs: frozenset[Need] = frozenset()
    move: Move = Move.KEEP
    internal: bool = False  # default visibility of the event; internal ones are not told to the reporter


def _rule(to_state, *needs: Need, move: Move = Move.KEEP, internal: bool = False) -> Rule:
    return Rule(to_state, frozenset(needs), move, internal)


_DISPATCH = _rule(S.DISPATCHED, Need.DESTINATION, move=Move.DESTINATION)
_TRANSFER = _rule(S.TRANSFERRED, Need.DEPARTMENT, move=Move.DEPARTMENT, internal=True)
_ESCALATE = _rule(S.ESCALATED, move=Move.PARENT, internal=True)
_FALSE = _rule(S.FALSE_REPORT, Need.REASON)
_DUPLICATE = _rule(S.DUPLICATE, Need.DUPLICATE_OF)
_RETURN = _rule(S.RETURNED, Need.REASON, move=Move.BACK, internal=True)
_ACCEPT = _rule(S.IN_PROGRESS)

TRANSITIONS: dict[tuple[CaseState, CaseAction], Rule] = {
    # The command center's seat decides what to do with a new or returned case.
    (S.PENDING, A.DISPATCH): _DISPATCH,
    (S.PENDING, A.TRANSFER): _TRANSFER,
    (S.PENDING, A.FALSE_REPORT): _FALSE,
    (S.PENDING, A.DUPLICATE): _DUPLICATE,
    (S.RETURNED, A.DISPATCH): _DISPATCH,
    (S.RETURNED, A.TRANSFER): _TRANSFER,
    (S.RETURNED, A.FALSE_REPORT): _FALSE,
    (S.RETURNED, A.DUPLICATE): _DUPLICATE,
    # The grid (or department) it was sent to: take it on, pass it down, escalate or send it back.
    (S.DISPATCHED, A.ACCEPT): _ACCEPT,
    (S.DISPATCHED, A.DISPATCH): _DISPATCH,
    (S.DISPATCHED, A.ESCALATE): _ESCALATE,
    (S.DISPATCHED, A.TRANSFER): _TRANSFER,
    (S.DISPATCHED, A.RETURN): _RETURN,
    (S.DISPATCHED, A.FALSE_REPORT): _FALSE,
    (S.DISPATCHED, A.DUPLICATE): _DUPLICATE,
    # The level above: handle it, hand it to a grid or department, or escalate again.
    (S.ESCALATED, A.ACCEPT): _ACCEPT,
    (S.ESCALATED, A.DISPATCH): _DISPATCH,
    (S.ESCALATED, A.ESCALATE): _ESCALATE,
    (S.ESCALATED, A.TRANSFER): _TRANSFER,
    # A department outside the grid system accepts or declines (not its duty).
    (S.TRANSFERRED, A.ACCEPT): _ACCEPT,
    (S.TRANSFERRED, A.RETURN): _RETURN,
    # On site.
    (S.IN_PROGRESS, A.RECTIFY): _rule(S.RECTIFIED, Need.NOTE),
    (S.IN_PROGRESS, A.ESCALATE): _ESCALATE,
    (S.IN_PROGRESS, A.TRANSFER): _TRANSFER,
    (S.IN_PROGRESS, A.FALSE_REPORT): _FALSE,
    (S.RECTIFIED, A.SUBMIT_RECHECK): _rule(S.RECHECK, internal=True),
    (S.RECHECK, A.RECHECK_FAIL): _rule(S.IN_PROGRESS, Need.REASON, internal=True),
    (S.RECHECK, A.CLOSE): _rule(S.CLOSED),
}
# Notes and feedback are welcome at any time (a reporter is often answered after 销号);
# reminders only while the case is open.
for _state in CaseState:
    TRANSITIONS[(_state, A.NOTE)] = _rule(None, Need.NOTE, internal=True)
    TRANSITIONS[(_state, A.FEEDBACK)] = _rule(None, Need.NOTE)
    if _state in OPEN_STATES:
        TRANSITIONS[(_state, A.REMIND)] = _rule(None, internal=True)
del _state


def rule_for(state: str, action: str, number: str | None = None) -> Rule:
    """The rule for ``action`` in ``state``.

    Raises
    ------
    InvalidTransition
        Not allowed (the message names the state and the action), or an unknown state or action.
    """
    try:
        key = (CaseState(state), CaseAction(action))
    except ValueError:
        raise InvalidTransition(state, action, number) from None
    rule = TRANSITIONS.get(key)
    if rule is None:
        raise InvalidTransition(state, action, number)
    return rule


def allowed_actions(state: str) -> list[CaseAction]:
    """Actions a user may pick in ``state``, in the order of :class:`CaseAction`."""
    return [action for action in CaseAction if (CaseState(state), action) in TRANSITIONS]


@dataclass(frozen=True, slots=True)
class CaseRef:
    """Enough of a case to check a 重复 claim against it."""

    id: int
    number: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Request:
    """What the user supplied with an action (after the defaults were filled in)."""

    note: str = ""
    reason: str = ""
    grid_id: int | None = None
    department: str | None = None
    duplicate_of: CaseRef | None = None


def check_request(rule: Rule, action: str, request: Request, case: CaseRef) -> None:
    """Refuse a request that lacks what ``rule`` needs.

    Raises
    ------
    MissingInput
        The message names the action and what is missing.
    """
    for need in sorted(rule.needs, key=lambda n: n.value):
        if need is Need.REASON and not (request.reason or request.note).strip():
            raise MissingInput(f"「{action}」需要填写原因")
        if need is Need.NOTE and not request.note.strip():
            raise MissingInput(f"「{action}」需要填写{'整改情况' if action == A.RECTIFY else '内容'}")
        if need is Need.DESTINATION and request.grid_id is None and not request.department:
            raise MissingInput(f"「{action}」需要指定派发的网格或部门")
        if need is Need.DEPARTMENT and not (request.department or "").strip():
            raise MissingInput(f"「{action}」需要指定承办部门")
        if need is Need.DUPLICATE_OF:
            original = request.duplicate_of
            if original is None:
                raise MissingInput(f"「{action}」需要指定与哪一件案件重复")
            if original.id == case.id or (original.created_at, original.id) > (case.created_at, case.id):
                raise MissingInput(f"「{action}」的原案件必须早于本案件：{original.number} 晚于或就是 {case.number}")


@dataclass(frozen=True, slots=True)
class GridRef:
    id: int
    name: str
    level: int
    parent_id: int | None


def escalation_target(grid: GridRef | None, department: str | None,
                      parent_of: Callable[[int], GridRef | None]) -> tuple[GridRef | None, str | None]:
    """Where 上报上级 sends a case: ``(grid, None)`` or ``(None, '市级平台')``.

    One level up, except that a level-5 unit reports to the village (三级网格) as its level-4
    leader would (seed 001 §四(二): 四级、五级网格长…上报至三级网格长); level 1 reports to the city.

    Raises
    ------
    MissingInput
        The case is held by a department or is already at the city.
    """
    if grid is None:
        held = department or "（无）"
        raise MissingInput(f"案件当前由「{held}」承办，不在网格中，无法「{A.ESCALATE}」")
    if department:
        raise MissingInput(f"案件当前由部门「{department}」承办，应由部门「{A.RETURN}」而不是「{A.ESCALATE}」")
    target = grid
    while True:
        if target.parent_id is None:
            return None, CITY_DEPARTMENT
        parent = parent_of(target.parent_id)
        if parent is None:
            raise MissingInput(f"网格「{target.name}」的上级网格不存在")
        target = parent
        if not (grid.level == 5 and target.level > 3):
            return target, None


def validate_trail(events: Sequence[Mapping], *, duplicate_of: object = None) -> list[str]:
    """Problems with a stored event trail (oldest first); empty when every step follows the table.

    ``events`` are mappings with at least ``action``, ``from_state``, ``to_state`` and ``note``
    (rows of ``case_events``); ``duplicate_of`` is the case row's column (a 重复 needs it).
    """
    problems: list[str] = []
    if not events:
        return ["no events"]
    first = events[0]
    if (first["action"], first["from_state"], first["to_state"]) != (A.REGISTER, None, S.PENDING):
        problems.append(f"first event is {first['action']} {first['from_state']}→{first['to_state']}, "
                        f"not {A.REGISTER} →{S.PENDING}")
    state, at = first["to_state"], first.get("at")
    for i, event in enumerate(events[1:], start=1):
        where = f"event {i} ({event['action']})"
        if event.get("at") is not None and at is not None and event["at"] < at:
            problems.append(f"{where}: earlier than the event before it")
        at = event.get("at") or at
        if event["from_state"] != state:
            problems.append(f"{where}: from {event['from_state']} but the case was {state}")
        try:
            rule = rule_for(state, event["action"])
        except InvalidTransition as exc:
            problems.append(f"{where}: {exc}")
            state = event["to_state"]
            continue
        expected = rule.to_state or state
        if event["to_state"] != expected:
            problems.append(f"{where}: to {event['to_state']}, the table says {expected}")
        payload = event.get("payload") or {}
        request = Request(note=event.get("note") or "", reason=payload.get("reason", ""),
                          grid_id=event.get("grid_id"), department=payload.get("department"),
                          duplicate_of=CaseRef(0, "原案件", datetime.min)
                          if (duplicate_of or payload.get("duplicate_of")) else None)
        try:
            check_request(rule, event["action"], request, CaseRef(1, "本案件", datetime.max))
        except MissingInput as exc:
            problems.append(f"{where}: {exc}")
        state = expected
    return problems


def table_rows(states: Iterable[CaseState] = CaseState) -> list[tuple[str, str, str, str]]:
    """(state, action, new state, needs) for documentation and ``envgrid case`` help."""
    rows = []
    for state in states:
        for action in CaseAction:
            rule = TRANSITIONS.get((state, action))
            if rule is not None:
                needs = "、".join(sorted(n.value for n in rule.needs))
                rows.append((str(state), str(action), str(rule.to_state or state), needs))
    return rows
