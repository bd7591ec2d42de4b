"""User text in the domain: item numbers have one shape, free text has limits, display is safe."""

from __future__ import annotations

from datetime import timedelta

import pytest
from domain_helpers import OPERATOR, T0, assigned, register
from hypothesis import given
from hypothesis import strategies as st

from ledger13710.domain import events as ev
from ledger13710.domain.errors import InputError
from ledger13710.domain.guards import NUMBER_MAX, check_number
from ledger13710.domain.text import LIMITS, display

GOOD_NUMBERS = [
    "sx-2016-0001",
    "sx-2016-0001-2",
    "sx-2016-0001-2-1",
    "sx.xinzhou.dingxiang-2017-0013",
    "sx.xinzhou.dingxiang.jinchang-2026-0001-1",
    "sx-2016-jz-7",
    "sx-2016-dup",
]
BAD_NUMBERS = [
    "../../x y",
    "",
    "sx",
    "sx-2016",
    "sx-16-0001",
    "SX-2016-0001",
    "sx-2016-0001/..",
    "sx-2016-0001 ",
    "sx-2016-0001\n",
    "sx-2016-0001-",
    "sx-2016-0001-1-2-3-4-5-6-7-8-9-10",
    "sx-2016-" + "1" * 13,
    "sx-2016-0001'; DROP TABLE events; --",
    "sx-2016-\u202e1000",
]


@pytest.mark.parametrize("number", GOOD_NUMBERS)
def test_numbers_of_the_documented_shape_are_accepted(number: str) -> None:
    """Issued numbers, parts' suffixes and the explicit numbers imports use pass the check."""
    assert number == check_number(number)


@pytest.mark.parametrize("number", BAD_NUMBERS)
def test_anything_else_is_refused_with_the_expected_shape(number: str) -> None:
    """A path, blanks, SQL, capitals, a bidi override: refused, and the message shows the shape."""
    with pytest.raises(InputError, match=r"bad item number .*<node>-<year>-<seq>"):
        check_number(number)


def test_a_very_long_number_is_refused_and_shown_shortened() -> None:
    """A megabyte "number" is refused without echoing all of it."""
    with pytest.raises(InputError) as refused:
        check_number("sx-2016-" + "0" * 1_000_000)
    assert len(str(refused.value)) < NUMBER_MAX + 400


def test_registering_a_bad_number_is_refused() -> None:
    """The item aggregate refuses to be registered under a number of another shape."""
    with pytest.raises(InputError, match="bad item number"):
        register(number="../../x y")


def test_a_title_over_its_limit_is_refused_naming_the_field_and_limit() -> None:
    """A 120 KB title is refused before any event exists; the message names field and limit."""
    with pytest.raises(InputError, match=r"title is 120000 characters long; the limit is 200"):
        register(title="题" * 120_000)


def test_a_title_at_its_limit_is_accepted() -> None:
    """The limit itself is allowed."""
    sc = register(title="题" * LIMITS["title"])
    assert len(sc.state.title) == LIMITS["title"]


def test_a_note_over_its_limit_is_refused_and_nothing_is_emitted() -> None:
    """A deploy note over its limit is refused; the item neither changes nor emits."""
    sc = assigned()
    version = sc.state.version
    note = "x" * (LIMITS["note"] + 1)
    with pytest.raises(InputError, match=f"note is {len(note)} characters long; the limit is"):
        sc.item.deploy(note=note, now=T0, actor=OPERATOR, unit=sc.state.lead_unit)
    assert (version, []) == (sc.state.version, list(sc.item.collect_events()))


def test_a_plan_milestone_title_over_its_limit_is_refused() -> None:
    """Each plan milestone's title is held to the milestone limit."""
    sc = assigned()
    sc.item.deploy(note="", now=T0, actor=OPERATOR, unit=sc.state.lead_unit)
    sc.item.feedback(content="ok", now=T0, actor=OPERATOR, unit=sc.state.lead_unit)
    sc.flush()
    steps = [ev.PlanMilestone(title="m" * (LIMITS["milestone"] + 1), due_at=T0 + timedelta(9))]
    with pytest.raises(InputError, match="milestone is 201 characters long"):
        sc.item.plan(
            reason="needs a new toll lane", target_at=T0 + timedelta(30), milestones=steps,
            deadlines=[], now=T0, actor=OPERATOR, unit=sc.state.lead_unit,
        )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("red \x1b[31malert", "red \\x1b[31malert"),
        ("abc\u202edef", "abc\\u202edef"),
        ("\u2066iso\u2069", "\\u2066iso\\u2069"),
        ("bell\x07 del\x7f csi\x9b", "bell\\x07 del\\x7f csi\\x9b"),
        ("two\nlines\ttab", "two\\x0alines\\x09tab"),
        ("宽 路 toll [b]x[/b]", "宽 路 toll [b]x[/b]"),
    ],
)
def test_display_escapes_control_and_bidi_characters(text: str, shown: str) -> None:
    """ESC, bidi overrides and isolates, C0/C1 and DEL become visible escapes; the rest stays."""
    assert shown == display(text)


def test_display_keeps_line_breaks_when_asked() -> None:
    """Multi-line output keeps its newlines but still escapes the rest."""
    expected = "a\nb\\x1b"
    assert expected == display("a\nb\x1b", lines=True)


@given(st.text())
def test_display_leaves_no_unsafe_character(text: str) -> None:
    """Whatever the text, the displayed form has no control or bidi character left."""
    shown = display(text)
    assert not any(
        ord(c) < 0x20
        or 0x7F <= ord(c) <= 0x9F
        or c
        in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u2028\u2029"
        for c in shown
    )
