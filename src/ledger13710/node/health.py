"""Whether ``node run`` is connected and finds its streams, told once and then with backoff.

An operator's first ``node run`` often has no nats-server to reach, or a server without the
JetStream streams. The daemon says what is missing and how to fix it the first time, then
again only at each retry, whose delay doubles up to :data:`MAX_DELAY`. What it last found is
kept in ``daemon.json`` in the node directory, so ``node status`` can show it.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import msgspec
import nats.errors
import nats.js.errors
from nats.js.client import JetStreamContext

from ledger13710.replication.subjects import EVENTS_STREAM, INBOX_STREAM

HEALTH_FILE = "daemon.json"
FIRST_DELAY = 1.0
MAX_DELAY = 60.0

NO_SERVER = (
    "no nats-server answers at {url} ({error}): start it (nats-server -c OUT/hub.conf, the "
    "configuration `ledger13710 nats setup --out OUT` wrote) or correct the url in "
    "{dir}/nats.json (`ledger13710 nats connect`, or `node run --nats URL`); "
    "retrying in {delay:.0f}s"
)
NO_STREAMS = (
    "the server at {url} has no stream {streams}: create the streams with `ledger13710 nats "
    "streams --creds OUT/credentials.json --url {url}`; retrying in {delay:.0f}s"
)
NOT_RUNNING = "no `ledger13710 node run` is running for this node{since}"
WAITING = {
    "connecting": "node run is not connected: {detail}",
    "streams_missing": "node run is connected, but streams are missing: {detail}",
}


class Health(msgspec.Struct, frozen=True, kw_only=True):
    """What the daemon last found (``daemon.json``)."""

    pid: int
    url: str
    state: str  # connecting, streams_missing, running, stopped
    detail: str = ""
    since: float = 0.0  # when this state began (Unix time)


def write_health(node_dir: Path, health: Health) -> None:
    """Replace ``daemon.json`` atomically."""
    path = node_dir / HEALTH_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(msgspec.json.encode(health))
    tmp.replace(path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def daemon_alert(node_dir: Path) -> str | None:
    """What ``node status`` should say about the daemon, or None when it runs connected."""
    path = node_dir / HEALTH_FILE
    try:
        health = msgspec.json.decode(path.read_bytes(), type=Health)
    except (FileNotFoundError, msgspec.DecodeError):
        return NOT_RUNNING.format(since="")
    if health.state == "stopped" or not _alive(health.pid):
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(health.since))
        return NOT_RUNNING.format(since=f" (last one {health.state} at {when})")
    message = WAITING.get(health.state)
    return None if message is None else message.format(detail=health.detail)


class Backoff:
    """Delays of 1, 2, 4 … seconds up to :data:`MAX_DELAY`; :meth:`reset` after a success."""

    def __init__(self, first: float = FIRST_DELAY, most: float = MAX_DELAY) -> None:
        self.first, self.most = first, most
        self.delay = first

    def next(self) -> float:
        """The delay to wait now; the one after is twice as long."""
        delay = self.delay
        self.delay = min(self.delay * 2, self.most)
        return delay

    def reset(self) -> None:
        """Start again from the first delay."""
        self.delay = self.first


async def missing_streams(js: JetStreamContext) -> list[str]:
    """The streams a node needs that its server does not have (none when it cannot tell)."""
    missing = []
    for name in (EVENTS_STREAM, INBOX_STREAM):
        try:
            await js.stream_info(name)
        except nats.js.errors.NotFoundError:
            missing.append(name)
        except nats.errors.Error:
            continue  # no answer or not allowed: the parts find out and retry
    return missing


class Reporter:
    """Keeps ``daemon.json`` current and logs each problem once, then at each retry."""

    def __init__(self, node_dir: Path, url: str) -> None:
        self.node_dir, self.url = node_dir, url
        self.state = ""
        self.since = time.time()

    def set(self, state: str, detail: str = "") -> None:
        """Record ``state`` (its start time kept while it lasts)."""
        if state != self.state:
            self.state, self.since = state, time.time()
        health = Health(pid=os.getpid(), url=self.url, state=state, detail=detail, since=self.since)
        write_health(self.node_dir, health)

    def no_server(self, error: Exception, delay: float) -> str:
        """Record and return the "no server" message."""
        detail = NO_SERVER.format(url=self.url, error=_short(error), dir=self.node_dir,
                                  delay=delay)  # fmt: skip
        self.set("connecting", detail)
        return detail

    def no_streams(self, missing: list[str], delay: float) -> str:
        """Record and return the "streams missing" message."""
        detail = NO_STREAMS.format(url=self.url, streams=" or ".join(missing), delay=delay)
        self.set("streams_missing", detail)
        return detail


def _short(error: Exception) -> str:
    return (
        type(error).__name__ if isinstance(error, nats.errors.Error) else str(error) or repr(error)
    )


async def sleep_or_stop(stop: asyncio.Event, delay: float) -> bool:
    """Wait ``delay`` seconds; True when ``stop`` was set meanwhile."""
    try:
        async with asyncio.timeout(delay):
            await stop.wait()
    except TimeoutError:
        return False
    return True


__all__ = [
    "Backoff",
    "Health",
    "Reporter",
    "daemon_alert",
    "missing_streams",
    "sleep_or_stop",
    "write_health",
]
