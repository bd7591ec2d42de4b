"""The role table of docs/roles.md, one case per cell, against the people of nodes/sx.toml."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from domain_helpers import drive_to, perform
from test_item_roles import HOME

from ledger13710.config.node import load_node_config
from ledger13710.domain import roles
from ledger13710.domain.errors import RoleError

ROOT = Path(__file__).resolve().parents[2]
DIRECTORY = load_node_config(ROOT / "nodes" / "sx.toml").directory()
APPROVE = "approve a cancel"


def table() -> list[tuple[str, str, bool]]:
    """(row, contact id, allowed) for every cell of the table in docs/roles.md."""
    text = (ROOT / "docs" / "roles.md").read_text()
    lines = [ln for ln in text.splitlines() if ln.startswith("|")]
    people = re.findall(r"`([^`]+)`", lines[0])
    cells = []
    for line in lines[2:]:
        row, *marks = (c.strip() for c in line.strip("|").split("|"))
        action = APPROVE if row.startswith(APPROVE) else row.split()[0]
        assert len(people) == len(marks), line
        cells += [(action, who, mark == "✓") for who, mark in zip(people, marks, strict=True)]
    return cells


CELLS = table()


def test_the_table_covers_every_action_and_role() -> None:
    """Every action of the lifecycle, and the approval of a cancel, has a row of ten people."""
    assert set(HOME) | {APPROVE} == {action for action, _, _ in CELLS}
    assert len(CELLS) == (len(HOME) + 1) * 10


@pytest.mark.parametrize(("action", "who", "allowed"), [c for c in CELLS if c[0] != APPROVE])
def test_role_table_cell(action: str, who: str, allowed: bool) -> None:
    """The person may take the action exactly when the table says ✓; a refusal says who may."""
    sc = drive_to(HOME[action], ready_for=action)
    if allowed:
        roles.require_person(DIRECTORY, sc.state, action, who)
        perform(sc, action, unit=DIRECTORY.contact(who).unit)
        assert sc.flush()
        return
    with pytest.raises(RoleError) as info:
        roles.require_person(DIRECTORY, sc.state, action, who)
    message = str(info.value)
    assert f"'{action}' is for a head or" in message
    assert f"{who} ({DIRECTORY.contact(who).role} of" in message
    may = [c for a, c, ok in CELLS if a == action and ok]
    assert all(c in message.split("May: ")[1] for c in may)


@pytest.mark.parametrize(("who", "allowed"), [(w, ok) for a, w, ok in CELLS if a == APPROVE])
def test_cancel_approver_cell(who: str, allowed: bool) -> None:
    """Only a head or supervisor of the raising unit or a government above approves a cancel."""
    sc = drive_to(HOME["cancel"])
    if allowed:
        roles.require_approver(DIRECTORY, sc.state.number, sc.state.raising_unit, who)
        return
    with pytest.raises(RoleError, match=f"a cancellation is approved by .*; {who} "):
        roles.require_approver(DIRECTORY, sc.state.number, sc.state.raising_unit, who)


def test_unknown_person_is_refused_by_id() -> None:
    """Someone not in the directory is named as such, not as a crash."""
    sc = drive_to(HOME["urge"])
    with pytest.raises(RoleError, match=r"nobody \(not in this node's directory\) may not"):
        roles.require_person(DIRECTORY, sc.state, "urge", "nobody")
