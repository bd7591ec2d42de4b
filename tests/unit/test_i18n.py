"""The message catalog: both languages complete, the language chosen, every event's text."""

from __future__ import annotations

import string
from typing import Any

import msgspec
import pytest
from domain_helpers import drive_to, perform

from ledger13710.contract.schemas import load_event_modules
from ledger13710.domain import events as ev
from ledger13710.domain.errors import InputError
from ledger13710.domain.state import State
from ledger13710.i18n import Catalog, Lang, lang_from
from ledger13710.i18n.catalog import EN, ZH
from ledger13710.i18n.events import event_text


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_languages_have_the_same_keys_and_placeholders() -> None:
    """Every key of zh-CN exists in English with the same {placeholders}, and no more."""
    assert ZH.keys() == EN.keys()
    for kind in ZH:
        assert ZH[kind].keys() == EN[kind].keys(), kind
        for key, zh in ZH[kind].items():
            assert _placeholders(zh) == _placeholders(EN[kind][key]), (kind, key)


def test_every_event_kind_has_a_name() -> None:
    """Each item event class, of every module that defines one, is named in the catalog (so no
    class name reaches a screen)."""
    load_event_modules()
    kinds = {cls.__name__ for cls in ev.ItemEvent.__subclasses__()}
    assert kinds - set(ZH["event"]) == set()


@pytest.mark.parametrize(
    ("option", "env", "expected"),
    [
        (None, {}, "zh-CN"),
        ("en", {}, "en"),
        (None, {"LEDGER13710_LANG": "en_US.UTF-8"}, "en"),
        ("zh-CN", {"LEDGER13710_LANG": "en"}, "zh-CN"),
        (None, {"LEDGER13710_LANG": "zh_CN.UTF-8"}, "zh-CN"),
    ],
)
def test_language_from_option_then_environment(
    option: str | None, env: dict[str, str], expected: str
) -> None:
    """--lang wins over $LEDGER13710_LANG, which wins over the zh-CN default."""
    assert expected == lang_from(option, env)


def test_unknown_language_is_one_clear_error() -> None:
    """A language without a catalog is refused, naming the ones there are."""
    with pytest.raises(InputError, match=r"unknown language 'fr'; choose one of: zh-CN, en"):
        lang_from("fr", {})


def _history() -> list[ev.ItemEvent]:
    """An item through a return, a plan, an extension both ways, an urge, a part and a cancel."""
    sc = drive_to(State.IN_PROGRESS, ready_for="review-part")
    for action in ("urge", "return", "feedback", "plan", "progress", "extend"):
        perform(sc, action)
    perform(sc, "extend-decision")
    perform(sc, "extend", choice=1)
    perform(sc, "extend-decision", choice=1)
    perform(sc, "review-part")
    perform(sc, "cancel")
    sc.flush()
    return sc.history


#: The field of each event kind whose words a person must see.
SAID = {
    "Deployed": "note", "FeedbackSubmitted": "content", "ProgressReported": "content",
    "PlanSubmitted": "reason", "ExtensionRequested": "reason", "ExtensionDenied": "reason",
    "Returned": "reason", "Urged": "message", "Cancelled": "reason", "PartReviewed": "text",
    "SubAssigned": "part", "Assigned": "note",
}  # fmt: skip


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_every_event_shows_what_was_said(lang: Lang) -> None:
    """Feedback, progress, plan milestones, reasons, urges and decisions appear in the text."""
    cat = Catalog(lang)
    seen: set[str] = set()
    for e in _history():
        kind = type(e).__name__
        fields: dict[str, Any] = msgspec.to_builtins(e)
        text = event_text(cat, kind, fields, unit_name=lambda u: f"<{u}>")
        if kind in SAID:
            assert fields[SAID[kind]] in text, (kind, text)
            seen.add(kind)
        if kind == "PlanSubmitted":
            assert all(m["title"] in text for m in fields["milestones"])
        if kind == "Cancelled":
            assert fields["approved_by"] in text
        if kind == "SubAssigned":
            assert f"<{fields['to_unit']}>" in text
    assert set(SAID) == seen
