"""How ``item show`` and ``timeline`` show an item's evidence: name, size, type and where the
bytes are in this node's attachment store."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
from rich.table import Table

from ledger13710.application.attachments import ATTACHMENTS_DIR, AttachmentStore
from ledger13710.domain import events as ev

if TYPE_CHECKING:  # item show must not load the views' aiosqlite (tests/unit/test_cli_groups.py)
    from ledger13710.projections.timeline import Timeline

#: (event version, event kind, attachment)
Named = tuple[int, str, ev.Attachment]

_NOT_HERE = "—（本节点无此文件：已删除或尚未同步）"


def from_events(events: Iterable[ev.ItemEvent]) -> list[Named]:
    """The attachments the item's events name, oldest first."""
    return [
        (e.originator_version, type(e).__name__, a)
        for e in events
        for a in getattr(e, "attachments", ())
    ]


def from_timeline(line: Timeline) -> list[Named]:
    """The attachments of a timeline's events (read from the views)."""
    return [
        (e.version, e.kind, msgspec.convert(a, ev.Attachment))
        for e in line.events
        for a in e.fields.get("attachments", ())
    ]


def size_text(size: int) -> str:
    """A file size for people: bytes, KiB or MiB."""
    for unit, scale in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


def stored_path(node_dir: Path, sha256: str) -> Path | None:
    """Where the bytes are in this node, or None when they are not here."""
    path = AttachmentStore(node_dir / ATTACHMENTS_DIR).path_of(sha256)
    return path if path.is_file() else None


def evidence_json(node_dir: Path, named: Iterable[Named]) -> list[dict[str, Any]]:
    """Each attachment with its event and the path of its bytes (null when not here)."""
    out = []
    for version, kind, a in named:
        path = stored_path(node_dir, a.sha256)
        out.append(
            {"version": version, "event": kind, **msgspec.to_builtins(a),
             "path": str(path) if path else None}
        )  # fmt: skip
    return out


def evidence_tables(node_dir: Path, named: list[Named]) -> list[Table]:
    """The 附件 table, or nothing when the item has no attachment."""
    if not named:
        return []
    table = Table(title="附件 (evidence)")
    for header in ("#", "事件", "文件", "大小", "类型"):
        table.add_column(header)
    table.add_column("路径", overflow="fold")
    for version, kind, a in named:
        path = stored_path(node_dir, a.sha256)
        table.add_row(
            str(version), kind, a.name, size_text(a.size), a.media_type,
            str(path) if path else _NOT_HERE,
        )  # fmt: skip
    return [table]


__all__ = ["evidence_json", "evidence_tables", "from_events", "from_timeline", "size_text"]
