"""``ledger13710 nats setup|streams|connect`` through the real command."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import nats

from ledger13710.replication.nats import users as natsusers
from ledger13710.replication.nats.server import NatsServer, free_port
from ledger13710.replication.subjects import EVENTS_STREAM, INBOX_STREAM

CLI = str(Path(sys.executable).parent / "ledger13710")
REPO = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *args], capture_output=True, text=True, timeout=60, check=False, cwd=REPO
    )


async def _stream_names(url: str, password: str) -> list[str]:
    nc = await nats.connect(url, user=natsusers.ADMIN, password=password, allow_reconnect=False)
    try:
        js = nc.jetstream()
        return sorted(
            [(await js.stream_info(n)).config.name or "" for n in (EVENTS_STREAM, INBOX_STREAM)]
        )
    finally:
        await nc.close()


def test_setup_streams_and_connect_make_a_working_hub(tmp_path: Path) -> None:
    """setup writes a config that runs, streams creates both streams, connect writes nats.json."""
    port = free_port()
    out = tmp_path / "conf"
    setup = _run("nats", "setup", "--out", str(out), "--port", str(port), "--json")
    assert setup.returncode == 0, setup.stderr
    written = json.loads(setup.stdout)
    creds = natsusers.load_credentials(out / "credentials.json")
    config = Path(written["configs"][0]).read_text("utf-8")
    with NatsServer(tmp_path / "srv", config, port=port, name="hub").start() as server:
        streams = _run(
            "nats", "streams", "--creds", str(out / "credentials.json"), "--url", server.url
        )
        assert streams.returncode == 0, streams.stderr
        names = asyncio.run(_stream_names(server.url, creds[natsusers.ADMIN]))
    assert sorted([EVENTS_STREAM, INBOX_STREAM]) == names
    node_dir = tmp_path / "sx"
    assert _run("node", "init", "--config", "nodes/sx.toml", "--dir", str(node_dir)).returncode == 0
    creds_file = str(out / "credentials.json")
    connect = _run(
        "nats",
        "connect",
        "--dir",
        str(node_dir),
        "--creds",
        creds_file,
        "--url",
        "nats://127.0.0.1:1",
    )
    assert connect.returncode == 0, connect.stderr
    settings = json.loads((node_dir / "nats.json").read_text("utf-8"))
    assert {"url": "nats://127.0.0.1:1", "user": "sx", "password": creds["sx"]} == settings


def test_bad_city_spec_is_one_line_error(tmp_path: Path) -> None:
    """A malformed --city gives a one-line error and exit 2, no traceback."""
    done = _run("nats", "setup", "--out", str(tmp_path), "--topology", "leaf", "--city", "xinzhou")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("ledger13710: error: bad --city")
