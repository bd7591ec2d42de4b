"""Accountability cases on a real node: the scripted year's facts open exactly three cases,
once; the procedure is recorded in the log, each step by an authorised role."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import pytest
from openpyxl import load_workbook
from points_year import play_year, rules

from ledger13710.application.cases import (
    case_events,
    case_ids,
    case_rows,
    propose_cases,
    step_case,
)
from ledger13710.application.node import Node
from ledger13710.domain.cases import CaseProposed, CaseState, parse_accountability, proposals
from ledger13710.domain.clock import ManualClock
from ledger13710.domain.errors import InputError
from ledger13710.node.points import open_points
from ledger13710.projections.points_excel import write_cases_xlsx
from ledger13710.projections.points_queries import facts, parse_period

MakeNode = Callable[..., Node]
SUP = "sx-general-office-sup1"
ACCOUNTABILITY = parse_accountability(
    resources.files("ledger13710").joinpath("data/accountability-v1.toml").read_text(), "a"
)


def scan(node: Node) -> list[str]:
    """``cases scan --period 2016`` as the general office's supervisor; the new case ids."""

    async def run() -> list[str]:
        async with open_points(node.dir, node.id, node.app.recorder, rules()) as p:
            await p.catch_up()
            found = proposals(await facts(p.store, parse_period("2016")), ACCOUNTABILITY)
        opened = propose_cases(node.app, found, rules_version=ACCOUNTABILITY.version, actor=SUP)
        return [str(c.id) for c in opened]

    return asyncio.run(run())


@pytest.fixture
def year_node(make_node: MakeNode, clock: ManualClock) -> Node:
    """A 13710-v2 province node with the scripted year played."""
    node = make_node("sqlite", policy="builtin:13710-v2")
    play_year(node.app, clock)
    return node


def test_the_years_facts_open_three_cases_once(year_node: Node) -> None:
    """Public security's item 2: resolved 12 days late (> 10), feedback marked untrue, and
    three clocks missed in Q1 — three cases with their evidence; a second scan opens none."""
    opened = scan(year_node)
    assert len(opened) == 3
    assert scan(year_node) == []
    proposed = [case_events(year_node.app, cid)[0] for cid in case_ids(year_node.app)]
    assert all(isinstance(e, CaseProposed) for e in proposed)
    summary = sorted(
        (e.trigger, e.subject, len(e.evidence)) for e in proposed if isinstance(e, CaseProposed)
    )
    assert summary == [
        ("overdue", "sx/public-security", 1),
        ("repeated-overdue", "sx/public-security", 3),
        ("untrue-feedback", "sx/public-security", 1),
    ]


def test_a_case_is_decided_by_the_head_of_the_government(year_node: Node) -> None:
    """Investigated by the supervisor; the transport head cannot decide; the governor's head
    decides 通报批评; then it is closed — every step recorded in the node's log."""
    case = next(case_ids(year_node.app)) if scan(year_node) else pytest.fail("no case")
    app = year_node.app
    step_case(app, case, "investigate", text="核实属实", actor=SUP)
    with pytest.raises(InputError, match="decided by the head of a government"):
        step_case(app, case, "decide", text="x", actor="sx-transport-head", form="约谈",
                  forms=ACCOUNTABILITY.forms)  # fmt: skip
    step_case(app, case, "decide", text="多次超期", actor="sx-head", form="通报批评",
              forms=ACCOUNTABILITY.forms)  # fmt: skip
    closed = step_case(app, case, "close", text="已通报", actor=SUP)
    assert (closed.state, closed.form) == (CaseState.CLOSED, "通报批评")
    kinds = [type(e).__name__ for e in case_events(app, case)]
    assert kinds == ["CaseProposed", "CaseInvestigated", "CaseDecided", "CaseClosed"]


def test_the_case_list_exports_to_excel(year_node: Node, tmp_path: Path) -> None:
    """The case list for the annual assessment: one row per case, state in Chinese."""
    scan(year_node)
    rows = case_rows(year_node.app)
    write_cases_xlsx(tmp_path / "cases.xlsx", rows)
    sheet = load_workbook(tmp_path / "cases.xlsx").worksheets[0]
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert sorted((v[1], v[2], v[4]) for v in values) == [
        ("sx/public-security", "overdue", "拟立案"),
        ("sx/public-security", "repeated-overdue", "拟立案"),
        ("sx/public-security", "untrue-feedback", "拟立案"),
    ]
    assert {str(v[0]) for v in values} == {r["id"] for r in rows}
