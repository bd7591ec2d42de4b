"""docs/record-format.md is enough to verify a real node's log, checkpoint and proofs.

The node is made with ledger13710 (``scripts/record_format_examples.py``); the checks use only
``tests/independent_verifier.py``, written from the document and importing nothing of ours.
"""

from __future__ import annotations

import ast
import copy
import json
import shutil
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import independent_verifier as iv
from conftest import load_script

ROOT = Path(__file__).resolve().parents[2]
ALLOWED_IMPORTS = {"__future__", "base64", "hashlib", "collections.abc", "typing", "cryptography"}


@pytest.fixture(scope="module")
def script() -> ModuleType:
    """``scripts/record_format_examples.py``, imported."""
    return load_script("record_format_examples")


@pytest.fixture(scope="module")
def log(script: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A real node's messages, first checkpoint, an inclusion proof and its public key."""
    made: dict[str, Any] = script.make_log(tmp_path_factory.mktemp("record-format"))
    return made


def test_the_verifier_imports_nothing_of_ledger13710() -> None:
    """The reference verifier uses the standard library's hashes and cryptography only."""
    tree = ast.parse((ROOT / "tests" / "independent_verifier.py").read_text("utf-8"))
    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    modules |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    roots = {m.split(".")[0] if m.startswith("cryptography") else m for m in modules if m}
    assert roots <= ALLOWED_IMPORTS
    assert "hashlib" in roots
    assert "cryptography" in roots


def test_a_real_nodes_checkpoint_verifies_by_the_document(log: dict[str, Any]) -> None:
    """The signature, root, chain hash and every record hash of a node's first checkpoint
    check out with the document's rules alone."""
    cp, key = log["checkpoint"], log["public_key"]
    headers = [m["headers"] for m in log["messages"]]
    payloads = [m["payload"].encode() for m in log["messages"]]
    iv.check_signature(cp, key)
    iv.check_log(cp, headers, payloads)
    assert cp["tree_size"] == len(payloads) == 5


def test_a_changed_record_or_checkpoint_does_not_verify(log: dict[str, Any]) -> None:
    """One flipped payload byte, a changed field of the signed body or another key fails."""
    cp, key = log["checkpoint"], log["public_key"]
    headers = [m["headers"] for m in log["messages"]]
    payloads = [m["payload"].encode() for m in log["messages"]]
    changed = [*payloads[:2], payloads[2].replace(b"sx/transport", b"sx/transpore"), *payloads[3:]]
    with pytest.raises(iv.NotVerified, match="record 3: L13710-Hash"):
        iv.check_log(cp, headers, changed)
    with pytest.raises(iv.NotVerified, match="signature does not verify"):
        iv.check_signature({**cp, "tree_size": cp["tree_size"] - 1}, key)
    with pytest.raises(iv.NotVerified, match="checkpoint names key"):
        iv.check_signature(cp, "00" * 32)
    with pytest.raises(iv.NotVerified, match="root_hash is not the root"):
        iv.check_log({**cp, "root_hash": "00" * 32}, headers, payloads)


def test_an_inclusion_proof_file_verifies_by_the_document(log: dict[str, Any]) -> None:
    """Every event of an item's proof file (as `audit prove` writes it) leads to the signed
    root; a wrong audit path does not."""
    proof = json.loads(json.dumps(log["proof"]))  # exactly what the JSON file holds
    assert iv.check_inclusion_proof(proof, log["public_key"]) == 4
    bad = copy.deepcopy(proof)
    bad["events"][1]["path"][0] = "00" * 32
    with pytest.raises(iv.NotVerified, match="does not lead to the root"):
        iv.check_inclusion_proof(bad, log["public_key"])
    bad["events"][1]["path"] = bad["events"][1]["path"][1:]
    with pytest.raises(iv.NotVerified, match="too short"):
        iv.check_inclusion_proof(bad, log["public_key"])


def test_the_worked_examples_are_a_fresh_run(script: ModuleType, log: dict[str, Any]) -> None:
    """The examples in docs/record-format.md are exactly what the script writes from a new
    log (so they are real, verified above), and a stale document is reported."""
    document = (ROOT / "docs" / "record-format.md").read_text("utf-8")
    section = script.render(log)
    assert script.updated(document, section) == document
    assert log["checkpoint"]["root_hash"] in section
    stale = document.replace(log["checkpoint"]["signature"], "00" * 64)
    assert script.updated(stale, section) == document
    with pytest.raises(ValueError, match="has no examples section"):
        script.updated(document.replace(script.END, ""), section)


@pytest.mark.skipif(shutil.which("java") is None, reason="no Java (17+) on this machine")
def test_a_java_program_verifies_the_checkpoint_by_the_document(
    log: dict[str, Any], tmp_path: Path
) -> None:
    """``tools/java/VerifyCheckpoint.java`` (JDK only) verifies the real node's checkpoint and
    log as received, and names a changed payload."""
    (tmp_path / "checkpoint.json").write_text(json.dumps(log["checkpoint"]), "utf-8")
    for i, message in enumerate(log["messages"], 1):
        (tmp_path / f"{i:04d}.headers.json").write_text(json.dumps(message["headers"]), "utf-8")
        (tmp_path / f"{i:04d}.payload").write_bytes(message["payload"].encode())

    def java() -> subprocess.CompletedProcess[str]:
        program = ROOT / "tools" / "java" / "VerifyCheckpoint.java"
        return subprocess.run(
            ["java", str(program), str(tmp_path), log["public_key"]],
            capture_output=True, text=True, check=False, timeout=300,
        )  # fmt: skip

    good = java()
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.startswith("checkpoint verified: sx, 5 records up to 5")
    payload = tmp_path / "0003.payload"
    payload.write_bytes(payload.read_bytes().replace(b"sx/transport", b"sx/transpore"))
    bad = java()
    assert (bad.returncode, bad.stdout) == (
        1,
        "checkpoint NOT verified: record 3: wrong L13710-Hash\n",
    )
