"""Property: one change, deletion, reordering or insertion anywhere is found, at its record."""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime
from pathlib import Path

import pytest
from audit_helpers import Tamper, audit_template, fill
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import write_config_dir
from ledger13710.application.node import Node
from ledger13710.audit.checkpoints import make_checkpoint, rotate_key
from ledger13710.audit.store import open_audit_store
from ledger13710.audit.verify import Problem, Report, verify_log
from ledger13710.domain.clock import ManualClock
from ledger13710.domain.types import SHANGHAI
from ledger13710.node.bootstrap import init_node, open_node


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite node with items, two checkpoints and a key rotation (copied per example)."""
    return audit_template(tmp_path_factory.mktemp("audit-template"), (4, 3))


def _verify(node_dir: Path, key: str) -> Report:
    store = open_audit_store(node_dir)
    try:
        return verify_log(store, trusted_keys=[key])
    finally:
        store.close()


def _copy(template: Path, target: Path) -> Node:
    shutil.copytree(template, target)
    return open_node(target, ManualClock(datetime(2016, 10, 21, tzinfo=SHANGHAI)))


ACTIONS = st.sampled_from(["change", "delete", "swap", "insert"])
EXPECTED = {"change": Problem.CHANGED, "delete": Problem.MISSING, "swap": Problem.REORDERED,
            "insert": Problem.INSERTED}  # fmt: skip


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(action=ACTIONS, data=st.data())
def test_any_single_tampering_is_found_at_its_record(
    template: Path, action: str, data: st.DataObject
) -> None:
    """Whatever record is touched, verify names it first, with the right problem."""
    with tempfile.TemporaryDirectory() as tmp:
        node = _copy(template, Path(tmp) / "node")
        last = node.app.recorder.max_notification_id() or 0
        key = node.config.node.public_key
        node.close()
        tamper = Tamper(node)
        try:
            a = data.draw(st.integers(1, last))
            if action == "insert":
                a = last + 1
                tamper.insert(a)
            elif action == "swap":
                b = data.draw(st.integers(1, last).filter(lambda x: x != a))
                a, b = min(a, b), max(a, b)
                tamper.swap(a, b)
            else:
                getattr(tamper, action)(a)
        finally:
            tamper.close()
        first = _verify(node.dir, key).first
        assert first is not None
        assert (a, EXPECTED[action]) == (first.seq, first.problem)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seq=st.integers(1, 40), column=st.sampled_from(["record_hash", "chain_hash"]))
def test_a_touched_chain_row_is_found_at_its_record(template: Path, seq: int, column: str) -> None:
    """Changing a chain row's hash is found at that row (as a broken chain or a change)."""
    with tempfile.TemporaryDirectory() as tmp:
        node = _copy(template, Path(tmp) / "node")
        last = node.app.recorder.max_notification_id() or 0
        key = node.config.node.public_key
        node.close()
        seq = min(seq, last)
        tamper = Tamper(node)
        try:
            tamper.sql(f"UPDATE chain SET {column} = ? WHERE seq = ?", bytes(32), seq)
        finally:
            tamper.close()
        first = _verify(node.dir, key).first
        assert first is not None
        assert seq == first.seq
        assert first.problem in {Problem.CHAIN, Problem.CHANGED}


COMMANDS = st.lists(st.sampled_from(["items", "checkpoint", "rotate"]), min_size=1, max_size=6)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(commands=COMMANDS)
def test_an_untouched_store_always_verifies(tmp_path: Path, commands: list[str]) -> None:
    """Any mix of writes, checkpoints and key rotations verifies with the node.toml key, once
    a checkpoint signs it; records no checkpoint covers are counted, never hidden."""
    with tempfile.TemporaryDirectory(dir=tmp_path) as tmp:
        node_dir = init_node(write_config_dir(Path(tmp) / "config"), Path(tmp) / "node")
        node = open_node(node_dir, ManualClock(datetime(2016, 10, 20, 9, tzinfo=SHANGHAI)))
        try:
            for command in commands:
                if command == "items":
                    fill(node.app, 1)
                elif command == "checkpoint":
                    make_checkpoint(node)
                else:
                    rotate_key(node)
        finally:
            node.close()
        reopened = open_node(node_dir)
        key = reopened.config.node.public_key
        reopened.close()
        report = _verify(node_dir, key)
        store = open_audit_store(node_dir)
        try:
            signed = max((cp.tree_size for cp in store.checkpoints()), default=0)
        finally:
            store.close()
        assert report.ok == (signed > 0 or report.records == 0)
        assert report.unsigned == report.records - signed
