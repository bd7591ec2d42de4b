"""Versioning rules: every event ever stored still loads, and no schema changes incompatibly."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import msgspec
import pytest

from ledger13710.contract import compat as schemas_compat
from ledger13710.contract import schemas as schemas_gen
from ledger13710.domain.events import Fact
from ledger13710.domain.upcasting import UPCASTERS, decode_any

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
FROZEN = GOLDEN / "schemas"
SAMPLES = sorted(p.stem for p in GOLDEN.glob("*.json"))
TYPES = schemas_gen.versioned_types()
TOPIC_RE = re.compile(r"ledger13710\.[a-z]+\.[A-Z][A-Za-z]*\.v[1-9][0-9]*")
FREEZE = "run `python scripts/gen_schemas.py --freeze` to freeze a sample and a schema"


def frozen_schema(topic: str) -> dict[str, Any]:
    """The schema of ``topic`` as it was when the topic was first frozen."""
    schema: dict[str, Any] = json.loads((FROZEN / f"{topic}.json").read_text("utf-8"))
    return schema


@pytest.mark.parametrize("topic", sorted(TYPES))
def test_every_topic_has_a_frozen_sample_and_schema(topic: str) -> None:
    """Each registered topic (snapshots too) has a golden sample and a frozen schema."""
    assert (GOLDEN / f"{topic}.json").is_file(), FREEZE
    assert (FROZEN / f"{topic}.json").is_file(), FREEZE


@pytest.mark.parametrize("topic", sorted(TYPES))
def test_topic_names_are_stable_and_versioned(topic: str) -> None:
    """A topic reads ``ledger13710.<kind>.<Name>.v<N>`` and is its class's own topic."""
    assert TOPIC_RE.fullmatch(topic)
    assert topic == getattr(TYPES[topic], "TOPIC", None)


@pytest.mark.parametrize("topic", SAMPLES)
def test_every_golden_sample_loads_with_todays_code(topic: str) -> None:
    """The frozen bytes of every topic ever stored decode into today's event type."""
    event = decode_any(topic, (GOLDEN / f"{topic}.json").read_bytes())
    assert type(event) is TYPES[UPCASTERS.current(topic)]


@pytest.mark.parametrize("topic", SAMPLES)
def test_todays_schema_is_compatible_with_the_frozen_one(topic: str) -> None:
    """No field of a current topic was removed, retyped, or added without a default."""
    if topic not in TYPES:
        pytest.skip(f"{topic} is superseded; its samples load through upcasters")
    today = schemas_gen.type_schema(topic, TYPES[topic])
    assert schemas_compat.breaking_changes(frozen_schema(topic), today) == []


def test_golden_samples_are_frozen_files_not_regenerated() -> None:
    """A sample is one stored event, byte for byte: compact JSON with no trailing newline."""
    for topic in SAMPLES:
        data = (GOLDEN / f"{topic}.json").read_bytes()
        assert not data.endswith(b"\n"), topic
        assert isinstance(msgspec.json.decode(data), dict), topic


def test_the_real_upcaster_registry_is_sound() -> None:
    """Every registered upcaster starts at a retired topic and leads to a current one."""
    assert UPCASTERS.problems() == []


# --- the compatibility check itself, on small schemas --------------------------------------


class Deadline(msgspec.Struct, kw_only=True):
    """A nested struct, to see changes inside components."""

    due_at: str


class Before(msgspec.Struct, kw_only=True):
    """An event as frozen."""

    number: str
    count: int
    deadline: Deadline
    note: str = ""


def changes(**fields: Any) -> list[str]:
    """Breaking changes from ``Before`` to a struct of ``fields``: type, or (type, default)."""
    spec = [(n, *t) if isinstance(t, tuple) else (n, t) for n, t in fields.items()]
    after = msgspec.defstruct("Before", spec, kw_only=True)
    return schemas_compat.breaking_changes(
        schemas_gen.type_schema("t", Before), schemas_gen.type_schema("t", after)
    )


def test_unchanged_and_compatible_additions_pass() -> None:
    """Same fields, or a new field with a default, break nothing."""
    same = {"number": str, "count": int, "deadline": Deadline, "note": (str, "")}
    assert changes(**same) == []
    assert changes(**same, extra=(int, 0)) == []


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"number": str, "deadline": Deadline, "note": (str, "")},
            "Before.count: field removed",
        ),
        (
            {"number": int, "count": int, "deadline": Deadline, "note": (str, "")},
            "Before.number[type]: changed from 'string' to 'integer'",
        ),
        (
            {"number": str, "count": int, "deadline": Deadline, "note": (str, ""), "x": int},
            "Before.x: new field without a default",
        ),
        (
            {"number": str, "count": int, "deadline": Deadline, "note": str},
            "Before.note: field lost its default",
        ),
        (
            {"number": str, "count": int, "deadline": Deadline, "note": (str, "-")},
            "Before.note[default]: changed from '' to '-'",
        ),
    ],
)
def test_breaking_changes_are_named(fields: dict[str, Any], expected: str) -> None:
    """A removed field, a changed type, a required addition or a changed default is caught."""
    assert [expected] == changes(**fields)


def test_a_changed_component_type_is_caught() -> None:
    """A field whose struct type is swapped for another one is a changed type."""
    other = msgspec.defstruct("Other", [("due_at", str)], kw_only=True)
    found = changes(number=str, count=int, deadline=other, note=(str, ""))
    assert len(found) == 1
    assert found[0].startswith("Before.deadline: type changed")


def test_descriptions_may_change_and_enum_values_may_be_added() -> None:
    """Documentation is free to change; an enum may grow but not shrink."""
    frozen = {"$ref": "#/$defs/S", "$defs": {"S": {"enum": ["a", "b"], "description": "x"}}}
    grown = {"$ref": "#/$defs/S", "$defs": {"S": {"enum": ["a", "b", "c"], "description": "y"}}}
    shrunk = {"$ref": "#/$defs/S", "$defs": {"S": {"enum": ["a"]}}}
    assert schemas_compat.breaking_changes(frozen, grown) == []
    assert schemas_compat.breaking_changes(frozen, shrunk) == ["S: enum values removed: ['b']"]


def test_documenting_what_was_always_written_is_not_a_change() -> None:
    """A ``$id``, ``format: date-time`` on a string and known values (an enum, or enum and
    pattern) may be added to a frozen field; any other format or a changed one is caught."""
    frozen = {"$ref": "#/$defs/S", "$defs": {"S": {"type": "string"}}}

    def today(**added: Any) -> dict[str, Any]:
        return {"$id": "urn:x", "$ref": "#/$defs/S", "$defs": {"S": {"type": "string", **added}}}

    clock = [{"enum": ["deploy"]}, {"pattern": "^milestone-[1-9][0-9]*$"}]
    assert schemas_compat.breaking_changes(frozen, today(format="date-time")) == []
    assert schemas_compat.breaking_changes(frozen, today(enum=["a"], anyOf=clock)) == []
    assert schemas_compat.breaking_changes(frozen, today(format="uuid")) == [
        "S[format]: changed from None to 'uuid'"
    ]
    assert schemas_compat.breaking_changes(today(format="date-time"), today(format="date")) == [
        "S[format]: changed from 'date-time' to 'date'"
    ]
    nullable = [{"type": "string"}, {"type": "null"}]
    assert len(schemas_compat.breaking_changes(frozen, today(anyOf=nullable))) == 1


@pytest.mark.parametrize("topic", sorted(schemas_gen.published_types()))
def test_every_published_fact_starts_with_the_aggregate_fields(topic: str) -> None:
    """Each published topic is a ``Fact``: aggregate id, version and time come first."""
    cls = TYPES[topic]
    assert issubclass(cls, Fact)
    expected = ("originator_id", "originator_version", "timestamp")
    assert expected == cls.__struct_fields__[:3]
