"""Compatibility of a topic's schema today with its frozen copy in ``tests/golden/schemas/``.

:func:`breaking_changes` names every change that would stop events stored under the frozen
schema from loading; ``tests/unit/test_event_versions.py`` requires there be none.
"""

from __future__ import annotations

import json
from typing import Any

from ledger13710.contract.schemas import dumps

#: Keys that document a schema without changing what it accepts.
_DOC_KEYS = frozenset({"title", "description", "examples", "$schema", "$id", "$defs"})
_SHAPE_KEYS = frozenset({"properties", "required", "enum", "$ref"})


def breaking_changes(frozen: dict[str, Any], today: dict[str, Any]) -> list[str]:
    """How ``today``'s schema of a topic breaks events stored under its ``frozen`` copy.

    Breaking: a removed field, a changed type (or component, pattern, format, default), a new
    field without a default, a field that lost its default, a removed enum value. Allowed: new
    fields with defaults, new enum values, changed titles, descriptions and ``$id``, and the
    annotations that only document what the code always wrote (:func:`_documents_only`).
    """
    found: list[str] = []
    old, new = (json.loads(dumps(schema)) for schema in (frozen, today))  # tuples -> lists
    _Compare(old.get("$defs", {}), new.get("$defs", {}), found).run(old, new, "")
    return found


class _Compare:
    def __init__(self, old_defs: dict[str, Any], new_defs: dict[str, Any], found: list[str]):
        self.old_defs, self.new_defs, self.found = old_defs, new_defs, found
        self.seen: set[str] = set()

    def run(self, old: dict[str, Any], new: dict[str, Any], where: str) -> None:
        old_ref, new_ref = old.get("$ref"), new.get("$ref")
        if old_ref is not None or new_ref is not None:
            if old_ref != new_ref or old_ref is None:
                self.found.append(f"{where or 'top'}: type changed from {old} to {new}")
                return
            name = old_ref.rsplit("/", 1)[-1]
            if name not in self.seen:
                self.seen.add(name)
                self.run(self.old_defs[name], self.new_defs.get(name, {}), name)
        if "properties" in old:
            self._fields(old, new, where)
        removed = set(old.get("enum", [])) - set(new.get("enum", []))
        if removed:
            self.found.append(f"{where}: enum values removed: {sorted(removed)}")
        for key in sorted((set(old) | set(new)) - _DOC_KEYS - _SHAPE_KEYS):
            if key == "default" and key not in new:
                continue  # reported as "field lost its default"
            if key not in old and _documents_only(key, new[key]):
                continue
            self._value(old.get(key), new.get(key), f"{where}[{key}]")

    def _fields(self, old: dict[str, Any], new: dict[str, Any], where: str) -> None:
        before, after = old["properties"], new.get("properties", {})
        was_required, required = set(old.get("required", [])), set(new.get("required", []))
        for name, schema in before.items():
            if name not in after:
                self.found.append(f"{where}.{name}: field removed")
            else:
                self.run(schema, after[name], f"{where}.{name}")
                if name in required - was_required:
                    self.found.append(f"{where}.{name}: field lost its default")
        for name in sorted(set(after) - set(before)):
            if name in required:
                self.found.append(f"{where}.{name}: new field without a default")

    def _value(self, old: object, new: object, where: str) -> None:
        if isinstance(old, dict) and isinstance(new, dict):
            self.run(old, new, where)
        elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
            for i, (a, b) in enumerate(zip(old, new, strict=True)):
                self._value(a, b, f"{where}[{i}]")
        elif old != new:
            self.found.append(f"{where}: changed from {old!r} to {new!r}")


def _documents_only(key: str, added: object) -> bool:
    """Whether a key added to a frozen schema only documents the values the code has always
    written: ``format: date-time`` on a datetime field (which msgspec always decoded as one; a
    ``str`` field turned datetime fails the golden sample's decoding instead), or the known
    values of a string field (an ``enum``, or an ``anyOf`` of ``enum`` and ``pattern``)."""
    if key == "format":
        return added == "date-time"
    if key == "anyOf" and isinstance(added, list):
        return all(isinstance(b, dict) and set(b) <= {"enum", "pattern"} for b in added)
    return False
