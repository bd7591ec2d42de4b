"""The item actions: one ``Action`` StrEnum names every action the code and the wire use."""

from __future__ import annotations

from typing import get_args

from ledger13710.domain.events import PartAction
from ledger13710.domain.lifecycle import ALLOWED, Action


def test_every_part_action_on_the_wire_is_an_action() -> None:
    """``PartAction`` (a ``Literal`` in the events) names only members of ``Action``."""
    values = {a.value for a in Action}
    assert set(get_args(PartAction)) <= values


def test_the_lifecycle_table_is_keyed_by_actions() -> None:
    """Every key of the lifecycle table is an ``Action`` member, not a bare string."""
    assert all(type(a) is Action for a in ALLOWED)


def test_an_action_equals_and_formats_as_its_string() -> None:
    """A member is its string: stored events and messages read as before."""
    closing: str = Action.CLOSE_OUT
    assert closing == "close-out"
    assert f"'{Action.EXTEND_DECISION}'" == "'extend-decision'"
