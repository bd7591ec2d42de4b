"""Read the stores of a local federation's nodes directly, and wait for what they show.

The part of :class:`ledger13710.testing.localfed.LocalFederation` that tests, the demo
and the benchmarks use to look at a running federation from outside: each node's own log and
replica store are opened read-only (never through the node's own code), and polling helpers
wait for a condition with a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from uuid import UUID

from ledger13710.log.record import Record, make_record


class FederationProbe:
    """Read-only views of the node directories under :attr:`base`."""

    base: Path

    def node_dir(self, node_id: str) -> Path:
        """The node's data directory."""
        return self.base / node_id

    # -- waiting -----------------------------------------------------------------------------

    @staticmethod
    def wait_until(
        predicate: Callable[[], Any], timeout: float, *, interval: float = 0.05, what: str = ""
    ) -> Any:
        """Poll ``predicate`` until it returns something truthy (returned); TimeoutError after."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"not within {timeout}s: {what or predicate!r}")
            time.sleep(interval)

    @staticmethod
    async def async_wait_until(
        predicate: Callable[[], Awaitable[Any]],
        timeout: float,
        *,
        interval: float = 0.05,
        what: str = "",
    ) -> Any:
        """Like :meth:`wait_until` for an async predicate."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = await predicate()
            if value:
                return value
            if loop.time() > deadline:
                raise TimeoutError(f"not within {timeout}s: {what or predicate!r}")
            await asyncio.sleep(interval)

    # -- the stores, read directly -----------------------------------------------------------

    def _query(self, node_id: str, file: str, sql: str, *params: object) -> list[Any]:
        """Rows of a read-only query on one of the node's SQLite files ([] while it is absent)."""
        path = self.node_dir(node_id) / file
        if not path.exists():
            return []
        with contextlib.closing(
            sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=10)
        ) as db:
            db.row_factory = sqlite3.Row
            return db.execute(sql, params).fetchall()

    def own_records(self, node_id: str) -> list[Record]:
        """The node's own log as the publisher sends it (origin, seq, prev, hash, event bytes)."""
        rows = self._query(
            node_id, "events.sqlite", "SELECT rowid, originator_id, originator_version, topic, "
            "state FROM stored_events ORDER BY rowid",
        )  # fmt: skip
        out: list[Record] = []
        prev = 0
        for seq, oid, version, topic, state in rows:
            out.append(
                make_record(node_id, seq, prev, topic, str(UUID(str(oid))), version, bytes(state))
            )
            prev = int(seq)
        return out

    def own_hashes(self, node_id: str) -> list[tuple[int, str]]:
        """(seq, hash) of every record of the node's own log."""
        return [(r.seq, r.hash) for r in self.own_records(node_id)]

    def replica_chains(self, node_id: str) -> dict[str, list[tuple[int, int, str]]]:
        """origin -> [(seq, prev, hash)] of every record the node holds of its descendants."""
        out: dict[str, list[tuple[int, int, str]]] = {}
        sql = "SELECT origin, seq, prev, hash FROM replica_events ORDER BY origin, seq"
        for origin, seq, prev, h in self._query(node_id, "replicas.sqlite", sql):
            out.setdefault(str(origin), []).append((int(seq), int(prev), str(h)))
        return out

    def replica_hashes(self, node_id: str) -> dict[str, list[tuple[int, str]]]:
        """origin -> [(seq, hash)] of every record the node holds of its descendants."""
        chains = self.replica_chains(node_id).items()
        return {origin: [(seq, h) for seq, _prev, h in chain] for origin, chain in chains}

    def replica_positions(self, node_id: str) -> dict[str, dict[str, Any]]:
        """origin -> the node's ``replica_positions`` row (last_seq, count, blocked, …)."""
        rows = self._query(node_id, "replicas.sqlite", "SELECT * FROM replica_positions")
        return {str(r["origin"]): dict(r) for r in rows}

    def lags_ms(self, node_id: str, origin: str | None = None) -> list[float]:
        """Publish-to-ingest delay (ms) of every record the node ingested (of ``origin``) by the
        stream; records refetched from their origin carry no publish time and are left out."""
        sql = "SELECT ingested_ns - published_ns FROM replica_events WHERE published_ns > 0"
        if origin is None:
            rows = self._query(node_id, "replicas.sqlite", sql + " ORDER BY origin, seq")
        else:
            rows = self._query(node_id, "replicas.sqlite", sql + " AND origin = ? ORDER BY seq",
                               origin)  # fmt: skip
        return [r[0] / 1e6 for r in rows]
