"""An upper tier's attachment fetch checks the bytes against the SHA-256 the event records
before it stores them (a stand-in Object Store plays the origin's bucket)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import cast

import nats.js.errors
import pytest
from nats.js.client import JetStreamContext

from ledger13710.application.node import Node
from ledger13710.domain import events as ev
from ledger13710.replication.attachments import AttachmentSync
from ledger13710.replication.replica_store import ReplicaStore

PHOTO = b"\xff\xd8 the widened lane"
GOOD = ev.Attachment(
    name="lane.jpg", media_type="image/jpeg", size=len(PHOTO),
    sha256=hashlib.sha256(PHOTO).hexdigest(),
)  # fmt: skip


@dataclass
class Obj:
    """What ``ObjectStore.get`` returns, as far as the fetch reads it."""

    data: bytes


class Bucket:
    """A stand-in Object Store bucket holding ``objects`` by name."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = objects

    async def get(self, name: str) -> Obj:
        """The object, or the error nats-py raises for a missing one."""
        if name not in self.objects:
            raise nats.js.errors.ObjectNotFoundError
        return Obj(self.objects[name])


class Js:
    """A stand-in JetStream context: every bucket is ``bucket``."""

    def __init__(self, bucket: Bucket) -> None:
        self.bucket = bucket

    async def object_store(self, name: str) -> Bucket:
        """The bucket, whatever its name."""
        return self.bucket


@pytest.fixture
def replicas(node: Node) -> Iterator[ReplicaStore]:
    """The node's replica store (where the sync keeps its cursors), closed afterwards."""
    store = ReplicaStore(node.dir / "replicas.sqlite")
    yield store
    store.close()


def sync_for(node: Node, replicas: ReplicaStore, objects: dict[str, bytes]) -> AttachmentSync:
    """An AttachmentSync of ``node`` reading the stand-in bucket."""
    return AttachmentSync(node.app, replicas, cast("JetStreamContext", Js(Bucket(objects))))


def fetch(sync: AttachmentSync, a: ev.Attachment) -> bool:
    """Run one fetch from the township."""
    return asyncio.run(sync.fetch("sx.xinzhou.dingxiang.jinchang", a))


def test_right_bytes_are_stored_byte_identical(node: Node, replicas: ReplicaStore) -> None:
    """Bytes that hash to the recorded SHA-256 are stored under it."""
    sync = sync_for(node, replicas, {GOOD.sha256: PHOTO})
    assert fetch(sync, GOOD)
    assert sync.files.path_of(GOOD.sha256).read_bytes() == PHOTO


def test_bytes_that_do_not_match_their_hash_are_refused(node: Node, replicas: ReplicaStore) -> None:
    """A tampered object is not stored; the fetch reports it not done (asked again later)."""
    sync = sync_for(node, replicas, {GOOD.sha256: b"\xff\xd8 a different lane"})
    assert not fetch(sync, GOOD)
    assert not sync.files.path_of(GOOD.sha256).exists()


def test_an_object_not_uploaded_yet_is_waited_for(node: Node, replicas: ReplicaStore) -> None:
    """Not in the bucket yet (a slow township link): not done, nothing stored."""
    sync = sync_for(node, replicas, {})
    assert not fetch(sync, GOOD)
    assert not sync.files.path_of(GOOD.sha256).exists()
