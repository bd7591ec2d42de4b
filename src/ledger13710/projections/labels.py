"""Chinese labels of the ledger's codes, for spreadsheets (and back, for import).

The names come from the one message catalog (:mod:`ledger13710.i18n`); only the short clock
names of the workbook's column headers are the workbook's own.
"""

from __future__ import annotations

from collections.abc import Mapping

from ledger13710.i18n import codes

SOURCE_ZH = codes("source")
SEVERITY_ZH = codes("severity")
TIER_ZH = codes("tier")
STATE_ZH = codes("state")
LIGHT_ZH = codes("light")
#: Clock names as the workbook's headers use them (``部署时限``, ``部署完成`` …).
CLOCK_ZH = {
    "deploy": "部署",
    "feedback": "反馈",
    "resolve": "解决",
    "plan": "方案目标",
    "milestone": "方案节点",
}


def code_of(value: str, labels: Mapping[str, str]) -> str | None:
    """The code whose code or label is ``value`` (None when neither)."""
    value = value.strip()
    if value in labels:
        return value
    return next((code for code, label in labels.items() if label == value), None)
