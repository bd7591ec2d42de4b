"""Evidence attachments through the real ``ledger13710`` command: ``--attach``, ``item show``,
``timeline``, the workbook, ``audit verify`` / ``audit report`` and ``item erase-attachment``."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

from test_cli import HEAD, NODES, SUP, ok, run

NOW = ["--now", "2016-10-20T09:00"]
DECISION = "晋政办〔2016〕9号"


def node_with_item(tmp_path: Path) -> tuple[Path, str]:
    """A province node with one assigned item; (node dir, item number)."""
    node = tmp_path / "sx"
    ok("node", "init", "--config", str(NODES / "sx.toml"), "--dir", str(node))
    number = ok(
        "item", "register", "--title", "定襄北收费站车道拓宽", "--source", "executive",
        "--board", "daily", "--raising-unit", "sx", "--lead-unit", "sx/transport", "--assign",
        "--actor", SUP, "--dir", str(node), *NOW,
    )["number"]  # fmt: skip
    return node, str(number)


def test_attach_show_export_tamper_and_erase(tmp_path: Path) -> None:
    """A photo attached at deploy is listed with its path, counted in the workbook, named by
    ``audit verify`` once tampered with, and reported as erased by decision after erasure."""
    node, number = node_with_item(tmp_path)
    photo = tmp_path / "车道.jpg"
    photo.write_bytes(b"\xff\xd8 the widened lane")
    sha = hashlib.sha256(photo.read_bytes()).hexdigest()
    d = ["--dir", str(node), *NOW]
    ok("item", "deploy", number, "--attach", str(photo), "--actor", HEAD, *d)
    shown = ok("item", "show", number, *d)["attachments"]
    stored = node / "attachments" / sha[:2] / sha[2:]
    assert [("车道.jpg", "image/jpeg", 19, sha, str(stored))] == [
        (a["name"], a["media_type"], a["size"], a["sha256"], a["path"]) for a in shown
    ]
    assert "车道.jpg" in run("timeline", number, *d).out

    ok("export", str(tmp_path / "ledger.csv"), "--what", "ledger", *d)
    with (tmp_path / "ledger.csv").open(encoding="utf-8-sig") as f:
        (row,) = csv.DictReader(f)
    assert (row["附件数"], row["附件"]) == ("1", "车道.jpg")
    ok("audit", "checkpoint", *d)  # a log no signature covers is not intact (issue #11)
    assert run("audit", "verify", str(node)).code == 0

    stored.chmod(0o644)
    stored.write_bytes(b"\xff\xd8 a different lane")
    tampered = run("audit", "verify", str(node))
    assert tampered.code == 1
    assert f"attachment 车道.jpg ({sha[:12]}…) of {number}, record 4: tampered" in tampered.out

    ok("item", "erase-attachment", number, "--sha256", sha, "--decision", DECISION,
       "--reason", "a bystander's face", "--actor", SUP, *d)  # fmt: skip
    ok("audit", "checkpoint", *d)
    verified = run("audit", "verify", str(node))
    assert verified.code == 0
    assert f"record 4: erased by decision {DECISION}" in verified.out
    assert f"erased by decision {DECISION}" in run("audit", "report", "--item", number, *d).out


def test_a_refused_attachment_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """A type the policy does not allow, and a missing file: one line each, nothing written."""
    node, number = node_with_item(tmp_path)
    exe = tmp_path / "setup.exe"
    exe.write_bytes(b"MZ")
    d = ["--dir", str(node), *NOW]
    refused = run("item", "deploy", number, "--attach", str(exe), "--actor", HEAD, *d)
    assert refused.code == 2
    assert refused.err.startswith("ledger13710: error: attachment setup.exe: type ")
    assert len(refused.err.splitlines()) == 1
    missing = run(
        "item", "deploy", number, "--attach", str(tmp_path / "no.pdf"), "--actor", HEAD, *d
    )
    expected = f"ledger13710: error: attachment {tmp_path / 'no.pdf'}: no such file (--attach)\n"
    assert (2, expected) == (missing.code, missing.err)
    assert ok("item", "show", number, *d)["state"] == "assigned"
    assert not (node / "attachments").exists()
