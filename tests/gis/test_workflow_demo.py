"""The demo's year of case history follows the transition table, step by step."""
from __future__ import annotations

from collections import defaultdict
from itertools import pairwise
from datetime import datetime

import pytest
from sqlalchemy import select

from gis.demo.build import build_demo
from gis.domain import CaseAction, CaseState
from gis.storage import schema
from gis.storage.store import open_store
from gis.workflow.transitions import validate_trail

AS_OF = datetime(2026, 11, 20, 9, 0)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    store = open_store(tmp_path_factory.mktemp("workflow-demo") / "demo.sqlite")
    build_demo(store, seed=20181, as_of=AS_OF)
    with store.engine.connect() as connection:
        cases = {row.id: row for row in connection.execute(select(schema.cases))}
        grids = dict(connection.execute(select(schema.grids.c.id, schema.grids.c.parent_id)).all())
        events = defaultdict(list)
        for row in connection.execute(select(schema.case_events).order_by(schema.case_events.c.id)):
            events[row.case_id].append(dict(row._mapping))
    store.close()
    return cases, grids, events


def test_every_demo_trail_validates_against_the_table(demo):
    cases, _, events = demo
    problems = {case.number: found for case_id, case in cases.items()
                if (found := validate_trail(events[case_id], duplicate_of=case.duplicate_of))}
    assert problems == {}
    assert {e["action"] for trail in events.values() for e in trail} >= {
        CaseAction.ESCALATE, CaseAction.RECHECK_FAIL, CaseAction.DUPLICATE, CaseAction.FALSE_REPORT}


def test_demo_escalations_go_to_the_parent_grid_and_closures_are_stamped(demo):
    cases, parent_of, events = demo
    for case_id, trail in events.items():
        for before, after in pairwise(trail):
            if before["action"] == CaseAction.ESCALATE:
                # The demo records the escalating grid on 上报上级 and the parent on the next step.
                assert after["grid_id"] == parent_of[before["grid_id"]], cases[case_id].number
        case = cases[case_id]
        assert (case.closed_at is not None) == (case.state == CaseState.CLOSED), case.number
        if case.closed_at is not None:
            assert case.closed_at == trail[-1]["at"]
