"""Old event topics stay readable: upcasters turn a stored old version into the current one.

A breaking change to an event is a new class with a new ``.vN`` topic; the old class is
removed from :data:`~ledger13710.domain.events.EVENT_TYPES` and an *upcaster* is registered
here: a function from the old version's decoded payload (plain builtins: dicts, lists,
strings, numbers) to the next version's. :func:`decode_any` decodes an old topic's bytes into
builtins, applies the upcasters step by step (v1 -> v2 -> v3 ...), then converts the result
to the current Struct with :func:`msgspec.convert`, which checks every field.

Register real upcasters at the bottom of this module, so every topic's chain reads in one
place; the stored topic never changes (an event stored as ``...v1`` is ``...v1`` forever,
and its stored bytes and hashes stay valid).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from ledger13710.domain.errors import LedgerError
from ledger13710.domain.events import EVENT_TYPES

#: One upcasting step: the payload of one version, as builtins -> the next version's.
Upcast = Callable[[dict[str, Any]], dict[str, Any]]


class UnknownTopicError(LedgerError):
    """A stored topic that neither a registered event type nor an upcaster knows."""


class Upcasters:
    """A registry of upcasting steps towards the current types in ``types``."""

    def __init__(self, types: Mapping[str, type[msgspec.Struct]]) -> None:
        self.types = types
        self.steps: dict[str, tuple[str, Upcast]] = {}

    def register(self, old: str, new: str) -> Callable[[Upcast], Upcast]:
        """Decorator: ``fn`` turns a payload of topic ``old`` into one of topic ``new``."""

        def add(fn: Upcast) -> Upcast:
            if old in self.steps:
                msg = f"an upcaster from {old} is already registered"
                raise RuntimeError(msg)
            if old == new:
                msg = f"an upcaster from {old} must lead to another topic"
                raise RuntimeError(msg)
            self.steps[old] = (new, fn)
            return fn

        return add

    def current(self, topic: str) -> str:
        """The topic that ``topic`` is upcast to (itself when it is current)."""
        seen = [topic]
        while topic not in self.types:
            try:
                topic = self.steps[topic][0]
            except KeyError:
                msg = (
                    f"unknown event topic {seen[0]!r}: this version of ledger13710 cannot "
                    "read it (no event type and no upcaster)"
                )
                raise UnknownTopicError(msg) from None
            if topic in seen:
                msg = f"upcasters of {seen[0]!r} loop: {' -> '.join([*seen, topic])}"
                raise UnknownTopicError(msg)
            seen.append(topic)
        return topic

    def decode(self, topic: str, data: bytes) -> Any:
        """Decode stored bytes of ``topic`` (current or old) into the current event type.

        Raises :class:`UnknownTopicError`, or :class:`msgspec.DecodeError` (its subclass
        :class:`msgspec.ValidationError` included) when the bytes do not fit.
        """
        cls = self.types.get(topic)
        if cls is not None:
            return msgspec.json.decode(data, type=cls)
        target = self.current(topic)
        payload = msgspec.json.decode(data, type=dict[str, Any])
        while topic != target:
            topic, step = self.steps[topic]
            payload = step(payload)
        return msgspec.convert(payload, self.types[target])

    def problems(self) -> list[str]:
        """What is wrong with the registry: a step from a current topic, or a broken chain."""
        found = [
            f"{old} is still a current topic, so its upcaster would never run"
            for old in self.steps
            if old in self.types
        ]
        for old in sorted(self.steps):
            try:
                self.current(old)
            except UnknownTopicError as e:
                found.append(str(e))
        return found


#: The real registry, towards every registered event type.
UPCASTERS = Upcasters(EVENT_TYPES)
upcaster = UPCASTERS.register


def decode_any(topic: str, data: bytes) -> Any:
    """Decode stored or received bytes of any topic ever published into today's event."""
    return UPCASTERS.decode(topic, data)


# --- registered upcasters ------------------------------------------------------------------
# None yet: every published topic is still at .v1. Add each step as
#
#     @upcaster("ledger13710.item.Example.v1", "ledger13710.item.Example.v2")
#     def _example_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
#         new = dict(payload)
#         new["new_name"] = new.pop("old_name")
#         return new
#
# keeping ``originator_id`` and ``originator_version`` as they are.
