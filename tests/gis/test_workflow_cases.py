"""Cases on both backends: the whole life of a case, refusals, locking, numbers, attachments."""
from __future__ import annotations

import hashlib
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from gis.domain import CaseAction, CaseState
from gis.storage import schema
from gis.workflow import cases as cases_module
from gis.workflow.attachments import NewAttachment, read_attachment
from gis.workflow.cases import (CaseNotFound, ConflictError, add_note, apply_action, attach, create_case,
                                read_case_detail, reporter_trail)
from gis.workflow.routing import GridIndex
from gis.workflow.transitions import (CITY_DEPARTMENT, TRANSITIONS, InvalidTransition, MissingInput,
                                      validate_trail)
from test_workflow_world import T0, build_world

A, S = CaseAction, CaseState
PHOTO = NewAttachment("整改后.jpg", bytes(range(256)) * 40)


def _new(store, world, code="T1S1", at=T0, category="扬尘污染", **extra):
    lon, lat = world.centre(code)
    with store.engine.begin() as connection:
        return create_case(connection, source="群众举报", category=category, description="工地裸土未覆盖，扬尘严重",
                           actor="坐席王", lon=lon, lat=lat, reporter_name="李四", reporter_phone="13700000000",
                           now=at, **extra)


def _act(store, case, action, at, actor="网格员", **extra):
    with store.engine.begin() as connection:
        return apply_action(connection, case, action, actor, now=at, **extra)


def test_whole_life_through_escalation_transfer_failed_recheck_and_closure(store):
    world = build_world(store)
    new = _new(store, world, attachments=[NewAttachment("举报照片.jpg", b"\xff\xd8reporter photo")])
    assert new.number == "AJ20260914001" and new.grid.code == "T1S1"
    assert new.due_at == T0 + timedelta(hours=72)  # complaints: 72 h
    steps = [
        (A.DISPATCH, {}, S.DISPATCHED, "T1S1", None),
        (A.NOTE, {"note": "已电话联系网格员"}, S.DISPATCHED, "T1S1", None),
        (A.ESCALATE, {"note": "涉及施工许可，本级无法处置"}, S.ESCALATED, "T1S", None),
        (A.ESCALATE, {"note": "需镇里协调住建部门"}, S.ESCALATED, "T1", None),
        (A.TRANSFER, {"department": "区住建局"}, S.TRANSFERRED, "T1", "区住建局"),
        (A.ACCEPT, {}, S.IN_PROGRESS, "T1", "区住建局"),
        (A.RECTIFY, {"note": "已覆盖裸土", "attachments": [PHOTO]}, S.RECTIFIED, "T1", "区住建局"),
        (A.SUBMIT_RECHECK, {}, S.RECHECK, "T1", "区住建局"),
        (A.RECHECK_FAIL, {"reason": "回头看发现覆盖网破损"}, S.IN_PROGRESS, "T1", "区住建局"),
        (A.RECTIFY, {"note": "已更换防尘网并加装喷淋"}, S.RECTIFIED, "T1", "区住建局"),
        (A.SUBMIT_RECHECK, {}, S.RECHECK, "T1", "区住建局"),
        (A.CLOSE, {"note": "复查合格"}, S.CLOSED, "T1", "区住建局"),
        (A.FEEDBACK, {"note": "问题已整改到位，感谢您的监督"}, S.CLOSED, "T1", "区住建局"),
    ]
    at = T0
    for action, extra, state, grid, department in steps:
        at += timedelta(hours=1)
        result = _act(store, new.number, action, at, **extra)
        assert (result.to_state, result.grid_id, result.department) == (state, world[grid].id, department), action
    closed_at = at - timedelta(hours=1)

    with store.engine.connect() as connection:
        detail = read_case_detail(connection, new.number, on=at)
        trail = reporter_trail(connection, new.id)
    assert detail.state == S.CLOSED and detail.closed_at == closed_at and detail.department == "区住建局"
    assert detail.version == 1 + sum(1 for step in steps if step[0] not in (A.NOTE, A.FEEDBACK))
    assert [e.action for e in detail.events] == [A.REGISTER] + [s[0] for s in steps]
    assert [e.at for e in detail.events] == sorted(e.at for e in detail.events)
    assert all(a.to_state == b.from_state for a, b in zip(detail.events, detail.events[1:]))
    escalations = [e for e in detail.events if e.action == A.ESCALATE]
    assert [(e.grid_name, e.payload["from_grid_id"]) for e in escalations] == [
        (world["T1S"].name, world["T1S1"].id), (world["T1"].name, world["T1S"].id)]
    failed = next(e for e in detail.events if e.action == A.RECHECK_FAIL)
    assert failed.note == "回头看发现覆盖网破损" and failed.payload["reason"] == failed.note and failed.internal
    assert [a.filename for a in detail.events[0].attachments] == ["举报照片.jpg"]
    rectified = next(e for e in detail.events if e.action == A.RECTIFY)
    assert [a.sha256 for a in rectified.attachments] == [hashlib.sha256(PHOTO.data).hexdigest()]
    assert len(detail.attachments) == 2
    assert validate_trail([{"action": e.action, "from_state": e.from_state, "to_state": e.to_state, "note": e.note,
                            "grid_id": e.grid_id, "payload": e.payload, "at": e.at} for e in detail.events]) == []

    # The reporter hears milestones and feedback, not internal notes, escalations or staff names.
    texts = [step.text for step in trail]
    assert texts[0] == "已受理您反映的问题" and texts[-1] == "问题已整改到位，感谢您的监督"
    assert not {A.NOTE, A.ESCALATE, A.TRANSFER, A.RECHECK_FAIL} & {step.action for step in trail}
    assert "网格员" not in " ".join(texts) and "已电话联系网格员" not in texts


def test_escalation_from_level_one_reaches_the_city_and_stops_there(store):
    world = build_world(store)
    new = _new(store, world)
    _act(store, new.id, A.DISPATCH, T0 + timedelta(hours=1), grid_id=world["D"].id)
    result = _act(store, new.id, A.ESCALATE, T0 + timedelta(hours=2))
    assert (result.grid_id, result.department) == (None, CITY_DEPARTMENT)
    with pytest.raises(MissingInput, match="市级平台"):
        _act(store, new.id, A.ESCALATE, T0 + timedelta(hours=3))
    # The city hands it back down to a town.
    result = _act(store, new.id, A.DISPATCH, T0 + timedelta(hours=4), grid_id=world["T2"].id)
    assert (result.to_state, result.grid_id, result.department) == (S.DISPATCHED, world["T2"].id, None)


def test_a_level_five_unit_escalates_to_the_village(store):
    world = build_world(store)
    new = _new(store, world)
    _act(store, new.id, A.DISPATCH, T0 + timedelta(hours=1), grid_id=world["T1S1U"].id)
    assert _act(store, new.id, A.ESCALATE, T0 + timedelta(hours=2)).grid_id == world["T1S"].id


def test_every_invalid_action_is_refused_in_every_state_and_changes_nothing(store):
    world = build_world(store)
    new = _new(store, world)
    for state in CaseState:
        with store.engine.begin() as connection:
            connection.execute(update(schema.cases).where(schema.cases.c.id == new.id).values(state=str(state)))
        for action in CaseAction:
            if (state, action) in TRANSITIONS:
                continue
            with pytest.raises(InvalidTransition) as caught:
                _act(store, new.number, action, T0, reason="r", note="n")
            assert str(caught.value) == f"{state} 的案件不能执行「{action}」"
    with store.engine.connect() as connection:
        assert connection.execute(select(schema.cases.c.version).where(schema.cases.c.id == new.id)).scalar() == 1
        assert connection.execute(select(func.count()).select_from(schema.case_events)).scalar() == 1


def test_guards_refuse_missing_or_wrong_inputs(store):
    world = build_world(store)
    first = _new(store, world)
    second = _new(store, world, at=T0 + timedelta(minutes=30))
    with pytest.raises(MissingInput, match="原案件必须早于本案件"):
        _act(store, first.id, A.DUPLICATE, T0 + timedelta(hours=1), duplicate_of=second.number)
    with pytest.raises(CaseNotFound, match="AJ20990101001"):
        _act(store, second.id, A.DUPLICATE, T0 + timedelta(hours=1), duplicate_of="AJ20990101001")
    with pytest.raises(MissingInput, match="只能派发给一个网格或一个部门"):
        _act(store, second.id, A.DISPATCH, T0 + timedelta(hours=1), grid_id=world["T1"].id, department="环卫处")
    with pytest.raises(MissingInput, match="需要填写原因"):
        _act(store, second.id, A.FALSE_REPORT, T0 + timedelta(hours=1))
    with pytest.raises(MissingInput, match="操作人"):
        _act(store, second.id, A.NOTE, T0 + timedelta(hours=1), actor=" ", note="x")
    result = _act(store, second.id, A.DUPLICATE, T0 + timedelta(hours=1), duplicate_of=first.number)
    assert result.to_state == S.DUPLICATE
    with store.engine.connect() as connection:
        detail = read_case_detail(connection, second.id)
    assert detail.duplicate_of == first.number and detail.events[-1].payload["duplicate_of"] == first.number
    assert detail.closed_at is None  # 销号 only closes; a 重复 just ends


def test_returned_case_goes_back_to_the_seat_without_its_department(store):
    world = build_world(store)
    new = _new(store, world)
    _act(store, new.id, A.TRANSFER, T0 + timedelta(hours=1), department="区水务局")
    with pytest.raises(MissingInput, match="需要填写原因"):
        _act(store, new.id, A.RETURN, T0 + timedelta(hours=2))
    result = _act(store, new.id, A.RETURN, T0 + timedelta(hours=2), reason="不属于本部门职责")
    assert (result.to_state, result.department, result.grid_id) == (S.RETURNED, None, world["T1S1"].id)
    assert _act(store, new.id, A.DISPATCH, T0 + timedelta(hours=3)).grid_id == world["T1S1"].id


def test_optimistic_lock_conflict_between_two_connections(store, monkeypatch):
    world = build_world(store)
    new = _new(store, world)
    real_load = cases_module._load
    interleaved = []

    def load_then_let_the_other_seat_win(connection, case):
        row = real_load(connection, case)
        if not interleaved and case == new.number:
            interleaved.append(row.version)
            with store.engine.begin() as other:  # a second seat, its own connection, commits first
                apply_action(other, new.id, A.DISPATCH, "坐席乙", now=T0 + timedelta(minutes=5))
        return row

    monkeypatch.setattr(cases_module, "_load", load_then_let_the_other_seat_win)
    with store.engine.connect() as connection:
        with pytest.raises(ConflictError) as caught:
            apply_action(connection, new.number, A.FALSE_REPORT, "坐席甲", reason="重复来电",
                         now=T0 + timedelta(minutes=6))
        connection.rollback()
    assert (caught.value.expected, caught.value.actual) == (1, 2)
    assert str(caught.value) == f"案件 {new.number} 已被他人修改：预期版本 1，当前版本 2；请刷新后重试"
    monkeypatch.undo()

    # A stale screen (it saw version 1) is refused before anything is written.
    with store.engine.connect() as a, store.engine.connect() as b:
        seen = read_case_detail(a, new.id).version
        a.rollback()
        apply_action(b, new.id, A.ACCEPT, "网格员乙", now=T0 + timedelta(minutes=7), expected_version=2)
        b.commit()
        with pytest.raises(ConflictError, match="预期版本 2，当前版本 3"):
            apply_action(a, new.id, A.ACCEPT, "网格员甲", now=T0 + timedelta(minutes=8), expected_version=seen)
        a.rollback()
    with store.engine.connect() as connection:
        detail = read_case_detail(connection, new.id)
    assert [(e.action, e.actor) for e in detail.events] == [(A.REGISTER, "坐席王"), (A.DISPATCH, "坐席乙"),
                                                            (A.ACCEPT, "网格员乙")]
    assert (detail.state, detail.version) == (S.IN_PROGRESS, 3)


def test_events_and_attachments_cannot_be_changed_or_removed(store):
    world = build_world(store)
    new = _new(store, world, attachments=[PHOTO])
    for statement in ("UPDATE case_events SET note = 'forged'", "DELETE FROM case_events",
                      "UPDATE attachments SET filename = 'x.jpg'", "DELETE FROM attachments"):
        with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as connection:
            connection.execute(text(statement))
    with store.engine.connect() as connection:
        detail = read_case_detail(connection, new.id)
    assert detail.events[0].note == "工地裸土未覆盖，扬尘严重" and detail.attachments[0].filename == PHOTO.filename


def test_attachments_round_trip_with_sha256(store):
    world = build_world(store)
    new = _new(store, world)
    files = [PHOTO, NewAttachment("记录.pdf", b"%PDF-1.4 minimal"), NewAttachment("raw.bin", bytes(range(256)))]
    with store.engine.begin() as connection:
        result = attach(connection, new.number, "网格员", files, now=T0 + timedelta(hours=1))
    with store.engine.connect() as connection:
        for attachment_id, original in zip(result.attachment_ids, files):
            info, data = read_attachment(connection, attachment_id)
            assert data == original.data and info.size == len(original.data)
            assert info.sha256 == hashlib.sha256(original.data).hexdigest()
            assert info.event_id == result.event_id and info.filename == original.filename
        mimes = [read_attachment(connection, i)[0].mime for i in result.attachment_ids]
        event = read_case_detail(connection, new.id).events[-1]
    assert mimes == ["image/jpeg", "application/pdf", "application/octet-stream"]
    assert event.action == A.NOTE and event.internal and "整改后.jpg" in event.note
    with pytest.raises(MissingInput), store.engine.begin() as connection:
        attach(connection, new.id, "网格员", [])


def test_notes_are_internal_and_feedback_is_for_the_reporter(store):
    world = build_world(store)
    new = _new(store, world)
    with store.engine.begin() as connection:
        add_note(connection, new.id, "坐席王", "举报人情绪激动，注意沟通", now=T0 + timedelta(minutes=1))
        add_note(connection, new.id, "坐席王", "已转属地网格核实", internal=False, now=T0 + timedelta(minutes=2))
    with store.engine.connect() as connection:
        events = read_case_detail(connection, new.id).events
        trail = reporter_trail(connection, new.id)
    assert [(e.action, e.internal) for e in events[1:]] == [(A.NOTE, True), (A.FEEDBACK, False)]
    assert [s.text for s in trail] == ["已受理您反映的问题", "已转属地网格核实"]
    assert events[-1].to_state == events[-1].from_state == S.PENDING


def test_numbers_are_per_day_and_a_taken_number_is_retried(store, monkeypatch):
    world = build_world(store)
    with store.engine.connect() as connection:
        index = GridIndex.from_connection(connection)
    assert [_new(store, world, at=T0 + timedelta(minutes=i), index=index).number for i in range(3)] == [
        "AJ20260914001", "AJ20260914002", "AJ20260914003"]
    assert _new(store, world, at=T0 + timedelta(days=1), index=index).number == "AJ20260915001"

    real = cases_module._next_number
    calls = []

    def stale_first(connection, at, floor):  # as if another seat took 003 after we looked
        calls.append(floor)
        return ("AJ20260914003", 3) if len(calls) == 1 else real(connection, at, floor)

    monkeypatch.setattr(cases_module, "_next_number", stale_first)
    with store.engine.begin() as connection:
        add_note(connection, "AJ20260914001", "坐席", "先写点别的", now=T0 + timedelta(hours=1))
        retried = create_case(connection, source="巡查上报", category="其他", description="x", actor="网格员",
                              lon=world.centre("T2N2")[0], lat=world.centre("T2N2")[1], index=index,
                              now=T0 + timedelta(hours=1))
    assert retried.number == "AJ20260914004" and calls == [1, 4]
    with store.engine.connect() as connection:  # the whole transaction committed, nothing lost or doubled
        notes = connection.execute(select(func.count()).select_from(schema.case_events)
                                   .where(schema.case_events.c.action == A.NOTE)).scalar()
        registered = connection.execute(select(func.count()).select_from(schema.case_events)
                                        .where(schema.case_events.c.case_id == retried.id)).scalar()
    assert (notes, registered) == (1, 1)


def test_concurrent_seats_get_distinct_numbers(store):
    world = build_world(store)
    with store.engine.connect() as connection:
        index = GridIndex.from_connection(connection)
    barrier = threading.Barrier(3)
    numbers, errors = [], []

    def seat(k):
        try:
            barrier.wait()
            for i in range(4):
                new = _new(store, world, at=T0 + timedelta(seconds=k * 10 + i), index=index)
                numbers.append(new.number)
        except Exception as exc:  # noqa: BLE001 (reported below: a thread cannot fail the test itself)
            errors.append(exc)

    threads = [threading.Thread(target=seat, args=(k,)) for k in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(numbers) == [f"AJ20260914{n:03d}" for n in range(1, 13)]


def test_unknown_inputs_are_named(store):
    world = build_world(store)
    lon, lat = world.centre("T1S1")
    with store.engine.begin() as connection:
        with pytest.raises(MissingInput, match="未知的案件类别「沙尘暴」.*其他"):
            create_case(connection, source="群众举报", category="沙尘暴", description="x", actor="a", lon=lon, lat=lat)
        with pytest.raises(MissingInput, match="未知的案件来源「传真」"):
            create_case(connection, source="传真", category="其他", description="x", actor="a", lon=lon, lat=lat)
        with pytest.raises(MissingInput, match="经度和纬度"):
            create_case(connection, source="12369", category=None, description="x", actor="a", lon=lon)
        with pytest.raises(CaseNotFound, match="AJ20260914999"):
            apply_action(connection, "AJ20260914999", A.ACCEPT, "a")
        with pytest.raises(MissingInput, match="未知的操作「fly」"):
            apply_action(connection, 1, "fly", "a")
        outside = create_case(connection, source="督察", category=None, description="区外", actor="a",
                              lon=113.5, lat=35.0, now=T0)
    assert outside.grid is None and outside.route.grid is None
    assert outside.due_at == T0 + timedelta(hours=120)  # 上级交办: 5 days
