"""Property: with its parent's witness, no single tampering of a node's store verifies intact.

The witness is the checkpoints a parent verified as the node's log arrived (here: the store's
own, copied before the tampering, as the parent keeps them). Whatever one change an insider
makes — an event changed, deleted, swapped or inserted, the tail cut off, or the log re-chained
from a record on with its checkpoint rows deleted or kept — ``audit verify`` against the witness
never says intact.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from audit_helpers import Tamper, audit_template
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger13710.audit.store import Checkpoint, open_audit_store
from ledger13710.audit.verify import Report, verify_log
from ledger13710.node.bootstrap import open_node


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite node with items, a key rotation and checkpoints up to its last record."""
    return audit_template(tmp_path_factory.mktemp("witness-template"), (4, 3))


def _verify(node_dir: Path, key: str, witnessed: list[Checkpoint]) -> Report:
    store = open_audit_store(node_dir)
    try:
        return verify_log(store, trusted_keys=[key], witnessed=witnessed)
    finally:
        store.close()


def _checkpoints(node_dir: Path) -> list[Checkpoint]:
    store = open_audit_store(node_dir)
    try:
        return store.checkpoints()
    finally:
        store.close()


ACTIONS = st.sampled_from(
    ["change", "delete", "swap", "insert", "truncate", "rechain-deleted", "rechain-kept"]
)


def _tamper(tamper: Tamper, origin: str, action: str, a: int, b: int, last: int) -> None:
    if action == "insert":
        tamper.insert(last + 1)
    elif action == "swap":
        tamper.swap(min(a, b), max(a, b))
    elif action == "truncate":
        tamper.truncate(a)
    elif action.startswith("rechain"):
        tamper.rechain(origin, a)
        if action == "rechain-deleted":
            tamper.sql("DELETE FROM checkpoints")
    else:
        getattr(tamper, action)(a)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(action=ACTIONS, data=st.data())
def test_no_single_tampering_verifies_intact_against_the_witness(
    template: Path, action: str, data: st.DataObject
) -> None:
    """Any one tampering anywhere, checked against the witnessed checkpoints: not intact."""
    with tempfile.TemporaryDirectory() as tmp:
        node_dir = Path(tmp) / "node"
        shutil.copytree(template, node_dir)
        node = open_node(node_dir)
        last = node.app.recorder.max_notification_id() or 0
        key, origin = node.config.node.public_key, node.id
        node.close()
        witnessed = _checkpoints(node_dir)
        assert witnessed[-1].last_seq == last  # the witness covers the whole log
        a = data.draw(st.integers(1, last))
        b = data.draw(st.integers(1, last).filter(lambda x: x != a))
        tamper = Tamper(node)
        try:
            _tamper(tamper, origin, action, a, b, last)
        finally:
            tamper.close()
        report = _verify(node_dir, key, witnessed)
        assert not report.ok, (action, a, b)


def test_the_untouched_store_verifies_against_its_witness(template: Path) -> None:
    """The property above is not vacuous: the same store, untouched, is intact and signed."""
    with tempfile.TemporaryDirectory() as tmp:
        node_dir = Path(tmp) / "node"
        shutil.copytree(template, node_dir)
        node = open_node(node_dir)
        key = node.config.node.public_key
        node.close()
        report = _verify(node_dir, key, _checkpoints(node_dir))
        assert (report.ok, report.unsigned) == (True, 0)
