"""The transition table (pure): every pair not in it is refused with the state and action named."""
from __future__ import annotations

from datetime import datetime

import pytest

from gis.domain import OPEN_STATES, CaseAction, CaseState
from gis.workflow.transitions import (CITY_DEPARTMENT, TERMINAL_STATES, TRANSITIONS, CaseRef, GridRef,
                                      InvalidTransition, MissingInput, Request, allowed_actions, check_request,
                                      escalation_target, rule_for, validate_trail)

S, A = CaseState, CaseAction
INVALID = [(s, a) for s in CaseState for a in CaseAction if (s, a) not in TRANSITIONS]


@pytest.mark.parametrize(("state", "action"), INVALID, ids=[f"{s}-{a}" for s, a in INVALID])
def test_every_pair_outside_the_table_is_refused_naming_state_and_action(state, action):
    with pytest.raises(InvalidTransition) as caught:
        rule_for(state, action)
    assert str(caught.value) == f"{state} 的案件不能执行「{action}」"
    assert (caught.value.state, caught.value.action) == (state, action)


def test_the_example_message_reads_as_specified():
    with pytest.raises(InvalidTransition, match="^已销号 的案件不能执行「派发」$"):
        rule_for(S.CLOSED, A.DISPATCH)


def test_table_shape():
    assert len(INVALID) + len(TRANSITIONS) == len(CaseState) * len(CaseAction)
    # Registration only creates; nothing leads back to 待受理 or out of a terminal state.
    assert all(action != A.REGISTER for _, action in TRANSITIONS)
    assert all(rule.to_state != S.PENDING for rule in TRANSITIONS.values())
    for state in TERMINAL_STATES:
        assert set(allowed_actions(state)) == {A.NOTE, A.FEEDBACK}
    for state in OPEN_STATES:
        assert A.NOTE in allowed_actions(state) and A.REMIND in allowed_actions(state)
        assert any(TRANSITIONS[(state, a)].to_state for a in allowed_actions(state)), f"{state} is a dead end"
    # Every state can be reached from 待受理.
    reached, frontier = {S.PENDING}, [S.PENDING]
    while frontier:
        state = frontier.pop()
        for action in allowed_actions(state):
            target = TRANSITIONS[(state, action)].to_state
            if target and target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(CaseState)


def test_unknown_names_are_refused_like_invalid_pairs():
    with pytest.raises(InvalidTransition, match="飞升"):
        rule_for(S.PENDING, "飞升")


CASE = CaseRef(10, "AJ20260914002", datetime(2026, 9, 14, 10))


@pytest.mark.parametrize(("state", "action", "request_", "message"), [
    (S.DISPATCHED, A.RETURN, Request(), "「退回」需要填写原因"),
    (S.PENDING, A.FALSE_REPORT, Request(note="  "), "「误报」需要填写原因"),
    (S.RECHECK, A.RECHECK_FAIL, Request(), "「复查不通过」需要填写原因"),
    (S.IN_PROGRESS, A.RECTIFY, Request(reason="x"), "「整改完成」需要填写整改情况"),
    (S.PENDING, A.DISPATCH, Request(), "「派发」需要指定派发的网格或部门"),
    (S.PENDING, A.TRANSFER, Request(), "「转办」需要指定承办部门"),
    (S.PENDING, A.DUPLICATE, Request(), "「重复」需要指定与哪一件案件重复"),
    (S.PENDING, A.DUPLICATE, Request(duplicate_of=CaseRef(11, "AJ20260914003", datetime(2026, 9, 14, 11))),
     "原案件必须早于本案件"),
    (S.PENDING, A.DUPLICATE, Request(duplicate_of=CASE), "原案件必须早于本案件"),
    (S.CLOSED, A.NOTE, Request(), "「备注」需要填写内容"),
])
def test_guards_name_what_is_missing(state, action, request_, message):
    with pytest.raises(MissingInput, match=message):
        check_request(rule_for(state, action), action, request_, CASE)


def test_guards_pass_with_what_they_need():
    earlier = CaseRef(9, "AJ20260914001", datetime(2026, 9, 14, 9))
    check_request(rule_for(S.PENDING, A.DUPLICATE), A.DUPLICATE, Request(duplicate_of=earlier), CASE)
    check_request(rule_for(S.DISPATCHED, A.RETURN), A.RETURN, Request(reason="非本辖区"), CASE)
    check_request(rule_for(S.IN_PROGRESS, A.RECTIFY), A.RECTIFY, Request(note="已覆盖"), CASE)
    check_request(rule_for(S.PENDING, A.DISPATCH), A.DISPATCH, Request(department="住建局"), CASE)


def test_escalation_goes_one_level_up_and_from_level_one_to_the_city():
    grids = {1: GridRef(1, "区", 1, None), 2: GridRef(2, "镇", 2, 1), 3: GridRef(3, "村", 3, 2),
             4: GridRef(4, "片", 4, 3), 5: GridRef(5, "工地", 5, 4)}
    up = grids.get
    assert escalation_target(grids[4], None, up) == (grids[3], None)
    assert escalation_target(grids[3], None, up) == (grids[2], None)
    assert escalation_target(grids[2], None, up) == (grids[1], None)
    assert escalation_target(grids[1], None, up) == (None, CITY_DEPARTMENT)
    assert escalation_target(grids[5], None, up) == (grids[3], None)  # 五级网格点 → 三级网格长
    with pytest.raises(MissingInput, match="市级平台"):
        escalation_target(None, CITY_DEPARTMENT, up)
    with pytest.raises(MissingInput, match="住建局"):
        escalation_target(grids[4], "住建局", up)


def _event(action, before, after, note="x", **extra):
    return {"action": str(action), "from_state": before and str(before), "to_state": str(after), "note": note,
            "grid_id": 1, **extra}


def test_validate_trail_reports_broken_steps():
    good = [_event(A.REGISTER, None, S.PENDING), _event(A.DISPATCH, S.PENDING, S.DISPATCHED),
            _event(A.ACCEPT, S.DISPATCHED, S.IN_PROGRESS)]
    assert validate_trail(good) == []
    skipped = good + [_event(A.CLOSE, S.IN_PROGRESS, S.CLOSED)]
    assert validate_trail(skipped) == ["event 3 (复查销号): 处置中 的案件不能执行「复查销号」"]
    no_reason = good[:2] + [_event(A.RETURN, S.DISPATCHED, S.RETURNED, note="")]
    assert "需要填写原因" in validate_trail(no_reason)[0]
    assert "重复的原案件" not in " ".join(validate_trail(
        [good[0], _event(A.DUPLICATE, S.PENDING, S.DUPLICATE)], duplicate_of=3))
    assert validate_trail([good[0], _event(A.DUPLICATE, S.PENDING, S.DUPLICATE)])  # no original named
