"""Where a node's events are stored: eventsourcing's settings from the node's ``[store]``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ledger13710.config.node import NodeConfig
from ledger13710.domain.errors import ConfigError

_DSN_KEYS = {
    "host": "POSTGRES_HOST",
    "port": "POSTGRES_PORT",
    "dbname": "POSTGRES_DBNAME",
    "user": "POSTGRES_USER",
    "password": "POSTGRES_PASSWORD",
}
_SCHEMA_RE = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def store_env(cfg: NodeConfig, node_dir: Path) -> dict[str, str]:
    """eventsourcing settings for the node's store."""
    if cfg.store.kind == "sqlite":
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(node_dir / "events.sqlite"),
        }
    env = {"PERSISTENCE_MODULE": "eventsourcing.postgres", "POSTGRES_HOST": "127.0.0.1"}
    for part in cfg.store.dsn.split():
        key, _, value = part.partition("=")
        if key not in _DSN_KEYS or not value:
            raise ConfigError(
                f"node {cfg.id}: [store].dsn part {part!r} is not one of "
                f"{', '.join(k + '=…' for k in _DSN_KEYS)}"
            )
        env[_DSN_KEYS[key]] = value
    env.setdefault("POSTGRES_PASSWORD", "")  # trust or .pgpass auth: no password in config
    if "POSTGRES_DBNAME" not in env or "POSTGRES_USER" not in env:
        raise ConfigError(f"node {cfg.id}: [store].dsn needs dbname=… and user=…")
    schema = cfg.store.schema or "ledger_" + re.sub(r"[^a-z0-9]", "_", cfg.id)
    if not _SCHEMA_RE.fullmatch(schema):
        raise ConfigError(f"node {cfg.id}: [store].schema {schema!r} is not a plain SQL name")
    env["POSTGRES_SCHEMA"] = schema
    return env


@contextmanager
def postgres_schema(env: dict[str, str]) -> Iterator[None]:
    """Create the node's schema if it does not exist (eventsourcing creates only tables), and
    hold a lock of that schema while the body creates its tables.

    PostgreSQL's ``CREATE … IF NOT EXISTS`` is not safe against itself: two commands opening
    the node at once can fail with "tuple concurrently updated". The advisory lock serialises
    them.
    """
    import psycopg  # noqa: PLC0415 - only nodes with a PostgreSQL store need the driver

    conninfo = " ".join(f"{k}={env[v]}" for k, v in _DSN_KEYS.items() if v in env)
    schema = env["POSTGRES_SCHEMA"]
    try:
        conn = psycopg.connect(conninfo, autocommit=True, connect_timeout=5)
    except psycopg.Error as e:
        raise ConfigError(f"cannot reach PostgreSQL ({conninfo}): {e}".strip()) from None
    with conn:
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (f"ledger13710:{schema}",))
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        yield
