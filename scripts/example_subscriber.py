"""Follow a subtree of the federation from the start of history, one line per event.

    NATS_USER=integrator NATS_PASSWORD=... python scripts/example_subscriber.py URL NODE DURABLE

Needs only nats-py and ``schemas/``. The durable consumer DURABLE keeps the position: run it
again with the same name and it resumes after the last event it acknowledged. Each line is
``origin seq prev topic originator version``; see docs/integrators.md.
"""

import asyncio
import contextlib
import hashlib
import json
import os
import sys
from pathlib import Path

import nats

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = {p.stem: json.loads(p.read_text("utf-8")) for p in ROOT.glob("schemas/ledger13710.*")}
HASHED = ("Origin", "Seq", "Prev", "Topic", "Originator", "Version")  # L13710-<name>, in order
TYPES = {"string": str, "integer": int, "boolean": bool, "array": list, "object": dict}


def problem(h: dict[str, str], data: bytes) -> str:
    """Why the message is not a valid event ("" when it is): headers, hash, schema."""
    envelope = [h.get(f"L13710-{k}") for k in HASHED]
    if None in envelope or h.get("L13710-Topic") not in SCHEMAS:
        return "missing headers or unknown topic"
    digest = hashlib.sha256("".join(f"{v}\0" for v in envelope).encode() + data).hexdigest()
    if digest != h.get("L13710-Hash"):
        return "hash does not match"
    schema, event = SCHEMAS[h["L13710-Topic"]], json.loads(data)
    fields = schema["$defs"][schema["$ref"].rsplit("/", 1)[1]]
    bad = [f for f, s in fields["properties"].items() if f in event and s.get("type") in TYPES
           and not isinstance(event[f], TYPES[s["type"]])]  # fmt: skip
    return "; ".join([f"missing {f}" for f in fields["required"] if f not in event] + bad)


async def main(url: str, node: str, durable: str) -> None:
    """Pull in batches, validate, print, then acknowledge (at-least-once, resumable)."""
    nc = await nats.connect(url, user=os.getenv("NATS_USER"), password=os.getenv("NATS_PASSWORD"))
    sub = await nc.jetstream().pull_subscribe(f"l13710.ev.{node}.>", durable, stream="L13710_PUB")
    while True:
        with contextlib.suppress(TimeoutError):
            for msg in await sub.fetch(100, timeout=5):
                h = msg.headers or {}
                if h.get("L13710-Kind") == "checkpoint":  # a signed tree head, not an event
                    await msg.ack_sync()
                    continue
                if why := problem(h, msg.data):
                    print(f"rejected {msg.subject}: {why}", file=sys.stderr, flush=True)
                    await msg.term()  # never redelivered; the position moves on
                    continue
                print(*(h[f"L13710-{k}"] for k in HASHED), flush=True)
                await msg.ack_sync()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(*sys.argv[1:4]))
