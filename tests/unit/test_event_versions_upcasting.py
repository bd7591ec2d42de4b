"""The upcasting mechanism, shown on test-only structs (no real event has a v2 yet)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

import msgspec
import pytest

from ledger13710.domain.types import SHANGHAI
from ledger13710.domain.upcasting import UnknownTopicError, Upcasters

V1, V2, V3 = (f"ledger13710.test.Noted.v{n}" for n in (1, 2, 3))
OID = UUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
AT = datetime(2016, 10, 20, 9, 0, tzinfo=SHANGHAI)


class NotedV1(msgspec.Struct, frozen=True, kw_only=True):
    """Version 1: one free-text ``note`` holding "who: what"."""

    TOPIC: ClassVar[str] = V1
    originator_id: UUID
    originator_version: int
    timestamp: datetime
    note: str


class NotedV2(msgspec.Struct, frozen=True, kw_only=True):
    """Version 2 (breaking): the note split into ``author`` and ``text``."""

    TOPIC: ClassVar[str] = V2
    originator_id: UUID
    originator_version: int
    timestamp: datetime
    author: str
    text: str


class NotedV3(msgspec.Struct, frozen=True, kw_only=True):
    """Version 3 (breaking): ``author`` became a tuple of authors."""

    TOPIC: ClassVar[str] = V3
    originator_id: UUID
    originator_version: int
    timestamp: datetime
    authors: tuple[str, ...]
    text: str


def v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    """Split ``note`` at the first colon."""
    new = dict(payload)
    author, _, text = new.pop("note").partition(":")
    return {**new, "author": author.strip(), "text": text.strip()}


def v2_to_v3(payload: dict[str, Any]) -> dict[str, Any]:
    """One author becomes a list of one."""
    new = dict(payload)
    new["authors"] = [new.pop("author")]
    return new


def registry(*current: type[msgspec.Struct]) -> Upcasters:
    """A registry towards ``current`` types, with both steps registered."""
    reg = Upcasters({cls.TOPIC: cls for cls in current})  # type: ignore[attr-defined]
    reg.register(V1, V2)(v1_to_v2)
    reg.register(V2, V3)(v2_to_v3)
    return reg


def stored_v1() -> bytes:
    """The bytes a node stored when v1 was current."""
    return msgspec.json.encode(
        NotedV1(originator_id=OID, originator_version=3, timestamp=AT, note="c-17: lanes widened")
    )


def test_stored_v1_loads_as_v2() -> None:
    """With v2 current, stored v1 bytes are upcast and converted to ``NotedV2``."""
    event = registry(NotedV2).decode(V1, stored_v1())
    expected = NotedV2(
        originator_id=OID, originator_version=3, timestamp=AT, author="c-17", text="lanes widened"
    )
    assert expected == event


def test_upcasting_goes_step_by_step() -> None:
    """With v3 current, v1 goes through v2 to v3; stored v2 bytes take the last step only."""
    reg = registry(NotedV3)
    event = reg.decode(V1, stored_v1())
    assert (
        NotedV3(
            originator_id=OID,
            originator_version=3,
            timestamp=AT,
            authors=("c-17",),
            text="lanes widened",
        )
        == event
    )
    v2 = msgspec.json.encode(registry(NotedV2).decode(V1, stored_v1()))
    assert event == reg.decode(V2, v2)
    assert reg.current(V1) == V3


def test_current_topics_decode_directly() -> None:
    """A current topic's bytes decode straight into its type, no upcaster involved."""
    reg = registry(NotedV1)
    assert msgspec.json.decode(stored_v1(), type=NotedV1) == reg.decode(V1, stored_v1())


def test_an_unknown_topic_is_named() -> None:
    """A topic with neither a type nor an upcaster raises an error naming it."""
    with pytest.raises(UnknownTopicError, match=r"ledger13710\.test\.Other\.v1"):
        registry(NotedV2).decode("ledger13710.test.Other.v1", b"{}")


def test_an_upcaster_that_yields_a_bad_payload_fails_validation() -> None:
    """The result of upcasting is checked against the current type like any input."""
    reg = Upcasters({V2: NotedV2})
    reg.register(V1, V2)(lambda payload: {**payload, "author": 17, "text": "x"})
    with pytest.raises(msgspec.ValidationError, match="author"):
        reg.decode(V1, stored_v1())


def test_registry_problems_are_reported() -> None:
    """A step from a still-current topic, a dead end and a loop are all named."""
    reg = Upcasters({V1: NotedV1})
    reg.register(V1, V2)(v1_to_v2)
    reg.register(V2, "ledger13710.test.Noted.v9")(v2_to_v3)
    reg.register("ledger13710.test.A.v1", "ledger13710.test.B.v1")(v1_to_v2)
    reg.register("ledger13710.test.B.v1", "ledger13710.test.A.v1")(v1_to_v2)
    found = reg.problems()
    assert any(p.startswith(f"{V1} is still a current topic") for p in found)
    assert any("unknown event topic 'ledger13710.test.Noted.v2'" in p for p in found)
    assert any("loop" in p for p in found)


def test_a_step_is_registered_once() -> None:
    """Two upcasters from the same topic, or one to itself, are refused."""
    reg = registry(NotedV3)
    with pytest.raises(RuntimeError, match="already registered"):
        reg.register(V1, V3)(v1_to_v2)
    with pytest.raises(RuntimeError, match="another topic"):
        reg.register(V3, V3)(v1_to_v2)
