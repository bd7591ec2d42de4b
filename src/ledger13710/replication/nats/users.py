"""The federation's NATS users and what each may do: credentials, the users of the one account
and their permissions (pure, no I/O beyond the credentials file).

Every node logs in as a user named after its node id, in one account ``LEDGER``; an ``admin``
user (full permissions) creates the streams and links the servers. What a node may do is
:func:`node_permissions` — the *server* enforces it, so a compromised township cannot write
another node's log, read another subtree or reply to requests it never received. The optional
``integrator`` user (:func:`integrator_permissions`) only reads the public mirror.
"""

from __future__ import annotations

import json
import os
import random
import secrets
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from ledger13710.domain.errors import ConfigError
from ledger13710.replication import subjects as sj

ACCOUNT = "LEDGER"
ADMIN = "admin"
INTEGRATOR = "integrator"
#: A node may answer each request it received once, within a minute.
ALLOW_RESPONSES: dict[str, Any] = {"max": 1, "expires": "1m"}

# --- credentials -------------------------------------------------------------------------


def make_credentials(node_ids: Collection[str], seed: str | None = None) -> dict[str, str]:
    """A password per node id plus ``admin`` and ``integrator``; deterministic with ``seed``."""
    rng = random.Random(seed) if seed is not None else None

    def password() -> str:
        if rng is None:
            return secrets.token_urlsafe(24)
        return rng.randbytes(24).hex()

    return {user: password() for user in [ADMIN, INTEGRATOR, *sorted(node_ids)]}


def save_credentials(path: str | Path, creds: Mapping[str, str]) -> None:
    """Write ``creds`` as JSON readable by the owner only (mode 0600, also when replacing)."""
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(dict(sorted(creds.items())), out, indent=1)
        out.write("\n")


def load_credentials(path: str | Path) -> dict[str, str]:
    """Read a file written by :func:`save_credentials`; a ConfigError says what is wrong."""
    path = Path(path)
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as err:
        raise ConfigError(f"{path}: cannot read the NATS credentials: {err}") from err
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in data.items()
    ):
        raise ConfigError(f"{path}: expected a JSON object of user name -> password")
    if ADMIN not in data:
        raise ConfigError(f"{path}: no {ADMIN!r} user")
    return data


# --- permissions ---------------------------------------------------------------------------


def node_permissions(node_id: str) -> dict[str, Any]:
    """Exactly what node ``node_id`` may publish and subscribe to (everything else is denied).

    Subjects end in ``>`` only where a whole subtree is meant; a ``*``/``>`` inside an allowed
    consumer-create subject is a wildcard too, but the server checks that the filter in the
    request body equals the one in the subject, so it can only narrow the filter.
    """
    ingest, inbox = sj.consumer_name("ingest", node_id), sj.consumer_name("inbox", node_id)
    js = "$JS.API"
    publish = [
        sj.events_subject(node_id),
        sj.descendant_inboxes(node_id),
        f"{sj.FETCH}.{node_id}.*.>",
        f"{sj.ACK}.{node_id}.*.>",
        f"{js}.INFO",
        f"{js}.STREAM.INFO.{sj.EVENTS_STREAM}",
        f"{js}.STREAM.INFO.{sj.INBOX_STREAM}",
        f"{js}.CONSUMER.CREATE.{sj.EVENTS_STREAM}.{ingest}.{sj.descendants_subject(node_id)}",
        f"{js}.CONSUMER.CREATE.{sj.INBOX_STREAM}.{inbox}.{sj.inbox_subject(node_id)}",
        f"{js}.DIRECT.GET.{sj.EVENTS_STREAM}.{sj.events_subject(node_id)}",
    ]
    for stream, consumer in ((sj.EVENTS_STREAM, ingest), (sj.INBOX_STREAM, inbox)):
        publish += [
            f"{js}.CONSUMER.INFO.{stream}.{consumer}",
            f"{js}.CONSUMER.MSG.NEXT.{stream}.{consumer}",
            f"$JS.ACK.{stream}.{consumer}.>",
        ]
    return {
        "publish": {"allow": publish},
        "subscribe": {
            "allow": [
                sj.fetch_subject(node_id),
                sj.ack_subject(node_id),
                sj.info_subject(node_id),
                f"{sj.reply_prefix(node_id)}.>",
            ]
        },
        "allow_responses": dict(ALLOW_RESPONSES),
    }


def attachment_permissions(node_id: str, node_ids: Collection[str]) -> list[str]:
    """What ``node_id`` may publish for attachments: write its own bucket, read (never write)
    the buckets of its descendants. Stream names are single tokens, so each is listed."""
    js, own = "$JS.API", sj.attachment_stream(node_id)
    allow = [
        f"$O.{sj.attachment_bucket(node_id)}.>",
        f"{js}.STREAM.INFO.{own}",
        f"{js}.STREAM.PURGE.{own}",
        f"{js}.DIRECT.GET.{own}.>",
        f"{js}.STREAM.MSG.GET.{own}",
    ]
    return allow + attachment_reads([n for n in node_ids if n.startswith(node_id + ".")])


def attachment_reads(origins: Collection[str]) -> list[str]:
    """Reading (never writing) the attachment buckets of ``origins``."""
    js, allow = "$JS.API", []
    for origin in sorted(origins):
        stream = sj.attachment_stream(origin)
        allow += [
            f"{js}.STREAM.INFO.{stream}",
            f"{js}.DIRECT.GET.{stream}.>",
            f"{js}.STREAM.MSG.GET.{stream}",
            f"{js}.CONSUMER.CREATE.{stream}",
            f"{js}.CONSUMER.CREATE.{stream}.>",
            f"{js}.CONSUMER.DELETE.{stream}.>",
            f"$JS.FC.{stream}.>",
        ]
    if origins:
        allow.append(f"{js}.STREAM.NAMES")  # nats-py looks a chunk subject's stream up
    return allow


def integrator_permissions() -> dict[str, Any]:
    """Read-only: consumers on the public mirror (any name, any filter), nothing to publish.

    The mirror keeps the original subjects, so an integrator filters a subtree exactly as a
    node would (``l13710.ev.sx.xinzhou.>``); it can neither write a log nor reach the nodes'
    own consumers on ``L13710_EV``.
    """
    js, pub = "$JS.API", sj.PUBLIC_STREAM
    return {
        "publish": {
            "allow": [
                f"{js}.INFO",
                f"{js}.STREAM.INFO.{pub}",
                f"{js}.CONSUMER.CREATE.{pub}.>",
                f"{js}.CONSUMER.DURABLE.CREATE.{pub}.>",
                f"{js}.CONSUMER.INFO.{pub}.>",
                f"{js}.CONSUMER.MSG.NEXT.{pub}.>",
                f"$JS.ACK.{pub}.>",
                f"{sj.INFO}.>",  # ask any node for its public key and latest checkpoint
            ]
        },
        "subscribe": {"allow": ["_INBOX.>"]},
    }


def account_users(node_ids: Collection[str], creds: Mapping[str, str]) -> list[dict[str, Any]]:
    """The ``LEDGER`` account's users: ``admin``, ``integrator`` when it has a password, and
    every node in ``node_ids``; a ConfigError names the users without a password."""
    missing = sorted(n for n in [ADMIN, *node_ids] if n not in creds)
    if missing:
        raise ConfigError(f"no NATS password for {', '.join(missing)}; regenerate credentials")
    users: list[dict[str, Any]] = [{"user": ADMIN, "password": creds[ADMIN]}]
    if INTEGRATOR in creds:
        reader = integrator_permissions()
        reader["publish"]["allow"] += attachment_reads(node_ids)  # the evidence, like the events
        users.append({"user": INTEGRATOR, "password": creds[INTEGRATOR], "permissions": reader})
    for n in sorted(node_ids):
        perms = node_permissions(n)
        perms["publish"]["allow"] += attachment_permissions(n, node_ids)
        users.append({"user": n, "password": creds[n], "permissions": perms})
    return users
