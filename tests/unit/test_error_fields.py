"""Domain errors name the input that was wrong, never a CLI flag; the CLI adds its flag."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ledger13710.cli.main import _flag_of
from ledger13710.domain import guards
from ledger13710.domain.errors import InputError, NotFoundError

DOMAIN = Path(__file__).resolve().parents[2] / "src/ledger13710/domain"


def test_a_missing_text_names_its_field_and_no_flag() -> None:
    """A blank input is refused with a message in domain words and the field it belongs to."""
    with pytest.raises(InputError) as caught:
        guards.need_text("  ", "who approved the cancellation", "approved_by")

    assert str(caught.value) == "missing who approved the cancellation"
    assert caught.value.field == "approved_by"


def test_the_cli_says_the_field_as_its_flag() -> None:
    """The CLI turns the field into its option; an error without a field gets no hint."""
    assert _flag_of(InputError("missing x", field="approved_by")) == " (--approved-by)"
    assert _flag_of(NotFoundError("no item sx-1")) == ""


def test_no_domain_module_names_a_cli_flag() -> None:
    """No text in domain/ spells a command-line option such as ``(--content)``."""
    flags = {
        f"{p.name}: {m.group(0)}"
        for p in DOMAIN.glob("*.py")
        for m in re.finditer(r"\(--[a-z-]+\)", p.read_text("utf-8"))
    }
    assert set() == flags
