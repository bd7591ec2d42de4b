"""Roles through the real command: the issue's refused cancellation, and who may instead."""

from __future__ import annotations

from pathlib import Path

from test_cli import NODES, SUP, ok, run


def test_operator_cannot_cancel_with_an_unrelated_approver(tmp_path: Path) -> None:
    """An operator approved by an unrelated operator is refused in one line that names who may;
    the office's supervisor, approved by the governor, then cancels."""
    node = ["--dir", str(tmp_path / "node"), "--now", "2016-10-20T09:00"]
    ok("node", "init", "--config", str(NODES / "sx.toml"), *node)
    number = ok(
        *["item", "register", "--title", "风电法兰运输受阻", "--source", "key_work"],
        *["--board", "key-work", "--raising-unit", "sx/general-office"],
        *["--lead-unit", "sx/transport", "--assign", "--actor", SUP, *node],
    )["number"]
    cancel = ["item", "cancel", number, "--reason", "重复立项", *node]
    refused = run(*cancel, "--actor", "sx-general-office-op1", "--approved-by", "sx-drc-op1")
    assert refused.code == 2
    assert len(refused.err.splitlines()) == 1
    assert "sx-general-office-op1 (operator of sx/general-office) may not" in refused.err
    assert "sx-general-office-sup1" in refused.err.split("May: ")[1]
    approver = run(*cancel, "--actor", SUP, "--approved-by", "sx-drc-op1")
    assert approver.code == 2
    assert "a cancellation is approved by a head or supervisor" in approver.err
    done = ok(*cancel, "--actor", SUP, "--approved-by", "sx-head")
    assert done["state"] == "cancelled"
