"""CSV cells: text a spreadsheet would run as a formula is escaped, and every text round-trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger13710.projections.csvcells import from_csv, to_csv


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("http://x","点")', "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "'=1"],
)
def test_formula_starts_are_written_as_text(text: str) -> None:
    """Each start a spreadsheet runs (and our own apostrophe) gets one leading apostrophe."""
    assert "'" + text == to_csv(text)


@pytest.mark.parametrize("text", ["风电法兰运输受阻", "1+1", "a=b", "", "sx-2016-0001"])
def test_plain_text_is_written_as_it_is(text: str) -> None:
    """Text that does not start like a formula is not touched."""
    assert text == to_csv(text)


@given(st.text())
def test_every_text_round_trips(text: str) -> None:
    """Reading back what was written gives the text exactly."""
    assert text == from_csv(to_csv(text))
