"""The one place where a node is wired: config, directory, policy, calendar, store, clock.

A node's data directory holds:

- ``node.toml``     the node's configuration (a self-contained copy made by ``node init``)
- ``nodes.json``    ids of the nodes of the federation (to route sub-assignments)
- ``events.sqlite`` the event store, when the store kind is sqlite
- ``directory.sqlite`` contact details (never in events: they can be corrected or erased)
- ``boards.toml``   optional extra boards ("1+X")
- ``keys/node.ed25519`` the node's signing key (its public key is ``node.public_key``), unless
  ``[node] key_file`` puts it elsewhere (the production setting: outside the data directory)
- ``trusted_keys.json`` the descendants' public keys it trusts (:mod:`ledger13710.audit.trust`)
"""

from __future__ import annotations

import json
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path

import msgspec

from ledger13710.application.attachments import ATTACHMENTS_DIR
from ledger13710.application.ledger import LedgerApp
from ledger13710.application.node import Node
from ledger13710.config.boards import load_boards
from ledger13710.config.calendars import load_calendar, warn_if_uncovered
from ledger13710.config.directory_store import DirectoryStore
from ledger13710.config.dump import dump_node_config
from ledger13710.config.node import load_node_config, load_node_configs
from ledger13710.config.policies import load_policy
from ledger13710.config.store import postgres_schema, store_env
from ledger13710.domain.clock import Clock, ManualClock
from ledger13710.domain.errors import InputError
from ledger13710.domain.types import SHANGHAI
from ledger13710.logging import get_logger

log = get_logger("ledger13710.bootstrap")

NOW_ENV = "LEDGER13710_NOW"


class SystemClock:
    """The wall clock, in Shanghai time."""

    def now(self) -> datetime:
        """The current instant."""
        return datetime.now(SHANGHAI)


def parse_time(text: str, what: str = "time") -> datetime:
    """Parse an ISO date or date-time; naive values are Shanghai time."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            f"bad {what} {text!r}: use ISO form such as 2016-10-20T09:00 or 2016-10-20"
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=SHANGHAI)


def clock_at(fixed: str, what: str) -> Clock:
    """A :class:`ManualClock` at ``fixed`` (demos, drills, tests), or the wall clock when it is
    blank. Entry points call it once with what they were given (``what`` names where, for the
    error); the program below them only ever receives the clock."""
    return ManualClock(parse_time(fixed, what)) if fixed.strip() else SystemClock()


def init_node(config_path: Path, node_dir: Path, clock: Clock | None = None) -> Path:
    """``node init``: make ``node_dir`` a node directory for the node in ``config_path``."""
    # imported here: cryptography's start-up cost is for init, not for every command
    from ledger13710.audit.keys import create_node_key, key_path  # noqa: PLC0415
    from ledger13710.audit.trust import keys_from_configs, save_trusted  # noqa: PLC0415

    cfg = load_node_config(config_path)
    if (node_dir / "node.toml").exists():
        raise InputError(f"{node_dir} is already a node directory (node.toml exists)")
    node_dir.mkdir(parents=True, exist_ok=True)
    resolved = msgspec.structs.replace(
        cfg.node,
        policy=_absolute(cfg.policy_ref(), config_path.parent),
        calendar_overrides=str(cfg.calendar_overrides_path() or ""),
        public_key=create_node_key(key_path(node_dir, cfg.key_file_path())),
        key_file=str(cfg.key_file_path() or ""),
    )
    if cfg.node.public_key and cfg.node.public_key != resolved.public_key:
        log.warning(
            "new_key_differs_from_published", node=cfg.id, published=cfg.node.public_key[:16],
            new=resolved.public_key[:16],
            hint="parents trusting the published key will refuse this node's checkpoints: "
            "publish the new key (ledger13710 node trust on each parent)",
        )  # fmt: skip
    local = msgspec.structs.replace(cfg, node=resolved)
    (node_dir / "node.toml").write_text(dump_node_config(local), "utf-8")
    federation = load_node_configs(config_path.parent)
    (node_dir / "nodes.json").write_text(json.dumps(sorted(federation)), "utf-8")
    if published := keys_from_configs(cfg.id, federation):
        save_trusted(node_dir, published)
    node = open_node(node_dir, clock)
    try:  # the names of every unit of the federation, so views label the whole subtree
        own = node.directory_store.directory()
        node.directory_store.add_units(
            u.to_unit()
            for other in federation.values()
            if other.id != cfg.id
            for u in other.units
            if not own.has_unit(u.id)
        )
    finally:
        node.close()
    log.info("node_initialised", node=cfg.id, dir=str(node_dir), store=cfg.store.kind)
    return node_dir


def _absolute(ref: str, base: Path) -> str:
    if ref.startswith("builtin:"):
        return ref
    return str((base / ref).resolve())


def open_node(node_dir: Path, clock: Clock | None = None) -> Node:
    """Open the node in ``node_dir`` (made by :func:`init_node`)."""
    config_file = node_dir / "node.toml"
    if not config_file.exists():
        raise InputError(
            f"{node_dir} is not a node directory (no node.toml); "
            "create one with: ledger13710 node init --config nodes/<id>.toml --dir DIR"
        )
    cfg = load_node_config(config_file)
    policy = load_policy(cfg.policy_ref())
    calendar = load_calendar(cfg.calendar_overrides_path())
    clock = clock or SystemClock()
    warn_if_uncovered(calendar, [clock.now().year], log)
    directory_store = DirectoryStore(node_dir / "directory.sqlite")
    directory_store.import_config(cfg)
    nodes_file = node_dir / "nodes.json"
    node_ids = json.loads(nodes_file.read_text("utf-8")) if nodes_file.exists() else []
    env = store_env(cfg, node_dir)
    with postgres_schema(env) if cfg.store.kind == "postgres" else nullcontext():
        app = LedgerApp(
            node_id=cfg.id,
            policy=policy,
            calendar=calendar,
            clock=clock,
            directory=directory_store.directory(),
            boards=load_boards(node_dir / "boards.toml"),
            node_ids=node_ids,
            env=env,
            evidence_dir=node_dir / ATTACHMENTS_DIR,
        )
    return Node(dir=node_dir, config=cfg, app=app, directory_store=directory_store)
