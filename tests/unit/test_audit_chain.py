"""The one record hash, the chain built on it, and ``verify_next`` checking links."""

from __future__ import annotations

from hashlib import sha256

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger13710.log.chain import GENESIS, ChainError, LogEntry, link, verify_next
from ledger13710.log.record import make_record, record_digest, record_hash

texts = st.text(min_size=1, max_size=20)


@given(texts, st.integers(1, 10**9), st.integers(0, 10**9), texts, texts, st.integers(1, 999),
       st.binary(max_size=300))  # fmt: skip
def test_record_hash_is_sha256_over_the_envelope_and_the_event_bytes(
    origin: str, seq: int, prev: int, topic: str, oid: str, version: int, state: bytes
) -> None:
    """The one record hash is SHA-256 over NUL-ended envelope fields then the event bytes; the
    chain uses it raw, replication as hex (so a parent can compare what it received)."""
    fields = f"{origin}\x00{seq}\x00{prev}\x00{topic}\x00{oid}\x00{version}\x00".encode()
    expected = sha256(fields + state).digest()
    assert expected == record_digest(origin, seq, prev, topic, oid, version, state)
    assert expected.hex() == record_hash(origin, seq, prev, topic, oid, version, state)


def test_verify_next_follows_link_and_refuses_a_wrong_chain_hash() -> None:
    """A receiver continues the chain from GENESIS; a wrong chain hash or content is named."""
    rows = [LogEntry(3, "t", "o", 1, b"a"), LogEntry(7, "t", "o", 2, b"b")]
    chained = link("sx", 0, GENESIS, rows)
    records = [
        make_record("sx", 3, 0, "t", "o", 1, b"a"),
        make_record("sx", 7, 3, "t", "o", 2, b"b"),
    ]
    h = GENESIS.hex()
    for record, (_, _, _, ch) in zip(records, chained, strict=True):
        h = verify_next(h, record, ch.hex())
    assert chained[-1][3].hex() == h
    with pytest.raises(ChainError, match="sx:7: chain hash does not continue"):
        verify_next(GENESIS.hex(), records[1], chained[1][3].hex())
    altered = make_record("sx", 7, 3, "t", "o", 2, b"b")
    forged = type(altered)(**{**{f: getattr(altered, f) for f in altered.__struct_fields__},
                              "state": b"c"})  # fmt: skip
    with pytest.raises(ChainError, match="content does not match"):
        verify_next(chained[0][3].hex(), forged, chained[1][3].hex())
