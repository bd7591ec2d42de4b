"""The NATS subject scheme of the federation. Everything that names a subject goes through here.

A node's id is its government's unit id (``sx``, ``sx.xinzhou``, ``sx.xinzhou.dingxiang``, …);
unit-id tokens are ``[a-z0-9-]`` only, so the terminal token ``_`` can never be a node name.

=========================================  =================================================
``l13710.ev.<node>._``                      the node's own log, published in order (JetStream)
``l13710.ev.<node>.>``                      the node's subtree, itself included
``l13710.ev.<node>.*.>``                    the node's descendants only (what a parent ingests)
``l13710.inbox.<node>._``                   assignments and review decisions for the node
``l13710.fetch.<node>._``                   request/reply: "send me your events after seq N"
``l13710.ack.<node>._``                     the parent's ingest position for the node (core)
``l13710.info.<node>._``                    request/reply: the node's public key and latest
                                            signed checkpoint (for integrators, auditors)
``_I.<node>.>``                             the node's private reply inboxes
``$O.L13710_ATT_<node>.>``                  the node's attachments (JetStream Object Store)
=========================================  =================================================
"""

from __future__ import annotations

EVENTS_STREAM = "L13710_EV"
INBOX_STREAM = "L13710_INBOX"
#: A read-only mirror of EVENTS_STREAM for integrators: their consumers live here, apart from
#: the nodes' own, so nothing an integrator does can touch a node's consumers.
PUBLIC_STREAM = "L13710_PUB"

EV = "l13710.ev"
INBOX = "l13710.inbox"
FETCH = "l13710.fetch"
ACK = "l13710.ack"
INFO = "l13710.info"
REPLY_PREFIX = "_I"


def events_subject(node: str) -> str:
    """Where ``node`` publishes its own log."""
    return f"{EV}.{node}._"


def subtree_subject(node: str) -> str:
    """Every origin in ``node``'s subtree, ``node`` itself included."""
    return f"{EV}.{node}.>"


def descendants_subject(node: str) -> str:
    """Every origin strictly below ``node``: what ``node`` ingests."""
    return f"{EV}.{node}.*.>"


def inbox_subject(node: str) -> str:
    """``node``'s inbox."""
    return f"{INBOX}.{node}._"


def descendant_inboxes(node: str) -> str:
    """The inboxes ``node`` may deliver to: those of its descendants."""
    return f"{INBOX}.{node}.*.>"


def fetch_subject(node: str) -> str:
    """Where ``node`` answers "events after seq N"."""
    return f"{FETCH}.{node}._"


def ack_subject(node: str) -> str:
    """Where ``node`` hears its parent's ingest position."""
    return f"{ACK}.{node}._"


def info_subject(node: str) -> str:
    """Where ``node`` answers "your public key and latest signed checkpoint"."""
    return f"{INFO}.{node}._"


def reply_prefix(node: str) -> str:
    """Prefix of ``node``'s private reply inboxes (nats-py ``inbox_prefix``)."""
    return f"{REPLY_PREFIX}.{node}"


def origin_of(subject: str) -> str:
    """``l13710.ev.sx.xinzhou._`` -> ``sx.xinzhou``; raises ValueError for other subjects."""
    prefix = EV + "."
    if not subject.startswith(prefix) or not subject.endswith("._"):
        msg = f"not an events subject: {subject!r}"
        raise ValueError(msg)
    return subject[len(prefix) : -2]


def consumer_name(kind: str, node: str) -> str:
    """A durable consumer name (no dots allowed): ``ingest-sx_xinzhou``."""
    return f"{kind}-{node.replace('.', '_')}"


def attachment_bucket(node: str) -> str:
    """The Object Store bucket of ``node``'s attachments: ``L13710_ATT_sx_xinzhou``."""
    return f"L13710_ATT_{node.replace('.', '_')}"


def attachment_stream(node: str) -> str:
    """The stream behind that bucket (nats' naming: ``OBJ_<bucket>``)."""
    return f"OBJ_{attachment_bucket(node)}"
