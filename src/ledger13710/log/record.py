"""What travels between nodes: one log record with its origin, sequence, back-link and hash.

A record is the origin's stored event, unchanged (the same bytes), plus the envelope:

- ``origin``  the node whose log holds it; ``seq`` its position there (notification id);
- ``prev``    the position of the origin's previous record (0 for the first). Positions may
  have holes (PostgreSQL sequences skip on a rolled-back insert), so order is checked by this
  back-link, never by ``seq + 1``: a record whose ``prev`` is not the last one applied reveals
  a gap, which is refetched from the origin;
- ``hash``    SHA-256 over all of the above, so replicas can be compared by content;
- ``chain``   the origin's chain hash at this record (``log/chain.py``): it commits to the
  whole log up to here, so the parent checks each record continues the chain it holds.

On NATS the payload is the event bytes and the envelope travels in headers.
"""

from __future__ import annotations

import time
from hashlib import sha256

import msgspec

H_MSG_ID = "Nats-Msg-Id"
H_ORIGIN = "L13710-Origin"
H_SEQ = "L13710-Seq"
H_PREV = "L13710-Prev"
H_TOPIC = "L13710-Topic"
H_ORIGINATOR = "L13710-Originator"
H_VERSION = "L13710-Version"
H_HASH = "L13710-Hash"
H_PUBLISHED = "L13710-Published-Ns"
H_KIND = "L13710-Kind"
H_CHAIN = "L13710-Chain"
#: ``L13710-Kind`` of a signed checkpoint on a node's events subject (not a record).
KIND_CHECKPOINT = "checkpoint"


class Record(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    """One record of an origin's log, with its envelope."""

    origin: str
    seq: int
    prev: int
    topic: str
    originator_id: str
    originator_version: int
    state: bytes
    hash: str
    published_ns: int = 0
    chain: str = ""  # hex; last, with a default: fetch replies encode records as arrays


class FetchRequest(msgspec.Struct, frozen=True, kw_only=True):
    """ "Send me your records after position ``after`` (at most ``limit``)."""

    after: int
    limit: int = 200


class FetchReply(msgspec.Struct, frozen=True, kw_only=True):
    """The origin's answer: records in log order, its last position now, and its smallest
    signed checkpoint covering the last record sent, JSON as on its subject (b"" when none):
    the parent applies nothing unsigned."""

    origin: str
    records: list[Record]
    last: int
    checkpoint: bytes = b""


class BadRecordError(Exception):
    """A record from another node that must be quarantined, never applied."""


def record_digest(
    origin: str, seq: int, prev: int, topic: str, originator_id: str, version: int, state: bytes
) -> bytes:
    """The one record hash: SHA-256 over the envelope fields and the event bytes, raw.

    Replication carries it as hex (:func:`record_hash`); the chain and Merkle leaves use the
    raw bytes (``log/chain.py``).
    """
    return sha256(
        f"{origin}\x00{seq}\x00{prev}\x00{topic}\x00{originator_id}\x00{version}\x00".encode()
        + state
    ).digest()


def record_hash(
    origin: str, seq: int, prev: int, topic: str, originator_id: str, version: int, state: bytes
) -> str:
    """The content hash of a record as replication carries it: :func:`record_digest`, hex."""
    return record_digest(origin, seq, prev, topic, originator_id, version, state).hex()


def make_record(
    origin: str, seq: int, prev: int, topic: str, originator_id: str, version: int, state: bytes
) -> Record:
    """Build a record, computing its hash."""
    return Record(
        origin=origin,
        seq=seq,
        prev=prev,
        topic=topic,
        originator_id=originator_id,
        originator_version=version,
        state=state,
        hash=record_hash(origin, seq, prev, topic, originator_id, version, state),
    )


def headers_of(record: Record) -> dict[str, str]:
    """NATS headers that carry a record's envelope."""
    return {
        H_MSG_ID: f"{record.origin}:{record.seq}",
        H_ORIGIN: record.origin,
        H_SEQ: str(record.seq),
        H_PREV: str(record.prev),
        H_TOPIC: record.topic,
        H_ORIGINATOR: record.originator_id,
        H_VERSION: str(record.originator_version),
        H_HASH: record.hash,
        H_PUBLISHED: str(time.time_ns()),
        H_CHAIN: record.chain,
    }


def record_from_message(subject_origin: str, headers: dict[str, str] | None, data: bytes) -> Record:
    """Rebuild a record from a NATS message; :class:`BadRecordError` names what is wrong."""
    if not headers:
        raise BadRecordError("message without headers")
    try:
        record = Record(
            origin=headers[H_ORIGIN],
            seq=int(headers[H_SEQ]),
            prev=int(headers[H_PREV]),
            topic=headers[H_TOPIC],
            originator_id=headers[H_ORIGINATOR],
            originator_version=int(headers[H_VERSION]),
            state=data,
            hash=headers[H_HASH],
            published_ns=int(headers.get(H_PUBLISHED, "0")),
            chain=headers.get(H_CHAIN, ""),
        )
    except KeyError as e:
        raise BadRecordError(f"missing header {e.args[0]}") from None
    except ValueError as e:
        raise BadRecordError(f"bad header value: {e}") from None
    if record.origin != subject_origin:
        raise BadRecordError(
            f"header origin {record.origin!r} differs from subject origin {subject_origin!r}"
        )
    return record


fetch_request_encoder = msgspec.json.Encoder()
fetch_request_decoder = msgspec.json.Decoder(FetchRequest)
fetch_reply_encoder = msgspec.msgpack.Encoder()
fetch_reply_decoder = msgspec.msgpack.Decoder(FetchReply)
