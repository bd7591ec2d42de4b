"""Attachments up the tiers through the JetStream Object Store: a photo attached at the
township arrives byte-identical at the county, the city and the province, and its erasure
follows it up."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from federation_helpers import (
    SX,
    TIERS,
    TOWN,
    WAIT,
    fed_fixture,  # noqa: F401  (pytest finds the fixture: fed)
    local_item,
    local_roles,
)

from ledger13710.application.attachments import ATTACHMENTS_DIR
from ledger13710.testing.localfed import LocalFederation

PHOTO = b"\xff\xd8\xff\xe0 JFIF the widened lane at Dingxiang North " * 1000


def stored(fed: LocalFederation, node: str, sha: str) -> Path:
    """Where ``node`` keeps the file with this SHA-256."""
    return fed.node_dir(node) / ATTACHMENTS_DIR / sha[:2] / sha[2:]


def gone(path: Path) -> Callable[[], bool]:
    """A condition: ``path`` no longer exists."""
    return lambda: not path.exists()


def test_a_township_photo_reaches_every_tier_byte_identical(
    fed: LocalFederation, tmp_path: Path
) -> None:
    """Attach at the township; each tier above holds the same bytes under the same hash, and
    the province's subtree audit checks it; an erasure at the township removes the copies."""
    number = local_item(fed, TOWN)
    sup, _raising, _lead, head = local_roles(TOWN)
    photo = tmp_path / "车道.jpg"
    photo.write_bytes(PHOTO)
    sha = hashlib.sha256(PHOTO).hexdigest()
    fed.cli(TOWN, "item", "feedback", number, "--actor", head, "--content", "车道已拓宽",
            "--attach", str(photo), now="2016-10-21T10:00")  # fmt: skip
    for node in TIERS[:-1]:
        path = stored(fed, node, sha)
        fed.wait_until(path.is_file, WAIT, what=f"{node} holds the photo")
        assert path.read_bytes() == PHOTO
    audit = fed.cli(SX, "audit", "verify", str(fed.node_dir(SX)), "--subtree")
    (town,) = [r for r in audit["attachments"] if r["origin"] == TOWN]
    assert [(e["name"], e["found"]) for e in town["evidence"]] == [("车道.jpg", "ok")]
    fed.cli(TOWN, "item", "erase-attachment", number, "--actor", sup, "--sha256", sha,
            "--decision", "定襄县政府〔2016〕3号", "--reason", "有群众面部",
            now="2016-10-22T10:00")  # fmt: skip
    for node in (TOWN, SX):
        fed.wait_until(gone(stored(fed, node, sha)), WAIT, what=f"{node} erased it")
