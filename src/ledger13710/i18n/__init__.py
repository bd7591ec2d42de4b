"""One message catalog for everything a person reads: CLI tables, workbooks and SMS.

zh-CN by default; English on request (``--lang en`` or ``$LEDGER13710_LANG``). Codes stay codes
in events and in ``--json``; only what is shown goes through here. It imports only the domain's
errors, so every layer above the domain may use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from ledger13710.domain.errors import InputError
from ledger13710.i18n.catalog import EN, ZH, Table

Lang = Literal["zh-CN", "en"]
LANGS: tuple[Lang, ...] = ("zh-CN", "en")
DEFAULT: Lang = "zh-CN"
LANG_ENV = "LEDGER13710_LANG"
_TABLES: dict[Lang, Table] = {"zh-CN": ZH, "en": EN}
_ALIASES: dict[str, Lang] = {"zh": "zh-CN", "zh-cn": "zh-CN", "zh_cn": "zh-CN", "en": "en"}


def parse_lang(value: str) -> Lang:
    """``zh-CN`` / ``zh`` / ``en`` (any case, ``_`` or ``-``, an encoding suffix ignored)."""
    key = value.split(".", 1)[0].strip().lower()
    if key.startswith("en"):
        return "en"
    found = _ALIASES.get(key)
    if found is None:
        raise InputError(f"unknown language {value!r}; choose one of: {', '.join(LANGS)}")
    return found


def lang_from(option: str | None, env: Mapping[str, str]) -> Lang:
    """The language asked for: the option, else ``$LEDGER13710_LANG``, else zh-CN."""
    chosen = option or env.get(LANG_ENV, "")
    return parse_lang(chosen) if chosen else DEFAULT


class Catalog:
    """The strings of one language."""

    def __init__(self, lang: Lang = DEFAULT) -> None:
        self.lang = lang
        self._table = _TABLES[lang]

    def name(self, kind: str, code: str) -> str:
        """The shown name of ``code`` of ``kind`` (state, clock, source …); the code if none."""
        if kind == "clock" and code.startswith("milestone-"):
            return f"{self._table['clock']['milestone']} {code.removeprefix('milestone-')}"
        if kind == "clock" and code.startswith("review-extension-"):
            clock = self.name("clock", code.removeprefix("review-extension-"))
            return self._table["clock"]["review-extension"].format(clock=clock)
        return self._table[kind].get(code, code)

    def ui(self, key: str, **values: object) -> str:
        """A phrase of the screens, with its ``{placeholders}`` filled."""
        return self._table["ui"][key].format(**values)

    def sms_template(self, key: str) -> str:
        """An SMS template (``before-due``, ``overdue``, ``urge``, ``due``), unfilled: the SMS
        engine fills it more than once to fit the length of an SMS."""
        return self._table["sms"][key]

    def sms_clock(self, clock: str) -> str:
        """A clock as an SMS names it (``milestone-2`` → ``时间节点2``)."""
        if clock.startswith("milestone-"):
            return self._table["sms_clock"]["milestone"].format(n=clock.removeprefix("milestone-"))
        if clock.startswith("review-extension-"):
            moved = self.sms_clock(clock.removeprefix("review-extension-"))
            return self._table["sms_clock"]["review-extension"].format(clock=moved)
        return self._table["sms_clock"].get(clock, clock)

    def text(self, key: str, **values: object) -> str:
        """A phrase of an event's text, with its ``{placeholders}`` filled."""
        return self._table["text"][key].format(**values)


def codes(kind: str) -> dict[str, str]:
    """The zh-CN names of every code of ``kind``, for reading names back (import)."""
    return dict(ZH[kind])


__all__ = [
    "DEFAULT",
    "LANGS",
    "LANG_ENV",
    "Catalog",
    "Lang",
    "codes",
    "lang_from",
    "parse_lang",
]
