"""A whole federation on loopback: one nats-server, one ``ledger13710 node run`` per node.

For tests, the replication benchmark and demos. Every process it starts is stopped again —
by :meth:`LocalFederation.stop`, the context manager, or at interpreter exit — and every wait
is bounded. Commands go through the real command line (:meth:`LocalFederation.cli`), and the
node stores are read directly (SQLite, read-only) for exact comparisons of replicas::

    with LocalFederation(tmp / "fed", ["sx", "sx.xinzhou"]) as fed:
        fed.cli("sx", "item", "register", ...)
        fed.wait_until(lambda: fed.replica_hashes("sx").get("sx.xinzhou"), timeout=10)
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

import nats
from nats.aio.client import Client

from ledger13710.audit.trust import trust
from ledger13710.config.node import NodeConfig, load_node_config, load_node_configs
from ledger13710.domain.directory import is_within
from ledger13710.domain.errors import ConfigError
from ledger13710.node.bootstrap import NOW_ENV, init_node
from ledger13710.node.daemon import NatsSettings, write_settings
from ledger13710.replication.nats import users as natsusers
from ledger13710.replication.nats.server import NatsServer
from ledger13710.replication.nats.topology import HUB, Topology, server_for
from ledger13710.testing.localfed_probe import FederationProbe
from ledger13710.testing.localfed_servers import leaf_cities_of, start_servers

#: The repository's node files (``nodes/*.toml``), when running from a checkout.
DEFAULT_NODES_DIR = Path(__file__).resolve().parents[3] / "nodes"
RUNNING_MARK = '"event": "node_running"'
_LIVE: set[subprocess.Popen[bytes]] = set()


class CliError(RuntimeError):
    """A command of :meth:`LocalFederation.cli` failed; the message carries its stderr."""


def ledger_command() -> list[str]:
    """How to run the ``ledger13710`` command line of this Python environment."""
    script = Path(sys.executable).parent / "ledger13710"
    if script.is_file():
        return [str(script)]
    found = shutil.which("ledger13710")
    if found:
        return [found]
    return [
        sys.executable,
        "-c",
        "import sys; from ledger13710.cli.main import main; sys.exit(main())",
    ]


def _terminate(proc: subprocess.Popen[bytes], timeout: float) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    _LIVE.discard(proc)


@atexit.register
def _stop_all() -> None:
    for proc in list(_LIVE):
        with contextlib.suppress(Exception):
            _terminate(proc, 3.0)


class LocalFederation(FederationProbe):
    """A hub nats-server on a free 127.0.0.1 port and one node process per node id."""

    def __init__(
        self,
        base_dir: str | Path,
        node_ids: Iterable[str],
        *,
        topology: Topology = "hub",
        clock_env: str | None = None,
        nodes_dir: str | Path | None = None,
        log_level: str = "info",
        node_args: Sequence[str] = (),
    ) -> None:
        if topology not in ("hub", "leaf"):
            raise ConfigError(
                f"LocalFederation runs the hub or the leaf topology, not {topology!r}"
            )
        self.base = Path(base_dir)
        self.node_ids = list(node_ids)
        self.topology = topology
        self.clock_env = clock_env
        self.nodes_dir = Path(nodes_dir) if nodes_dir is not None else DEFAULT_NODES_DIR
        self.log_level = log_level
        self.node_args = list(node_args)  # extra ``node run`` options, e.g. checkpoint cadence
        self.configs: dict[str, NodeConfig] = {}
        self.creds: dict[str, str] = {}
        self.server: NatsServer | None = None  # the hub
        self.servers: dict[str, NatsServer] = {}  # by name: the hub, then each city's leaf
        self.cities: list[str] = []  # the cities with a leaf server (topology "leaf")
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: dict[str, IO[bytes]] = {}

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The server's ``nats://127.0.0.1:<port>``."""
        if self.server is None:
            raise ConfigError("the federation is not started")
        return self.server.url

    def start(self, *, spawn: bool = True, wait: bool = True, timeout: float = 30.0) -> Self:
        """Server, streams, node directories and node processes (each logs to ``<id>.log``).

        With ``spawn=False`` the node directories are made but no node runs yet (fill a store
        first, then :meth:`start_node`); ``wait`` waits until every node is connected.
        """
        if self.server is not None:
            return self  # started already (``with LocalFederation(...)`` starts it too)
        try:
            self.base.mkdir(parents=True, exist_ok=True)
            self.configs = load_node_configs(self.nodes_dir)
            missing = [n for n in self.node_ids if n not in self.configs]
            if missing:
                raise ConfigError(f"no node file in {self.nodes_dir} for {', '.join(missing)}")
            self.creds = natsusers.make_credentials(list(self.configs))
            if self.topology == "leaf":
                self.cities = leaf_cities_of(self.configs, self.node_ids)
            self.servers = start_servers(
                self.topology, self.base, self.configs, self.creds, self.cities
            )
            self.server = self.servers[HUB]
            for node_id in self.node_ids:
                self.init(node_id)
            if not spawn:
                return self
            for node_id in self.node_ids:
                self.start_node(node_id, wait=False)
            if wait:
                for node_id in self.node_ids:
                    self.wait_running(node_id, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def init(self, node_id: str) -> Path:
        """Make the node's directory (once) and write its ``nats.json``."""
        node_dir = self.node_dir(node_id)
        if not (node_dir / "node.toml").exists():
            init_node(self.nodes_dir / f"{node_id}.toml", node_dir)
            self._exchange_keys(node_id)
        write_settings(
            node_dir,
            NatsSettings(url=self.url_for(node_id), user=node_id, password=self.creds[node_id]),
        )
        return node_dir

    def url_for(self, node_id: str) -> str:
        """The URL of the server the node connects to (its city's leaf server, or the hub)."""
        return self.servers[server_for(node_id, self.configs, self.cities)].url

    def public_key(self, node_id: str) -> str:
        """The public key the node was initialised with (as ``node show`` prints it)."""
        return load_node_config(self.node_dir(node_id) / "node.toml").node.public_key

    def _exchange_keys(self, node_id: str) -> None:
        """Configure keys as operators publishing them would: the new node's ancestors trust its
        key, and it trusts its descendants' keys, among the nodes initialised so far."""
        for other in self.node_ids:
            if other == node_id or not (self.node_dir(other) / "node.toml").exists():
                continue
            if is_within(node_id, other):
                trust(self.node_dir(other), other, node_id, self.public_key(node_id))
            elif is_within(other, node_id):
                trust(self.node_dir(node_id), node_id, other, self.public_key(other))

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM every node, wait (SIGKILL stragglers), then stop the server."""
        for node_id in list(self.procs):
            with contextlib.suppress(Exception):
                self.procs[node_id].send_signal(signal.SIGTERM)
        for node_id in list(self.procs):
            self.stop_node(node_id, timeout)
        for server in self.servers.values():
            server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- nodes -------------------------------------------------------------------------------

    def log_path(self, node_id: str) -> Path:
        """Where the node process writes its (JSON) log."""
        return self.base / f"{node_id}.log"

    def env(self) -> dict[str, str]:
        """Environment of node processes and commands: no stray ``LEDGER13710_*`` settings."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER13710_")}
        if self.clock_env:
            env[NOW_ENV] = self.clock_env
        return env

    def start_node(self, node_id: str, *, wait: bool = True, timeout: float = 30.0) -> None:
        """Start ``ledger13710 node run`` for the node (no-op when it runs)."""
        proc = self.procs.get(node_id)
        if proc is not None and proc.poll() is None:
            return
        if node_id in self._logs:
            self._logs.pop(node_id).close()
        log = self.log_path(node_id).open("ab")
        self._logs[node_id] = log
        marks = self._running_marks(node_id)
        cmd = [*ledger_command(), "--log-level", self.log_level, "node", "run", *self.node_args]
        proc = subprocess.Popen(
            [*cmd, "--dir", str(self.node_dir(node_id))],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=self.env(),
        )
        _LIVE.add(proc)
        self.procs[node_id] = proc
        if wait:
            self.wait_running(node_id, timeout, after=marks)

    def wait_running(self, node_id: str, timeout: float = 30.0, *, after: int = 0) -> None:
        """Wait until the node runs: it logged ``node_running`` (more than ``after`` times), or,
        when it logs above ``info``, the server lists its connection."""
        proc = self.procs[node_id]
        by_log = logging.getLevelNamesMapping()[self.log_level.upper()] <= logging.INFO

        def up() -> bool:
            if proc.poll() is not None:
                raise ConfigError(f"node {node_id} exited: {self.log_tail(node_id)}")
            if by_log:
                return self._running_marks(node_id) > after
            return f"ledger13710:{node_id}" in self.connection_names()

        self.wait_until(up, timeout, what=f"node {node_id} running")

    def _running_marks(self, node_id: str) -> int:
        try:
            return self.log_path(node_id).read_text("utf-8", "replace").count(RUNNING_MARK)
        except FileNotFoundError:
            return 0

    def log_tail(self, node_id: str, lines: int = 10) -> str:
        """The last lines of the node's log."""
        try:
            text = self.log_path(node_id).read_text("utf-8", "replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop_node(self, node_id: str, timeout: float = 10.0) -> None:
        """Stop the node gracefully (SIGTERM; SIGKILL after ``timeout``)."""
        proc = self.procs.pop(node_id, None)
        if proc is not None:
            _terminate(proc, timeout)
        if node_id in self._logs:
            self._logs.pop(node_id).close()

    def kill_node(self, node_id: str) -> None:
        """SIGKILL the node process (a crash)."""
        proc = self.procs.pop(node_id, None)
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)
            _LIVE.discard(proc)
        if node_id in self._logs:
            self._logs.pop(node_id).close()

    # -- the server --------------------------------------------------------------------------

    def connection_names(self) -> set[str]:
        """Names of the clients connected to the servers now (their monitoring endpoints)."""
        names: set[str] = set()
        for server in self.servers.values():
            if server.http_port is None:
                continue
            url = f"http://127.0.0.1:{server.http_port}/connz?limit=4096"
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
                    data = json.load(resp)
            except (OSError, ValueError):
                continue
            names |= {str(c.get("name", "")) for c in data.get("connections") or []}
        return names

    def kill_server(self, name: str = HUB) -> None:
        """SIGKILL a nats-server (an outage; the hub by default); its store stays on disk."""
        if name in self.servers:
            self.servers[name].kill()

    def restart_server(self, timeout: float = 20.0, name: str = HUB) -> None:
        """Start a nats-server again on the same port, configuration and store."""
        if name not in self.servers:
            raise ConfigError(f"the federation has no server {name!r}")
        self.servers[name].start(timeout)

    async def admin(self) -> Client:
        """A connection as ``admin`` (every permission): craft messages, inspect streams."""
        return await nats.connect(
            self.url, user=natsusers.ADMIN, password=self.creds[natsusers.ADMIN],
            allow_reconnect=False, connect_timeout=5,
        )  # fmt: skip

    # -- commands ----------------------------------------------------------------------------

    def cli(self, node_id: str, *args: str, now: str | None = None, timeout: float = 60.0) -> Any:
        """Run ``ledger13710 ARGS --dir <node> --json`` and return its JSON output."""
        cmd = [*ledger_command(), *args, "--dir", str(self.node_dir(node_id)), "--json"]
        if now is not None:
            cmd += ["--now", now]
        done = subprocess.run(
            cmd, capture_output=True, text=True, env=self.env(), timeout=timeout, check=False
        )
        if done.returncode != 0:
            raise CliError(
                f"{node_id}: ledger13710 {' '.join(args)} exited {done.returncode}: "
                f"{done.stderr.strip()}"
            )
        return json.loads(done.stdout) if done.stdout.strip() else None

    def status(self, node_id: str) -> Any:
        """``node status --json`` of the node."""
        return self.cli(node_id, "node", "status")
