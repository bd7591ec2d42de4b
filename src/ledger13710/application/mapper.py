"""Stores msgspec Struct events through eventsourcing.

The stock :class:`eventsourcing.persistence.Mapper` reads ``vars(event)``, which a Struct does
not have. This mapper encodes the whole Struct with msgspec (one C call) and decodes by topic
with a typed decoder built once per topic.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.persistence import (
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    Transcoder,
)

import ledger13710.domain.cases  # registers the case topics
import ledger13710.domain.key_events
import ledger13710.domain.points_ledger  # registers the points topics (periods, appeals)
import ledger13710.domain.reminder_events  # noqa: F401 - registers the reminder topics
from ledger13710.domain.events import EVENT_TYPES
from ledger13710.domain.upcasting import UnknownTopicError, decode_any

_encoder = msgspec.json.Encoder()
_decoders: dict[str, msgspec.json.Decoder[Any]] = {}


def decoder_for(topic: str) -> msgspec.json.Decoder[Any]:
    """The typed decoder of ``topic``; unknown topics raise ``MapperDeserialisationError``."""
    try:
        return _decoders[topic]
    except KeyError:
        pass
    try:
        cls = EVENT_TYPES[topic]
    except KeyError:
        msg = f"unknown event topic {topic!r}: this version of ledger13710 cannot read it"
        raise MapperDeserialisationError(msg) from None
    dec: msgspec.json.Decoder[Any] = msgspec.json.Decoder(cls)
    _decoders[topic] = dec
    return dec


def topic_of(event: object) -> str:
    """The stable topic of an event instance."""
    topic = getattr(type(event), "TOPIC", "")
    if not topic or topic not in EVENT_TYPES:
        msg = f"{type(event).__name__} has no registered topic"
        raise TypeError(msg)
    return str(topic)


def encode_event(event: object) -> bytes:
    """Canonical JSON bytes of an event (what is stored, hashed and published)."""
    return _encoder.encode(event)


def decode_event(topic: str, state: bytes) -> Any:
    """Decode stored or received bytes of ``topic`` into today's event class.

    A current topic goes through its cached typed decoder; a retired one through its
    upcasters (:func:`ledger13710.domain.upcasting.decode_any`). Bytes that do not decode
    (unknown topic, not JSON, not the schema) raise ``MapperDeserialisationError``, the one
    error a caller that receives them from elsewhere names.
    """
    try:
        if topic in EVENT_TYPES:
            return decoder_for(topic).decode(state)
        return decode_any(topic, state)
    except UnknownTopicError as e:
        raise MapperDeserialisationError(str(e)) from None
    except msgspec.DecodeError as e:
        msg = f"event with topic {topic!r} does not match its schema: {e}"
        raise MapperDeserialisationError(msg) from e


class _NoTranscoder(Transcoder):
    """Placeholder: the base Mapper wants a transcoder; msgspec does the work here."""

    def encode(self, obj: Any) -> bytes:
        raise NotImplementedError

    def decode(self, data: bytes) -> Any:
        raise NotImplementedError


class MsgspecMapper(Mapper[UUID]):
    """Maps msgspec Struct events to :class:`StoredEvent` and back."""

    def __init__(self) -> None:
        super().__init__(transcoder=_NoTranscoder())

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        """Encode ``domain_event`` under its stable topic."""
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=topic_of(domain_event),
            state=_encoder.encode(domain_event),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        """Decode a stored record; its ids must agree with the payload's."""
        event = decode_event(stored_event.topic, stored_event.state)
        oid = stored_event.originator_id
        if (UUID(str(oid)) if not isinstance(oid, UUID) else oid) != event.originator_id or (
            stored_event.originator_version != event.originator_version
        ):
            msg = (
                f"stored event {stored_event.originator_id} v{stored_event.originator_version} "
                "does not match its payload"
            )
            raise MapperDeserialisationError(msg)
        return event
