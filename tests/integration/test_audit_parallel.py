"""Property: verifying a log in chunks and processes reports exactly what one pass reports."""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime
from pathlib import Path

import pytest
from audit_helpers import Tamper, audit_template
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger13710.audit.store import open_audit_store
from ledger13710.audit.verify import Report, verify_log
from ledger13710.domain.clock import ManualClock
from ledger13710.domain.types import SHANGHAI
from ledger13710.node.bootstrap import open_node


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite node with items, three checkpoints and a key rotation (copied per example)."""
    return audit_template(tmp_path_factory.mktemp("audit-parallel"), (3, 2, 2))


def _verify(node_dir: Path, key: str, processes: int) -> Report:
    store = open_audit_store(node_dir)
    try:
        return verify_log(store, trusted_keys=[key], processes=processes, min_parallel=0)
    finally:
        store.close()


def _same(node_dir: Path, key: str) -> Report:
    one = _verify(node_dir, key, 1)
    for processes in (2, 3, 5):
        assert _verify(node_dir, key, processes) == one
    return one


def test_an_intact_log_verifies_in_chunks(template: Path) -> None:
    """Split anywhere, the intact template verifies with all its checkpoints."""
    key = open_node(template).config.node.public_key
    report = _same(template, key)
    assert report.ok
    assert report.checkpoints == 3
    assert report.rotations == 1


TAMPERING = st.lists(
    st.tuples(
        st.sampled_from(
            ["change", "delete", "swap", "insert", "record_hash", "chain_hash", "text", "oid"]
        ),
        st.integers(1, 200),
        st.integers(1, 200),
    ),
    min_size=1,
    max_size=3,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=TAMPERING)
def test_chunks_report_what_one_pass_reports(
    template: Path, steps: list[tuple[str, int, int]]
) -> None:
    """Whatever is tampered with, and however the log is split, the report is the same."""
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(template, Path(tmp) / "node")
        node = open_node(Path(tmp) / "node", ManualClock(datetime(2016, 10, 21, tzinfo=SHANGHAI)))
        last = node.app.recorder.max_notification_id() or 0
        key = node.config.node.public_key
        node.close()
        tamper = Tamper(node)
        retyped: set[int] = set()
        try:
            for action, x, y in steps:
                a, b = 1 + x % last, 1 + y % last
                present = {r[0] for r in tamper.sql("SELECT rowid FROM stored_events")}
                if action in {"record_hash", "chain_hash"}:
                    tamper.sql(f"UPDATE chain SET {action} = ? WHERE seq = ?", bytes(32), a)
                elif action == "insert" and 1 in present - retyped:
                    tamper.insert(a if a not in present else max(present | {last}) + 1)
                elif action == "text" and a in present:  # a column rewritten with another type
                    retyped.add(a)
                    tamper.sql(
                        "UPDATE stored_events SET state = CAST(state AS TEXT) WHERE rowid = ?", a
                    )
                elif action == "oid" and a in present:
                    retyped.add(a)
                    tamper.sql("UPDATE stored_events SET originator_id = 'x-y' WHERE rowid = ?", a)
                elif action in {"change", "delete", "swap"} and a in present - retyped:
                    if action == "swap" and b not in present - retyped - {a}:
                        continue
                    if action == "swap":
                        tamper.swap(min(a, b), max(a, b))
                    else:
                        getattr(tamper, action)(a)
        finally:
            tamper.close()
        _same(node.dir, key)
