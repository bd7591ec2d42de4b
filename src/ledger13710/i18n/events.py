"""What an event says, as a person reads it: the feedback, the reason, the urge's words.

Works on an event's fields as plain data (``msgspec.to_builtins`` of a domain event, or the
payload a view stored), so the item view and the timeline view show the same text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from ledger13710.domain.types import SHANGHAI
from ledger13710.i18n import Catalog

UnitName = Callable[[str], str]


def when(value: Any) -> str:
    """An ISO instant (or datetime) as Shanghai wall time, minutes precision."""
    t = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return t.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def event_text(cat: Catalog, kind: str, f: Mapping[str, Any], unit_name: UnitName = str) -> str:
    """The text of one event of ``kind`` with fields ``f``; "" when it carries none."""
    parts = _PARTS.get(kind, _nothing)(cat, f, unit_name)
    sep = "; " if cat.lang == "en" else "；"
    return sep.join(p for p in parts if p)


Parts = Callable[[Catalog, Mapping[str, Any], UnitName], list[str]]


def _nothing(_cat: Catalog, _f: Mapping[str, Any], _u: UnitName) -> list[str]:
    return []


def _field(name: str) -> Parts:
    return lambda _cat, f, _u: [str(f.get(name, ""))]


def _registered(cat: Catalog, f: Mapping[str, Any], _u: UnitName) -> list[str]:
    return [str(f.get("part") or f.get("detail", ""))]


def _progress(cat: Catalog, f: Mapping[str, Any], _u: UnitName) -> list[str]:
    n = int(f.get("milestone", 0))
    return [str(f.get("content", "")) + (cat.text("met_milestone", n=n) if n else "")]


def _plan(cat: Catalog, f: Mapping[str, Any], _u: UnitName) -> list[str]:
    steps = [
        cat.text("milestone", n=i, title=m["title"], due=when(m["due_at"]))
        for i, m in enumerate(f.get("milestones", ()), 1)
    ]
    return [str(f.get("reason", "")), *steps, cat.text("target", due=when(f["target_at"]))]


def _asked(cat: Catalog, f: Mapping[str, Any], _u: UnitName) -> list[str]:
    clock = cat.name("clock", str(f["clock"]))
    return [f"{clock} {cat.text('until', due=when(f['requested_due']))}", str(f["reason"])]


def _approved(cat: Catalog, f: Mapping[str, Any], _u: UnitName) -> list[str]:
    clock = cat.name("clock", str(f["clock"]))
    return [f"{clock} {cat.text('until', due=when(f['deadline']['due_at']))}", str(f["note"])]


def _denied(cat: Catalog, f: Mapping[str, Any], _u: UnitName) -> list[str]:
    return [cat.name("clock", str(f["clock"])), str(f["reason"])]


def _returned(cat: Catalog, f: Mapping[str, Any], _u: UnitName) -> list[str]:
    stage = cat.name("stage", str(f["stage"]))
    return [cat.text("returns", stage=stage, n=f["returns"]), str(f["reason"])]


def _cancelled(cat: Catalog, f: Mapping[str, Any], _u: UnitName) -> list[str]:
    return [str(f["reason"]), cat.text("approved_by", who=f["approved_by"])]


def _sub_assigned(cat: Catalog, f: Mapping[str, Any], unit: UnitName) -> list[str]:
    return [cat.text("part", number=f["child_number"], unit=unit(f["to_unit"]), part=f["part"])]


def _child(cat: Catalog, f: Mapping[str, Any], unit: UnitName) -> list[str]:
    state = cat.name("state", str(f["child_state"]))
    return [cat.text("child", number=f["child_number"], unit=unit(f["child_unit"]), state=state)]


def _reviewed(cat: Catalog, f: Mapping[str, Any], _u: UnitName) -> list[str]:
    action = cat.name("review", str(f["action"]))
    until = cat.text("until", due=when(f["until"])) if f.get("until") else ""
    approved = cat.text("approved_by", who=f["approved_by"]) if f.get("approved_by") else ""
    return [f"{f['child_number']} {action}", until, str(f["text"]), approved]


_PARTS: dict[str, Parts] = {
    "Registered": _registered,
    "Assigned": _field("note"),
    "SubAssigned": _sub_assigned,
    "ChildUpdated": _child,
    "Deployed": _field("note"),
    "FeedbackSubmitted": _field("content"),
    "ProgressReported": _progress,
    "Resolved": _field("content"),
    "PlanSubmitted": _plan,
    "ExtensionRequested": _asked,
    "ExtensionApproved": _approved,
    "ExtensionDenied": _denied,
    "Returned": _returned,
    "Urged": _field("message"),
    "ClosedOut": _field("verdict"),
    "Cancelled": _cancelled,
    "PartReviewed": _reviewed,
}
