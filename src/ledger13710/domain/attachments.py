"""Evidence attachments: the policy's limits and the checks an attaching command makes.

An attachment is recorded as an :class:`~ledger13710.domain.events.Attachment` (name, media
type, size, SHA-256) inside the event of the action it supports; the bytes live outside the
domain, in the node's content-addressed store. The limits are policy data (``[attachments]`` in
a policy TOML): a size per file, a total size and a count per item, and the media types allowed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import msgspec

from ledger13710.domain import events as ev
from ledger13710.domain.errors import ConfigError, InputError

MIB = 1024 * 1024

#: images, PDF (and China's OFD e-documents), office documents
DEFAULT_MEDIA_TYPES: tuple[str, ...] = (
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/tiff",
    "application/pdf",
    "application/ofd",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
)

#: the attachments of one action, as its event records them
Evidence = tuple[ev.Attachment, ...]

_SHA256 = re.compile(r"[0-9a-f]{64}")


class AttachmentsFile(msgspec.Struct, forbid_unknown_fields=True):
    """``[attachments]`` of a policy TOML, as written (sizes in MiB)."""

    max_file_mb: int = 20
    max_item_mb: int = 200
    max_item_files: int = 50
    media_types: list[str] = msgspec.field(default_factory=lambda: list(DEFAULT_MEDIA_TYPES))


class AttachmentRules(msgspec.Struct, frozen=True, kw_only=True):
    """The validated limits: bytes per file, bytes and distinct files per item, media types."""

    max_file_bytes: int = 20 * MIB
    max_item_bytes: int = 200 * MIB
    max_item_files: int = 50
    media_types: tuple[str, ...] = DEFAULT_MEDIA_TYPES


def parse_rules(raw: AttachmentsFile, source: str) -> AttachmentRules:
    """Validate ``[attachments]``; errors name ``source`` and the field."""
    for name in ("max_file_mb", "max_item_mb", "max_item_files"):
        if getattr(raw, name) <= 0:
            raise ConfigError(f"{source}: attachments.{name}: must be a positive whole number")
    if raw.max_file_mb > raw.max_item_mb:
        raise ConfigError(f"{source}: attachments.max_file_mb: larger than max_item_mb")
    if not raw.media_types:
        raise ConfigError(f"{source}: attachments.media_types: list at least one media type")
    return AttachmentRules(
        max_file_bytes=raw.max_file_mb * MIB,
        max_item_bytes=raw.max_item_mb * MIB,
        max_item_files=raw.max_item_files,
        media_types=tuple(t.lower() for t in raw.media_types),
    )


def _size(n: int) -> str:
    return f"{n / MIB:.1f} MiB" if n >= MIB else f"{n} bytes"


def check_file(att: ev.Attachment, rules: AttachmentRules) -> None:
    """One file against the per-file limit and the allowed media types."""
    if not att.name or "/" in att.name or "\\" in att.name:
        raise InputError(f"attachment name {att.name!r} must be a plain file name", field="attach")
    if not _SHA256.fullmatch(att.sha256):
        raise InputError(
            f"attachment {att.name}: {att.sha256!r} is not a SHA-256 in hex", field="attach"
        )
    if att.size > rules.max_file_bytes:
        raise InputError(
            f"attachment {att.name} is {_size(att.size)}, over the policy's limit of "
            f"{_size(rules.max_file_bytes)} per file",
            field="attach",
        )
    if att.media_type not in rules.media_types:
        raise InputError(
            f"attachment {att.name}: type {att.media_type} is not allowed; the policy allows "
            "images, PDF/OFD and office documents",
            field="attach",
        )


def check_for_item(
    present: dict[str, int],
    erased: dict[str, str],
    new: Sequence[ev.Attachment],
    rules: AttachmentRules,
) -> None:
    """New attachments against one item's limits; ``present`` maps the item's stored files'
    SHA-256 to their size, ``erased`` its erased ones to the erasing decision."""
    for att in new:
        check_file(att, rules)
        if att.sha256 in erased and att.sha256 not in present:
            raise InputError(
                f"attachment {att.name} was erased from this item by decision "
                f"{erased[att.sha256]}; it cannot be attached again",
                field="attach",
            )
    total = dict(present)
    for att in new:
        total.setdefault(att.sha256, att.size)
    if len(total) > rules.max_item_files:
        raise InputError(
            f"an item may hold at most {rules.max_item_files} attachments; "
            f"this would make {len(total)}",
            field="attach",
        )
    if sum(total.values()) > rules.max_item_bytes:
        raise InputError(
            f"an item's attachments may total at most {_size(rules.max_item_bytes)}; "
            f"this would make {_size(sum(total.values()))}",
            field="attach",
        )


def check_erasure(present: dict[str, int], erased: dict[str, str], sha256: str) -> None:
    """The item must hold the file to erase it (an erased one is reported by the caller)."""
    if sha256 not in present and sha256 not in erased:
        raise InputError(f"the item has no attachment with SHA-256 {sha256}", field="sha256")


__all__ = [
    "DEFAULT_MEDIA_TYPES",
    "AttachmentRules",
    "AttachmentsFile",
    "Evidence",
    "check_erasure",
    "check_file",
    "check_for_item",
    "parse_rules",
]
