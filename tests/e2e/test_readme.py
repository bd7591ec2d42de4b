"""README's "Using a node" works as written: every command of its first block, in order.

The block runs in a fresh directory beside a copy of ``nodes/``, with the installed
``ledger13710`` and ``nats-server`` on the PATH. Only the port changes (a free one for 4333,
so parallel runs do not collide). A line ending in ``&`` starts a background process (the
server is waited for until it accepts connections); every other command must exit 0.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from ledger13710.replication.nats.server import free_port

ROOT = Path(__file__).resolve().parents[2]
CEILING = 120.0  # seconds, for a loaded machine; never a timing assertion


def readme_commands() -> Iterator[str]:
    """The commands of the first ``bash`` block under "## Using a node" (continuations joined)."""
    text = (ROOT / "README.md").read_text("utf-8")
    section = text[text.index("## Using a node") :]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert block is not None
    yield from (line for line in block.group(1).replace("\\\n", " ").splitlines() if line)


def accepts(port: int) -> bool:
    """Whether something listens on 127.0.0.1:``port``."""
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_for(what: str, condition: Callable[[], bool]) -> None:
    """Poll ``condition()`` until true, up to the ceiling."""
    deadline = time.monotonic() + CEILING
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


def test_using_a_node_runs_as_written(tmp_path: Path) -> None:
    """Node init, nats setup, server, streams, connect, node run, an item, the ledger, status:
    each exits 0, and the daemon ends connected with nothing to alert about."""
    shutil.copytree(ROOT / "nodes", tmp_path / "nodes")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER13710_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    background: list[subprocess.Popen[bytes]] = []
    try:
        for line in readme_commands():
            argv = shlex.split(line.replace("4333", str(port)), comments=True)
            if argv[0] == "export":
                name, _, value = argv[1].partition("=")
                env[name] = value
            elif argv[-1] == "&":
                with (tmp_path / f"bg-{len(background)}.log").open("wb") as log:
                    background.append(
                        subprocess.Popen(argv[:-1], cwd=tmp_path, env=env, stdout=log, stderr=log)
                    )
                if argv[0] == "nats-server":
                    wait_for("nats-server", lambda: accepts(port))
            else:
                done = subprocess.run(
                    argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
                    check=False,
                )  # fmt: skip
                assert done.returncode == 0, f"{line}\n{done.stderr}"

        def connected() -> bool:
            status = subprocess.run(
                ["ledger13710", "node", "status", "--json"], cwd=tmp_path, env=env,
                capture_output=True, text=True, timeout=120, check=True,
            )  # fmt: skip
            report = json.loads(status.stdout)
            return not report["alerts"] and report["own"]["last_published"] > 0

        wait_for("node run to connect and publish", connected)
    finally:
        for process in reversed(background):
            process.terminate()
            process.wait(timeout=60)
