"""docs/integrators.md and docs/record-format.md name only what exists in the code.

Every ``ledger13710 …`` command (with its options), NATS subject, stream, header, permission,
hashed label and repository path written in backticks must be real; the integrator's permissions
listed are exactly the ones the server is given.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from ledger13710.audit.store import Checkpoint
from ledger13710.cli.main import build_parser
from ledger13710.domain.key_events import rotation_message
from ledger13710.log import record as env
from ledger13710.log.chain import GENESIS
from ledger13710.replication import subjects as sj
from ledger13710.replication.nats import users as natsusers

ROOT = Path(__file__).resolve().parents[2]
DOCS = ["docs/integrators.md", "docs/record-format.md"]
NODE = r"[a-z0-9]+(?:-[a-z0-9]+)*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*){0,3}"


def spans(doc: str) -> list[str]:
    """The code spans of a document (text between single backticks), and its code blocks' lines."""
    text = (ROOT / doc).read_text("utf-8")
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    inline = re.findall(r"`([^`\n]+)`", re.sub(r"^```.*?^```", "", text, flags=re.M | re.S))
    return inline + [line for block in blocks for line in block.splitlines()]


def labels() -> set[str]:
    """The fixed labels the code hashes or signs (they read like commands but are bytes)."""
    body_label = Checkpoint(
        origin="", tree_size=0, root_hash="", last_seq=0, chain_hash="", timestamp="",
        public_key="",
    ).body().decode().splitlines()[0]  # fmt: skip
    rotation = rotation_message("n", 1, "o", "n").decode().splitlines()[0]
    genesis = "ledger13710 chain genesis v1"
    assert GENESIS.hex() == __import__("hashlib").sha256(genesis.encode()).hexdigest()
    return {body_label, rotation, genesis}


def check_command(words: list[str]) -> None:
    """Walk the real argument parser: each word a subcommand, an option it has, or a value."""
    parser = build_parser()
    takes_value = False
    for word in words:
        if takes_value or word.startswith("<") or word in {"...", "N"}:
            takes_value = False
            continue
        if word.startswith("-"):
            action = parser._option_string_actions.get(word)
            assert action is not None, f"{' '.join(words)}: no option {word}"
            takes_value = action.nargs != 0
            continue
        subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        assert subparsers, f"{' '.join(words)}: {word!r} is not a subcommand"
        assert word in subparsers[0].choices, f"{' '.join(words)}: no subcommand {word!r}"
        parser = subparsers[0].choices[word]


@pytest.mark.parametrize("doc", DOCS)
def test_every_command_and_label_exists(doc: str) -> None:
    """``ledger13710 …`` is a real command with real options, or a label the code hashes."""
    found = [s for s in spans(doc) if s.startswith("ledger13710 ")]
    known = labels()
    commands = [s for s in found if not any(s.startswith(label) for label in known)]
    assert commands or doc != "docs/integrators.md"
    for command in commands:
        check_command(command.split()[1:])


def subject_templates() -> list[str]:
    """Every subject shape the code uses, with ``<node>`` (or a real node id) for the node."""
    makers = [sj.events_subject, sj.subtree_subject, sj.descendants_subject, sj.info_subject,
              sj.inbox_subject, sj.fetch_subject, sj.ack_subject]  # fmt: skip
    prefixes = [sj.EV, sj.INFO, sj.INBOX, sj.FETCH, sj.ACK]
    return [m("<node>") for m in makers] + [f"{p}.{w}" for p in prefixes for w in ("*", ">")]


@pytest.mark.parametrize("doc", DOCS)
def test_every_subject_stream_and_header_exists(doc: str) -> None:
    """Subjects follow the code's subject scheme; streams and headers are the code's names."""
    words = [w for s in spans(doc) for w in re.findall(r"[$\w.<>*-]+", s)]
    patterns = [
        re.escape(t).replace(re.escape("<node>"), f"(<node>|<origin>|{NODE})")
        for t in subject_templates()
    ]
    for subject in {w for w in words if w.startswith("l13710.")}:
        assert any(re.fullmatch(p, subject) for p in patterns), subject
    streams = {sj.EVENTS_STREAM, sj.INBOX_STREAM, sj.PUBLIC_STREAM}
    headers = {v for k, v in vars(env).items() if k.startswith("H_")}
    # an origin's Object Store bucket of attachments, named by the code's rule from a node id
    bucket = re.escape(sj.attachment_bucket("<node>")).replace(
        re.escape("<node>"), "(<node|" + NODE.replace(r"\.", "_") + ")"
    )
    for word in words:
        if word.startswith("L13710_ATT_"):
            assert re.fullmatch(bucket, word), word
        elif word.startswith("L13710_"):
            assert word in streams, word
        elif word.startswith("L13710-"):
            assert word.rstrip(":") in headers, word


def test_the_integrator_permissions_listed_are_the_servers() -> None:
    """The ``$JS…`` and info subjects the integrator may publish to are exactly those listed."""
    words = {w for s in spans("docs/integrators.md") for w in s.split()}
    listed = {w for w in words if w.startswith("$JS")} | {w for w in words if w == "l13710.info.>"}
    assert set(natsusers.integrator_permissions()["publish"]["allow"]) == listed
    assert natsusers.integrator_permissions()["subscribe"]["allow"] == ["_INBOX.>"]
    assert natsusers.INTEGRATOR in natsusers.make_credentials([], seed="x")


@pytest.mark.parametrize("doc", DOCS)
def test_every_path_and_link_exists(doc: str) -> None:
    """Repository paths in code spans and relative links lead to files that exist."""
    text = (ROOT / doc).read_text("utf-8")
    paths = [
        p
        for s in spans(doc)
        for p in re.findall(r"(?:scripts|schemas|tools|tests|src)/[\w./-]+", s)
    ]
    links = re.findall(r"\]\(((?!https?:|#)[^)#]+)", text)
    assert paths or links
    for path in paths:
        target = ROOT / path.rstrip("/.")
        assert target.exists() or "<" in path, f"{doc}: {path}"
    for link in links:
        assert ((ROOT / doc).parent / link).exists(), f"{doc}: link {link}"
