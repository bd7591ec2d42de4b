"""An operator's first ``node run``: no nats-server yet, then a server without the streams.

The daemon says what is missing and how to fix it, retrying with growing delays, and ``node
status`` shows it is not connected, then that streams are missing, then nothing once it runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ledger13710.replication.nats.server import NatsServer, free_port

SCRIPT = Path(sys.executable).parent / "ledger13710"
NODES = Path(__file__).resolve().parents[2] / "nodes"
CEILING = 120.0  # seconds: generous, for a loaded machine; never a timing assertion


def ledger(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the console script; it must succeed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER13710_")}
    done = subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, env=env, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done


def wait_for(what: str, condition: Callable[[], Any]) -> Any:
    """Poll ``condition`` until it returns something truthy (or fail after the ceiling)."""
    deadline = time.monotonic() + CEILING
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


def logged(log: Path, event: str) -> list[dict[str, Any]]:
    """The daemon's structured log lines of ``event``."""
    lines = log.read_text("utf-8").splitlines() if log.exists() else []
    return [e for e in (json.loads(x) for x in lines if x.startswith("{")) if e["event"] == event]


def daemon_alert(node: Path) -> str:
    """The first alert of ``node status``, if it is about the daemon (else "")."""
    alerts = json.loads(ledger("node", "status", "--dir", str(node), "--json").stdout)["alerts"]
    return next((a for a in alerts if "node run" in a), "")


def test_node_run_says_what_is_missing_and_status_shows_it(tmp_path: Path) -> None:
    """No server: "no nats-server answers … start it", retried after 1, 2, 4 s; a server without
    streams: "create the streams with …"; once both exist the daemon runs and status is clear."""
    port = free_port()
    conf, node = tmp_path / "conf", tmp_path / "sx"
    setup = ledger("nats", "setup", "--nodes", str(NODES), "--out", str(conf),
                   "--port", str(port), "--json")  # fmt: skip
    ledger("node", "init", "--config", str(NODES / "sx.toml"), "--dir", str(node))
    creds, url = str(conf / "credentials.json"), f"nats://127.0.0.1:{port}"
    ledger("nats", "connect", "--dir", str(node), "--creds", creds, "--url", url)
    assert "no `ledger13710 node run` is running" in daemon_alert(node)

    log = tmp_path / "node-run.log"
    argv = [str(SCRIPT), "--log-level", "info", "node", "run", "--dir", str(node)]
    with log.open("wb") as err:
        daemon = subprocess.Popen(argv, stderr=err)
    server = NatsServer(tmp_path / "srv", Path(json.loads(setup.stdout)["configs"][0]).read_text(),
                        port=port, name="hub")  # fmt: skip
    try:
        tries = wait_for("three connection attempts", lambda: logged(log, "nats_unreachable")[2:])
        first = logged(log, "nats_unreachable")[:3]
        assert all(f"no nats-server answers at {url}" in e["detail"] for e in first)
        assert all("nats-server -c" in e["detail"] for e in first)
        assert [e["detail"].rsplit(" ", 1)[-1] for e in first] == ["1s", "2s", "4s"]
        assert tries
        assert "not connected" in daemon_alert(node)

        server.start()
        missing = wait_for("the missing streams", lambda: logged(log, "nats_streams_missing"))
        assert "nats streams --creds OUT/credentials.json" in missing[0]["detail"]
        wait_for("status to say so", lambda: "streams are missing" in daemon_alert(node))

        ledger("nats", "streams", "--nodes", str(NODES), "--creds", creds, "--url", url)
        wait_for("the daemon to run", lambda: logged(log, "node_running"))
        assert daemon_alert(node) == ""
    finally:
        daemon.terminate()
        daemon.wait(timeout=60)
        server.stop()
    assert "no `ledger13710 node run` is running" in daemon_alert(node)
