"""The node's attachment store: evidence files by content, under ``<node>/attachments/``.

A file is kept at ``attachments/<first two hex digits>/<the other 62>`` of its SHA-256, so the
same photo attached twice is stored once, and a stored file is checked by hashing it again.
Writing is crash-safe and comes *before* the event that names the file: the bytes go to a
temporary file in the same directory, are fsynced, renamed into place, and the directory is
fsynced. A crash before the event is recorded leaves an unreferenced file, never an event
naming a missing one. Nothing here deletes a file except :meth:`AttachmentStore.erase`, which
the application calls only after recording the erasure decision.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from ledger13710.domain import events as ev
from ledger13710.domain.attachments import Evidence
from ledger13710.domain.errors import InputError

_CHUNK = 1024 * 1024

#: the store's directory inside a node directory
ATTACHMENTS_DIR = "attachments"

#: media types the standard library does not know on every platform
_EXTRA_TYPES = {
    ".ofd": "application/ofd",
    ".webp": "image/webp",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}


def media_type(name: str) -> str:
    """The media type a file name says; ``application/octet-stream`` when unknown."""
    suffix = Path(name).suffix.lower()
    if suffix in _EXTRA_TYPES:
        return _EXTRA_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed or "application/octet-stream"


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            yield chunk


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, in lower-case hex."""
    digest = hashlib.sha256()
    for chunk in _chunks(path):
        digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Staged:
    """A file about to be attached: what the event will record, and where the bytes are."""

    attachment: ev.Attachment
    source: Path


def describe(path: Path) -> Staged:
    """Read a file to attach: its name, media type, size and SHA-256 (nothing is written)."""
    try:
        if not path.is_file():
            raise InputError(f"attachment {path}: no such file", field="attach")
        sha = file_sha256(path)
        size = path.stat().st_size
    except OSError as exc:
        msg = f"attachment {path}: cannot read it: {exc.strerror}"
        raise InputError(msg, field="attach") from None
    att = ev.Attachment(name=path.name, media_type=media_type(path.name), size=size, sha256=sha)
    return Staged(attachment=att, source=path)


def evidence(staged: Sequence[Staged]) -> Evidence:
    """What the event records of staged files."""
    return tuple(s.attachment for s in staged)


class Status(StrEnum):
    """What verification found for one stored file."""

    OK = "ok"
    MISSING = "missing"
    TAMPERED = "tampered"


class AttachmentStore:
    """Files by SHA-256 under ``root``, written before the events that name them."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, sha256: str) -> Path:
        """Where the file with this SHA-256 is (or would be) stored."""
        return self.root / sha256[:2] / sha256[2:]

    def check(self, sha256: str) -> Status:
        """Whether the stored bytes are there and still hash to ``sha256``."""
        path = self.path_of(sha256)
        if not path.is_file():
            return Status.MISSING
        return Status.OK if file_sha256(path) == sha256 else Status.TAMPERED

    def put(self, staged: Sequence[Staged]) -> None:
        """Store each file durably (a file already stored intact is not written again)."""
        for s in staged:
            if self.check(s.attachment.sha256) is not Status.OK:
                self.write(s.attachment, _chunks(s.source), what=str(s.source))

    def write(self, att: ev.Attachment, chunks: Iterator[bytes], *, what: str) -> None:
        """Write ``att``'s bytes from ``chunks``, refusing them unless they hash to its SHA-256."""
        target = self.path_of(att.sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if digest.hexdigest() != att.sha256:
                raise InputError(f"{what} changed while it was being attached; attach it again")
            os.chmod(tmp, 0o444)  # evidence is never edited in place
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)

    def erase(self, sha256: str) -> bool:
        """Delete the stored bytes (after the erasure is recorded); False if already gone."""
        path = self.path_of(sha256)
        if not path.exists():
            return False
        path.unlink()
        _fsync_dir(path.parent)
        return True

    def stored(self) -> Iterator[str]:
        """The SHA-256 of every file present (names only; nothing is hashed)."""
        if not self.root.is_dir():
            return
        for sub in sorted(self.root.iterdir()):
            if sub.is_dir() and len(sub.name) == 2:  # the two-digit fan-out
                for f in sorted(sub.iterdir()):
                    if not f.name.startswith("."):
                        yield sub.name + f.name


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = [
    "ATTACHMENTS_DIR",
    "AttachmentStore",
    "Staged",
    "Status",
    "describe",
    "evidence",
    "file_sha256",
    "media_type",
]
