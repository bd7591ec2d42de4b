"""Helpers for the tests against real nats-server processes (never the one on port 4222)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import nats
from nats.aio.client import Client

from ledger13710.config.node import NodeConfig, load_node_configs
from ledger13710.replication.subjects import reply_prefix

NODES = Path(__file__).resolve().parents[2] / "nodes"
T = TypeVar("T")
#: Seconds: the ceiling for one step that succeeds in milliseconds on an idle machine (a
#: publish, a flush, a fetch). Generous, so that a loaded 2-core machine is not a failure;
#: probes that expect a denial keep their short timeouts, since there a timeout is the answer.
PATIENCE = 30
#: Seconds: the ceiling for a condition (a record reaching another server) to come true.
WAIT = 120.0


def real_nodes() -> dict[str, NodeConfig]:
    """The federation of the repository's ``nodes/*.toml``."""
    return load_node_configs(NODES)


#: Connections opened by :func:`connect_as` in the body :func:`run` is running.
_OPEN: list[Client] = []


def run(coro: Coroutine[Any, Any, T], timeout: float = 120.0) -> T:
    """Run an async test body to completion, failing it after ``timeout`` seconds; connections
    it made with :func:`connect_as` and left open (a failed assertion) are closed after it."""

    async def body() -> T:
        try:
            return await asyncio.wait_for(coro, timeout)
        finally:
            for nc in _OPEN:
                if not nc.is_closed:
                    with contextlib.suppress(Exception):
                        await nc.close()
            _OPEN.clear()

    return asyncio.run(body())


@dataclass
class Session:
    """A connection as one user, with the errors the server reported to it."""

    nc: Client
    errors: list[str] = field(default_factory=list)

    async def violation(self, needle: str, timeout: float = 3.0) -> str:
        """Wait until an error mentioning ``needle`` arrives; return it (fails on timeout).

        nats-py lowercases the server's whole ``-ERR`` line, subject included, so the match
        is case-insensitive.
        """
        needle = needle.lower()
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            for err in self.errors:
                if needle in err:
                    return err
            await asyncio.sleep(0.02)
        raise AssertionError(f"no error mentioning {needle!r}; got {self.errors}")


async def connect_as(url: str, user: str, password: str) -> Session:
    """Connect as ``user`` the way a node does: its own inbox prefix, no reconnect loop."""
    errors: list[str] = []

    async def on_error(err: Exception) -> None:
        errors.append(str(err))

    nc = await nats.connect(
        url,
        user=user,
        password=password,
        inbox_prefix=reply_prefix(user) if user != "admin" else "_I.admin",
        error_cb=on_error,
        allow_reconnect=False,
        connect_timeout=PATIENCE,
    )
    _OPEN.append(nc)
    return Session(nc, errors)


async def eventually(
    check: Callable[[], Awaitable[bool]], timeout: float, step: float = 0.2
) -> None:
    """Poll ``check`` until it is true; fail after ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(step)
