"""``ledger13710 node run``: a node's federation process.

One asyncio process per node runs, side by side:

- the **publisher** (own log → JetStream, and inbox messages for lower nodes),
- the **ingester** (descendants' logs → replica store, gap refetch, roll-up, acks),
- the **inbox consumer** (assignments and review decisions from above → local ledger),
- the **fetch responder** ("events after seq N", served from the node's own store),
- the **ack listener** (the parent's ingest position of this node's log),
- the **reminder engine** (SMS before each deadline, overdue notices, urges),
- the **attachment sync** (own files into the node's Object Store bucket; the descendants'
  files fetched from theirs, checked by hash; see :mod:`replication.attachments`),
- the **checkpoint timer** (a signed checkpoint of the node's log when one is due; the
  publisher sends it upward once the records it covers are published).

The ledger itself stays synchronous; every store call crosses ``threads.run_sync`` so the loop
never blocks. Commands keep arriving through the CLI (another process) meanwhile: the SQLite
store is shared through WAL, the publisher follows the log by position.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from pathlib import Path
from typing import Annotated, Any

import msgspec
import nats
import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext

from ledger13710.application.inbound import accept, inbox_decoder
from ledger13710.application.node import Node
from ledger13710.audit.checkpoints import (
    LogTree,
    checkpoint_due,
    current_key,
    make_checkpoint,
)
from ledger13710.audit.store import Checkpoint, open_audit_store
from ledger13710.audit.trust import load_trusted
from ledger13710.domain.clock import Clock
from ledger13710.domain.errors import ConfigError
from ledger13710.log.record import (
    H_MSG_ID,
    FetchReply,
    fetch_reply_encoder,
    fetch_request_decoder,
)
from ledger13710.logging import get_logger
from ledger13710.node.bootstrap import open_node
from ledger13710.node.health import (
    MAX_DELAY,
    Backoff,
    Reporter,
    missing_streams,
    sleep_or_stop,
)
from ledger13710.node.reminders import close_engine, engine_for
from ledger13710.node.status import PARENT_ACK
from ledger13710.replication.attachments import AttachmentSync
from ledger13710.replication.ingester import Ingester
from ledger13710.replication.publisher import Publisher, covering_checkpoint, read_log
from ledger13710.replication.replica_store import ReplicaStore
from ledger13710.replication.subjects import (
    INBOX_STREAM,
    ack_subject,
    consumer_name,
    fetch_subject,
    inbox_subject,
    info_subject,
    reply_prefix,
)
from ledger13710.threads import run_sync

log = get_logger("ledger13710.node")


class NatsSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``nats.json`` in the node directory: where and as whom the node connects."""

    url: str
    user: str
    password: str


def load_settings(node_dir: Path, url: str | None = None) -> NatsSettings:
    """Read ``nats.json``; ``url`` overrides its server address."""
    path = node_dir / "nats.json"
    try:
        settings = msgspec.json.decode(path.read_bytes(), type=NatsSettings)
    except FileNotFoundError:
        raise ConfigError(
            f"{path} is missing: it holds the node's NATS url, user and password "
            "(written by `ledger13710 nats credentials`)"
        ) from None
    except msgspec.DecodeError as e:
        raise ConfigError(f"{path}: {e}") from None
    return msgspec.structs.replace(settings, url=url) if url else settings


def write_settings(node_dir: Path, settings: NatsSettings) -> None:
    """Write ``nats.json`` (owner-only permissions: it holds a password)."""
    path = node_dir / "nats.json"
    path.write_bytes(msgspec.json.encode(settings))
    path.chmod(0o600)


async def connect(
    node_id: str, settings: NatsSettings, reporter: Reporter, stop: asyncio.Event
) -> Client | None:
    """Connect as the node, retrying with backoff until the server is there (None if told to
    stop first); reconnect forever after. Each failure says what to do, at each retry only."""
    backoff = Backoff()
    options: dict[str, Any] = {
        "user": settings.user, "password": settings.password, "name": f"ledger13710:{node_id}",
        "inbox_prefix": reply_prefix(node_id), "connect_timeout": 2,
    }  # fmt: skip
    while not stop.is_set():
        # A probe that gives up soon: nats-py retries a first connection 60 times (forever for
        # a reconnecting client), so the real client connects only once the server answers.
        try:
            probe = await nats.connect(
                settings.url, allow_reconnect=False, max_reconnect_attempts=1,
                reconnect_time_wait=0.1, error_cb=_quiet, **options,
            )  # fmt: skip
        except (nats.errors.Error, OSError) as e:
            delay = backoff.next()
            log.error("nats_unreachable", node=node_id, url=settings.url,
                      detail=reporter.no_server(e, delay))  # fmt: skip
            await sleep_or_stop(stop, delay)
            continue
        await probe.close()
        return await nats.connect(
            settings.url, allow_reconnect=True, max_reconnect_attempts=-1,
            reconnect_time_wait=0.5, error_cb=_on_error(node_id), **options,
        )  # fmt: skip
    return None


async def _quiet(e: Exception) -> None:
    """The probe's failure is reported once, by :func:`connect`."""


def _on_error(node_id: str) -> Any:
    async def on_error(e: Exception) -> None:
        log.warning("nats_error", node=node_id, error=repr(e))

    return on_error


class NodeProcess:
    """The federation side of one node."""

    def __init__(
        self,
        node: Node,
        settings: NatsSettings,
        *,
        checkpoint_every_events: int = 1000,
        checkpoint_every_seconds: float = 300.0,
        checkpoint_check_seconds: float = 5.0,
    ) -> None:
        self.node = node
        self.app = node.app
        self.id = node.id
        self.settings = settings
        self.store = ReplicaStore(node.dir / "replicas.sqlite")
        for origin, problem in self.store.configure_keys(load_trusted(node.dir)).items():
            log.error("replica_key_conflict", node=node.id, origin=origin, problem=problem)
        self.stop = asyncio.Event()
        self.checkpoint_every_events = checkpoint_every_events
        self.checkpoint_every_seconds = checkpoint_every_seconds
        self.checkpoint_check_seconds = checkpoint_check_seconds
        self.tree = LogTree()  # what the checkpoints cover so far, extended by each one
        self.sealed = LogTree()  # the same, up to what the publisher published

    async def run(self) -> None:
        """Run every part until SIGTERM / SIGINT (or :attr:`stop` is set)."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, self.stop.set)
        reporter = Reporter(self.node.dir, self.settings.url)
        try:
            await self._serve(reporter)
        finally:
            reporter.set("stopped")
            self.store.close()
        log.info("node_stopped", node=self.id)

    async def _serve(self, reporter: Reporter) -> None:
        nc = await connect(self.id, self.settings, reporter, self.stop)
        if nc is None:
            return
        js = nc.jetstream(timeout=10)
        if await self._await_streams(js, reporter):
            await nc.close()
            return
        reporter.set("running")
        await nc.subscribe(fetch_subject(self.id), cb=self._serve_fetch)
        await nc.subscribe(ack_subject(self.id), cb=self._on_ack)
        await nc.subscribe(info_subject(self.id), cb=self._serve_info)
        engine = engine_for(self.node)
        publisher = Publisher(
            self.app, self.store, js, node_dir=self.node.dir, seal=self._seal,
            config=self.node.config,
        )  # fmt: skip
        tasks = [
            asyncio.create_task(publisher.run(self.stop)),
            asyncio.create_task(self._checkpoints(publisher)),
            asyncio.create_task(engine.run(self.stop)),
            asyncio.create_task(self._supervise("ingest", self._ingest, nc, js)),
            asyncio.create_task(self._supervise("inbox", self._inbox, nc, js)),
            asyncio.create_task(self._supervise("attachments", self._attachments, nc, js)),
        ]
        log.info("node_running", node=self.id, url=self.settings.url)
        await self.stop.wait()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        close_engine(engine)
        with contextlib.suppress(Exception):
            async with asyncio.timeout(3):
                await nc.close()

    async def _await_streams(self, js: JetStreamContext, reporter: Reporter) -> bool:
        """Wait (with backoff) until the server has the node's streams; True if stopped first."""
        backoff = Backoff()
        while missing := await missing_streams(js):
            delay = backoff.next()
            log.error("nats_streams_missing", node=self.id, url=self.settings.url,
                      detail=reporter.no_streams(missing, delay))  # fmt: skip
            if await sleep_or_stop(self.stop, delay):
                return True
        return False

    async def _supervise(self, name: str, part: Any, nc: Client, js: JetStreamContext) -> None:
        """Keep a part running: log and restart it after a failure (e.g. during an outage),
        waiting longer after each failure in a row (up to a minute)."""
        backoff = Backoff()
        loop = asyncio.get_running_loop()
        while not self.stop.is_set():
            started = loop.time()
            try:
                await part(nc, js)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # any failure of a part: the node stays up and restarts it
                if loop.time() - started > MAX_DELAY:
                    backoff.reset()  # it ran a good while: a new failure, not the same one
                delay = backoff.next()
                log.warning("part_restarting", node=self.id, part=name, error=repr(e),
                            retry_in_s=delay)  # fmt: skip
                await sleep_or_stop(self.stop, delay)

    async def _checkpoints(self, publisher: Publisher) -> None:
        """Sign a checkpoint whenever one is due; the publisher sends it on."""
        while not self.stop.is_set():
            try:
                async with asyncio.timeout(self.checkpoint_check_seconds):
                    await self.stop.wait()
                return
            except TimeoutError:
                pass
            try:
                if await run_sync(self._checkpoint_now):
                    publisher.checkpoints_due.set()
            except Exception as e:  # a locked or unreachable store: try again next time
                log.warning("checkpoint_failed", node=self.id, error=repr(e))

    def _checkpoint_now(self) -> bool:
        due = checkpoint_due(
            self.node, self.app.clock.now(), every_events=self.checkpoint_every_events,
            every_seconds=self.checkpoint_every_seconds,
        )  # fmt: skip
        return due and make_checkpoint(self.node, self.tree) is not None

    def _seal(self, upto: int) -> Checkpoint | None:
        """A checkpoint ending at the publisher's position ``upto`` (it runs in one thread at a
        time, the publisher's, so :attr:`sealed` is its own)."""
        return make_checkpoint(self.node, self.sealed, upto=upto)

    async def _ingest(self, nc: Client, js: JetStreamContext) -> None:
        trusted = load_trusted(self.node.dir)
        await Ingester(self.app, self.store, nc, js, trusted=trusted).run(self.stop)

    async def _attachments(self, nc: Client, js: JetStreamContext) -> None:
        await AttachmentSync(self.app, self.store, js).run(self.stop)

    async def _inbox(self, nc: Client, js: JetStreamContext) -> None:
        # One message in flight (max_ack_pending=1): tracking keeps the highest position applied
        # per upper node, so messages must be applied strictly in order. A message that fails
        # for an unexpected reason (a locked store, say) is naked and retried before any later
        # one — never skipped.
        durable = consumer_name("inbox", self.id)
        await js.add_consumer(
            INBOX_STREAM,
            ConsumerConfig(
                name=durable, durable_name=durable, filter_subject=inbox_subject(self.id),
                ack_policy=AckPolicy.EXPLICIT, deliver_policy=DeliverPolicy.ALL, ack_wait=30,
                max_ack_pending=1,
            ),
        )  # fmt: skip
        sub = await js.pull_subscribe_bind(durable, stream=INBOX_STREAM)
        while not self.stop.is_set():
            try:
                msgs = await sub.fetch(1, timeout=0.5)
            except (TimeoutError, nats.errors.TimeoutError):
                continue
            for m in msgs:
                try:
                    await self._accept(m)
                except Exception as e:  # unexpected (a locked store): naked, retried in order
                    log.warning("inbox_retry", node=self.id, msg_id=_msg_id(m), error=repr(e))
                    await m.nak(delay=1.0)
                    continue
                await m.ack()

    async def _accept(self, m: Msg) -> None:
        try:
            message = inbox_decoder.decode(m.data)
        except msgspec.DecodeError as e:
            log.error("inbox_bad_message", node=self.id, msg_id=_msg_id(m), reason=str(e))
            return
        outcome = await run_sync(accept, self.app, message)
        log.info(
            "inbox_message", node=self.id, upper=message.upper, upper_seq=message.upper_seq,
            item=message.child_number, outcome=outcome,
        )  # fmt: skip

    async def _serve_fetch(self, m: Msg) -> None:
        try:
            request = fetch_request_decoder.decode(m.data)
        except msgspec.DecodeError:
            return
        limit = max(1, min(request.limit, 500))
        records = await run_sync(read_log, self.app, self.id, request.after, limit)
        last = await run_sync(self.app.recorder.max_notification_id) or 0
        signed = None
        if records:
            signed = await run_sync(
                covering_checkpoint, self.node.dir, records[-1].seq, self.node.config
            )
        reply = FetchReply(
            origin=self.id, records=records, last=last,
            checkpoint=b"" if signed is None else msgspec.json.encode(signed),
        )  # fmt: skip
        await m.respond(fetch_reply_encoder.encode(reply))

    async def _serve_info(self, m: Msg) -> None:
        await m.respond(await run_sync(node_info, self.node))

    async def _on_ack(self, m: Msg) -> None:
        with contextlib.suppress(ValueError):
            await run_sync(self.store.set_position, PARENT_ACK, int(m.data))


class NodeInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What ``l13710.info.<node>._`` answers: enough to verify the node's published events."""

    node: Annotated[str, msgspec.Meta(description="the node that answers")]
    public_key: Annotated[str, msgspec.Meta(description="hex Ed25519 key in force now")]
    last_seq: Annotated[int, msgspec.Meta(description="the position of its last record")]
    checkpoint: Annotated[
        Checkpoint | None, msgspec.Meta(description="its latest signed checkpoint, if any")
    ]


def node_info(node: Node) -> bytes:
    """The node's current public key and latest signed checkpoint, as JSON."""
    store = open_audit_store(node.dir)
    try:
        checkpoints = store.checkpoints()
    finally:
        store.close()
    info = NodeInfo(
        node=node.id,
        public_key=current_key(node),
        last_seq=node.app.recorder.max_notification_id() or 0,
        checkpoint=checkpoints[-1] if checkpoints else None,
    )
    return msgspec.json.encode(info)


def _msg_id(m: Msg) -> str:
    return (m.headers or {}).get(H_MSG_ID, "")


def run_node(node_dir: Path, clock: Clock, url: str | None = None, **checkpoints: Any) -> int:
    """Run the node in ``node_dir`` on ``clock`` until it is told to stop (``checkpoints``: the
    ``checkpoint_every_*`` / ``checkpoint_check_seconds`` settings of :class:`NodeProcess`)."""
    settings = load_settings(node_dir, url)
    node = open_node(node_dir, clock)
    try:
        asyncio.run(NodeProcess(node, settings, **checkpoints).run())
    finally:
        node.close()
    return 0


def settings_json(settings: NatsSettings) -> str:
    """Settings as JSON without the password (for status output)."""
    return json.dumps({"url": settings.url, "user": settings.user})
