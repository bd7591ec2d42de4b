"""Evidence attachments through a node's ledger, on SQLite and PostgreSQL: stored by content
before the event that names them, refused whole when they break the policy, erased by decision,
and checked by the auditor's verification."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import msgspec
import pytest

from ledger13710.application.attachments import ATTACHMENTS_DIR, AttachmentStore
from ledger13710.application.ledger import LedgerApp
from ledger13710.application.node import Node
from ledger13710.audit.attachments import EvidenceReport, Found, verify_evidence
from ledger13710.audit.store import open_audit_store
from ledger13710.domain import events as ev
from ledger13710.domain.attachments import AttachmentRules
from ledger13710.domain.errors import InputError

SUP = "sx-general-office-sup1"
LEAD = "sx-transport-head"
DECISION = "晋政办〔2016〕9号"


def new_item(app: LedgerApp) -> str:
    """A general item raised by ``sx`` and assigned to transport; its number."""
    return app.register(
        title="定襄北收费站车道拓宽", source="executive", board="daily", severity="general",
        raising_unit="sx", lead_unit="sx/transport", actor=SUP, assign=True,
    ).number  # fmt: skip


def a_file(tmp_path: Path, name: str, data: bytes) -> Path:
    """Write ``data`` to ``tmp_path/name``."""
    path = tmp_path / name
    path.write_bytes(data)
    return path


def attachments_of(app: LedgerApp, number: str) -> list[ev.Attachment]:
    """Every attachment the item's events name, oldest first."""
    return [a for e in app.item_events(number) for a in getattr(e, "attachments", ())]


def position(app: LedgerApp) -> int:
    """The node's last log position."""
    return app.recorder.max_notification_id() or 0


def audit(node: Node) -> EvidenceReport:
    """The auditor's verification of the node's evidence."""
    store = open_audit_store(node.dir)
    try:
        return verify_evidence(store, AttachmentStore(node.dir / ATTACHMENTS_DIR))
    finally:
        store.close()


def test_an_attachment_is_recorded_by_hash_and_stored_by_content(
    node: Node, tmp_path: Path
) -> None:
    """The event records name, type, size and SHA-256; the bytes sit under their hash."""
    number = new_item(node.app)
    data = b"%PDF-1.4 meeting minutes"
    node.app.deploy(number, actor=LEAD, note="studied", attach=[a_file(tmp_path, "纪要.pdf", data)])
    sha = hashlib.sha256(data).hexdigest()
    expected = [ev.Attachment(name="纪要.pdf", media_type="application/pdf", size=24, sha256=sha)]
    assert expected == attachments_of(node.app, number)
    assert data == (node.dir / ATTACHMENTS_DIR / sha[:2] / sha[2:]).read_bytes()
    assert {sha: 24} == node.app.item(number).evidence


def test_the_same_content_is_stored_once(node: Node, tmp_path: Path) -> None:
    """Two actions attaching the same photo under two names: two records, one stored file."""
    number = new_item(node.app)
    node.app.deploy(number, actor=LEAD, attach=[a_file(tmp_path, "a.jpg", b"\xff\xd8photo")])
    node.app.feedback(
        number, actor=LEAD, content="ok", attach=[a_file(tmp_path, "b.jpg", b"\xff\xd8photo")]
    )
    names = [a.name for a in attachments_of(node.app, number)]
    stored = list(AttachmentStore(node.dir / ATTACHMENTS_DIR).stored())
    assert (names, len(stored)) == (["a.jpg", "b.jpg"], 1)


@pytest.mark.parametrize(
    ("files", "rules", "message"),
    [
        ({"big.pdf": 11}, {"max_file_bytes": 10}, "big.pdf is 11 bytes, over the policy's limit"),
        ({"run.exe": 1}, {}, "run.exe: type application/x-msdos-program is not allowed"),
        ({"a.pdf": 8, "b.pdf": 8}, {"max_item_bytes": 15}, "total at most 15 bytes"),
        ({"a.pdf": 1, "b.pdf": 2}, {"max_item_files": 1}, "at most 1 attachments"),
    ],
)
def test_a_refused_attachment_writes_nothing(
    node: Node, tmp_path: Path, files: dict[str, int], rules: dict[str, Any], message: str
) -> None:
    """Breaking a per-file or per-item limit refuses the whole action: no event, no bytes."""
    number = new_item(node.app)
    node.app.policy = msgspec.structs.replace(
        node.app.policy, attachments=msgspec.structs.replace(AttachmentRules(), **rules)
    )
    paths = [
        a_file(tmp_path, name, bytes([i]) * size) for i, (name, size) in enumerate(files.items())
    ]
    before = position(node.app)
    with pytest.raises(InputError, match=message):
        node.app.deploy(number, actor=LEAD, attach=paths)
    assert before == position(node.app)
    assert not (node.dir / ATTACHMENTS_DIR).exists()


def test_a_missing_file_is_named(node: Node, tmp_path: Path) -> None:
    """``--attach`` of a path that is not there is one clear line naming it."""
    number = new_item(node.app)
    with pytest.raises(InputError, match=r"^attachment .*nope.pdf: no such file$"):
        node.app.resolve(number, actor=LEAD, content="x", attach=[tmp_path / "nope.pdf"])


def test_a_crash_between_storing_and_recording_leaves_no_dangling_reference(
    node: Node, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bytes are stored first; if recording fails, no event names them and the audit
    counts one unreferenced file, no problem. Attaching again then records it."""
    number = new_item(node.app)
    photo = a_file(tmp_path, "lane.png", b"\x89PNG lanes")

    def crash(*_: Any, **__: Any) -> None:
        raise SystemExit("power cut")

    with monkeypatch.context() as m:
        m.setattr(node.app, "_save", crash)
        with pytest.raises(SystemExit):
            node.app.deploy(number, actor=LEAD, attach=[photo])
    report = audit(node)
    assert (report.evidence, len(report.unreferenced), report.ok) == ([], 1, True)
    node.app.deploy(number, actor=LEAD, attach=[photo])
    report = audit(node)
    assert (
        [e.found for e in report.evidence],
        report.unreferenced,
        report.ok,
    ) == ([Found.OK], [], True)


def test_a_tampered_attachment_is_named_by_the_audit(node: Node, tmp_path: Path) -> None:
    """Changing a stored file's bytes is a finding naming the file, its item and record."""
    number = new_item(node.app)
    node.app.deploy(number, actor=LEAD, attach=[a_file(tmp_path, "lane.png", b"\x89PNG ok")])
    (stored,) = AttachmentStore(node.dir / ATTACHMENTS_DIR).stored()
    path = AttachmentStore(node.dir / ATTACHMENTS_DIR).path_of(stored)
    path.chmod(0o644)
    path.write_bytes(b"\x89PNG photoshopped")
    report = audit(node)
    assert not report.ok
    (problem,) = report.problems
    assert (Found.TAMPERED, "lane.png", number) == (problem.found, problem.name, problem.item)
    assert "tampered" in str(problem)
    path.unlink()
    assert [e.found for e in audit(node).problems] == [Found.MISSING]


def test_erasure_is_recorded_then_the_bytes_go_and_the_audit_says_by_which_decision(
    node: Node, tmp_path: Path
) -> None:
    """An authorised erasure records AttachmentErased, deletes the file, and verification
    reports "erased by decision X"; erasing again only finishes deleting."""
    number = new_item(node.app)
    node.app.deploy(number, actor=LEAD, attach=[a_file(tmp_path, "face.jpg", b"\xff\xd8face")])
    (att,) = attachments_of(node.app, number)
    with pytest.raises(InputError, match="erase an attachment"):
        node.app.erase_attachment(number, actor=LEAD, sha256=att.sha256, decision="D", reason="r")
    node.app.erase_attachment(
        number, actor=SUP, sha256=att.sha256, decision=DECISION, reason="a bystander's face"
    )
    assert isinstance(node.app.item_events(number)[-1], ev.AttachmentErased)
    store = AttachmentStore(node.dir / ATTACHMENTS_DIR)
    assert not store.path_of(att.sha256).exists()
    (found,) = audit(node).evidence
    assert (found.found, found.decision) == (Found.ERASED, DECISION)
    assert str(found).endswith(f"erased by decision {DECISION}")
    before = position(node.app)
    node.app.erase_attachment(number, actor=SUP, sha256=att.sha256, decision="D2", reason="again")
    assert before == position(node.app)


def test_an_unfinished_erasure_is_reported_and_finished_by_erasing_again(
    node: Node, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash after recording the decision, before deleting: the audit says so; running the
    erasure again deletes the bytes without a second decision."""
    number = new_item(node.app)
    node.app.deploy(number, actor=LEAD, attach=[a_file(tmp_path, "face.jpg", b"\xff\xd8face")])
    (att,) = attachments_of(node.app, number)
    store = node.app.attachment_store()
    with monkeypatch.context() as m:
        m.setattr(store, "erase", lambda sha: False)
        node.app.erase_attachment(
            number, actor=SUP, sha256=att.sha256, decision=DECISION, reason="r"
        )
    assert [e.found for e in audit(node).problems] == [Found.NOT_ERASED]
    before = position(node.app)
    node.app.erase_attachment(number, actor=SUP, sha256=att.sha256, decision=DECISION, reason="r")
    assert (before, True) == (position(node.app), audit(node).ok)
