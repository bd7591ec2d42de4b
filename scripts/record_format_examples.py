"""Write the worked examples of docs/record-format.md from a real node's log.

python scripts/record_format_examples.py           rewrite the examples in the document
python scripts/record_format_examples.py --check   exit 1 when the document differs from a run

A province node is made in a temporary directory with a fixed, published example key and a
manual clock, so every run writes the same log, checkpoint and signature (Ed25519 signatures
are deterministic). Everything shown is read back from that node's store and proof file.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from datetime import datetime, timedelta
from hashlib import sha256
from pathlib import Path
from typing import Any

import msgspec
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger13710.audit.checkpoints import make_checkpoint
from ledger13710.audit.keys import KEY_FILE, public_hex
from ledger13710.audit.proofs import prove_item
from ledger13710.audit.store import open_audit_store
from ledger13710.domain.clock import ManualClock
from ledger13710.domain.types import SHANGHAI
from ledger13710.log.chain import GENESIS
from ledger13710.log.record import headers_of
from ledger13710.node.bootstrap import init_node, open_node
from ledger13710.replication.publisher import read_log

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "record-format.md"
NODE_FILE = ROOT / "nodes" / "sx.toml"
BEGIN = "<!-- BEGIN EXAMPLES: written by scripts/record_format_examples.py, do not edit -->\n"
END = "<!-- END EXAMPLES -->\n"
#: The example node's key: public on purpose, so every run signs alike. Never use it.
EXAMPLE_KEY = Ed25519PrivateKey.from_private_bytes(
    sha256(b"ledger13710 record-format example key: public, never use it").digest()
)
START = datetime(2016, 10, 20, 9, 0, tzinfo=SHANGHAI)
PROVEN = 3  # the leaf index whose inclusion proof the document walks through


def make_log(workdir: Path) -> dict[str, Any]:
    """A real province node's log, its first checkpoint and an inclusion proof, as published:
    ``messages`` (NATS headers and payload per record), ``checkpoint`` and ``proof`` (JSON
    objects as on the wire and in a proof file) and the node's ``public_key``."""
    node_dir = init_node(NODE_FILE, workdir / "sx")
    public_key = _use_example_key(node_dir)
    clock = ManualClock(START)
    node = open_node(node_dir, clock)
    try:
        app = node.app
        number = app.register(
            title="定襄北收费站扩宽车道", source="key_work", board="daily", severity="general",
            raising_unit="sx", lead_unit="sx/transport", co_units=["sx/public-security"],
            actor="sx-general-office-sup1", assign=True,
        ).number  # fmt: skip
        clock.advance(timedelta(hours=2))
        app.deploy(number, actor="sx-transport-head", note="已部署")
        clock.advance(timedelta(days=1))
        app.feedback(number, actor="sx-transport-head", content="已拓宽两条车道")
        make_checkpoint(node)
        records = read_log(app, node.id, 0, 100)
    finally:
        node.close()
    store = open_audit_store(node_dir)
    try:
        (checkpoint,) = store.checkpoints()
        proof = prove_item(store, number)
    finally:
        store.close()
    messages = [
        {"headers": {k: v for k, v in headers_of(r).items() if k != "L13710-Published-Ns"},
         "payload": r.state.decode("utf-8")}
        for r in records
    ]  # fmt: skip
    return {
        "public_key": public_key,
        "messages": messages,
        "checkpoint": msgspec.to_builtins(checkpoint),
        "proof": msgspec.to_builtins(proof),
    }


def _use_example_key(node_dir: Path) -> str:
    pem = EXAMPLE_KEY.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (node_dir / KEY_FILE).write_bytes(pem)
    public_key = public_hex(EXAMPLE_KEY)
    config = node_dir / "node.toml"
    text, n = re.subn(
        r'^public_key = "[0-9a-f]*"$', f'public_key = "{public_key}"', config.read_text("utf-8"),
        flags=re.MULTILINE,
    )  # fmt: skip
    assert n == 1, "node.toml has no public_key line"
    config.write_text(text, "utf-8")
    return public_key


# --- the document's section ------------------------------------------------------------------


def render(log: dict[str, Any]) -> str:
    """The examples section (between the markers) for ``log`` (from :func:`make_log`)."""
    messages, cp, proof = log["messages"], log["checkpoint"], log["proof"]
    first = messages[0]["headers"]
    envelope = "".join(
        f"{first[h]}\0"
        for h in ("L13710-Origin", "L13710-Seq", "L13710-Prev", "L13710-Topic",
                  "L13710-Originator", "L13710-Version")
    ).encode()  # fmt: skip
    table = "\n".join(
        f"| {m['headers']['L13710-Seq']} | {m['headers']['L13710-Prev']} | "
        f"`{m['headers']['L13710-Topic']}` | `{m['headers']['L13710-Hash']}` | "
        f"`{m['headers']['L13710-Chain']}` |"
        for m in messages
    )
    body = _body(cp)
    event = next(e for e in proof["events"] if e["leaf_index"] == PROVEN)
    path = "\n".join(f"{i}. `{p}`" for i, p in enumerate(event["path"], 1))
    return f"""{BEGIN}
A province node (`sx`) registered and assigned one item, deployed it and reported feedback;
then it signed its first checkpoint. The example key is public (the private key is
SHA-256 of a fixed label, see the script): never use it.

**The log** (each row is one NATS message on `l13710.ev.sx._`; hashes are hex):

| seq | prev | topic | `L13710-Hash` (record hash) | `L13710-Chain` (chain hash) |
|---|---|---|---|---|
{table}

**The record hash of seq {first["L13710-Seq"]}.** The envelope bytes, hex:

```
{_hexdump(envelope)}
```

followed by the payload, {len(messages[0]["payload"].encode())} bytes of UTF-8 JSON exactly
as received:

```
{messages[0]["payload"]}
```

SHA-256 of the two together is `{first["L13710-Hash"]}`.

**The chain.** `GENESIS` = SHA-256(`ledger13710 chain genesis v1`) =
`{GENESIS.hex()}`; the chain hash of seq {first["L13710-Seq"]} is
SHA-256(`GENESIS` ‖ its record hash) = `{first["L13710-Chain"]}`, and so on down the table.

**The checkpoint**, as published (`L13710-Kind: checkpoint`, JSON payload):

```json
{msgspec.json.format(msgspec.json.encode(cp), indent=2).decode()}
```

Its body, {len(body)} bytes (each line ends with one `0x0a`, the last one too):

```
{body.decode()}```

`signature` is the Ed25519 signature of those bytes by `public_key`. `root_hash` is the Merkle
root of the {cp["tree_size"]} leaves SHA-256(`0x00` ‖ record hash), in log order.

**An inclusion proof** (from `ledger13710 audit prove --item {proof["item"]}`): the record at
seq {event["seq"]} (prev {event["prev"]}, `{event["topic"]}`) is leaf {event["leaf_index"]} of
{cp["tree_size"]}. Its audit path:

{path}

Walking it as in [Inclusion proofs](#inclusion-proofs) from SHA-256(`0x00` ‖ record hash) gives
`{cp["root_hash"]}`, the checkpoint's `root_hash`.
{END}"""


def _body(cp: dict[str, Any]) -> bytes:
    names = ("origin", "tree_size", "root_hash", "last_seq", "chain_hash", "timestamp")
    lines = ["ledger13710 checkpoint v1", *(f"{n} {cp[n]}" for n in names)]
    return "".join(f"{line}\n" for line in [*lines, f"public_key {cp['public_key']}"]).encode()


def _hexdump(data: bytes) -> str:
    rows = (data[i : i + 16] for i in range(0, len(data), 16))
    return "\n".join(" ".join(f"{b:02x}" for b in row) for row in rows)


def updated(document: str, section: str) -> str:
    """``document`` with its examples section replaced by ``section``."""
    start, end = document.find(BEGIN), document.find(END)
    if start < 0 or end < start:
        msg = f"{DOC} has no examples section: put back the lines {BEGIN.strip()} and {END.strip()}"
        raise ValueError(msg)
    return document[:start] + section + document[end + len(END) :]


def main(argv: list[str] | None = None) -> int:
    """Rewrite the section, or with ``--check`` only say whether it is up to date (exit 1)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report drift (exit 1)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        section = render(make_log(Path(tmp)))
    document = DOC.read_text("utf-8")
    try:
        wanted = updated(document, section)
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
    if args.check:
        if wanted != document:
            print(f"{DOC}: examples differ; run: python scripts/record_format_examples.py")
            return 1
        return 0
    DOC.write_text(wanted, "utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
