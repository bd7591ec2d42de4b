"""The NATS side of the published contract: the envelope headers and the AsyncAPI 3 document.

:class:`Envelope` describes the ``L13710-*`` headers every event message carries (its JSON
Schema is ``schemas/envelope.json``); :func:`asyncapi` ties the NATS subjects, those headers
and the event payloads together (``schemas/asyncapi.json``). :mod:`ledger13710.contract.schemas`
renders and writes both.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec

from ledger13710.log import record as env
from ledger13710.replication import subjects as sj

_NODE = r"[a-z0-9]+(?:-[a-z0-9]+)*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*){0,3}"
_POSITIVE = r"[1-9][0-9]*"


# --- the envelope --------------------------------------------------------------------------


class Envelope(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    rename={
        "msg_id": env.H_MSG_ID,
        "origin": env.H_ORIGIN,
        "seq": env.H_SEQ,
        "prev": env.H_PREV,
        "topic": env.H_TOPIC,
        "originator": env.H_ORIGINATOR,
        "version": env.H_VERSION,
        "hash": env.H_HASH,
        "published_ns": env.H_PUBLISHED,
        "chain": env.H_CHAIN,
    },
):
    """The NATS headers of an event message: where the record sits in its origin's log.

    All values are strings (NATS headers). The payload is the stored event, byte for byte;
    ``L13710-Hash`` covers the envelope and those bytes (see docs/integrators.md).
    """

    msg_id: Annotated[
        str,
        msgspec.Meta(
            pattern=f"^{_NODE}:{_POSITIVE}$",
            description="<origin>:<seq>; JetStream drops a republished duplicate by it",
        ),
    ]
    origin: Annotated[
        str, msgspec.Meta(pattern=f"^{_NODE}$", description="the node whose log holds it")
    ]
    seq: Annotated[
        str,
        msgspec.Meta(pattern=f"^{_POSITIVE}$", description="position in the origin's log"),
    ]
    prev: Annotated[
        str,
        msgspec.Meta(
            pattern=f"^(0|{_POSITIVE})$",
            description="position of the origin's previous record (0 for the first); "
            "positions may have holes, so order is checked by this back-link",
        ),
    ]
    topic: Annotated[
        str,
        msgspec.Meta(
            pattern=rf"^ledger13710\.[a-z]+\.[A-Za-z]+\.v{_POSITIVE}$",
            description="the event topic; the payload follows schemas/<topic>.json",
        ),
    ]
    originator: Annotated[UUID, msgspec.Meta(description="the item (aggregate) id")]
    version: Annotated[
        str,
        msgspec.Meta(pattern=f"^{_POSITIVE}$", description="the aggregate version it makes"),
    ]
    hash: Annotated[
        str,
        msgspec.Meta(pattern="^[0-9a-f]{64}$", description="hex SHA-256 of envelope and payload"),
    ]
    published_ns: Annotated[
        str,
        msgspec.Meta(
            pattern="^[0-9]+$", description="when it was published (ns since the epoch); not hashed"
        ),
    ] = "0"
    chain: Annotated[
        str,
        msgspec.Meta(
            pattern="^([0-9a-f]{64})?$",
            description="the origin's chain hash at this record: hex SHA-256 of the previous "
            "record's chain hash and this record's hash (raw bytes); not hashed",
        ),
    ] = ""


# --- AsyncAPI ------------------------------------------------------------------------------


def _message_name(topic: str) -> str:
    return topic.removeprefix("ledger13710.").replace(".", "_")


def asyncapi(types: dict[str, type[msgspec.Struct]]) -> dict[str, Any]:
    """The AsyncAPI 3 document: event channels, one message per published topic.

    ``types`` maps each published topic to its Struct, in order (see
    :func:`ledger13710.contract.schemas.published_types`).
    """
    refs, components = msgspec.json.schema_components(
        [Envelope, *types.values()], ref_template="#/components/schemas/{name}"
    )
    envelope_ref, payload_refs = refs[0], refs[1:]
    messages = {
        _message_name(topic): {
            "name": topic,
            "title": cls.__name__,
            "summary": (cls.__doc__ or "").strip().splitlines()[0],
            "contentType": "application/json",
            "headers": envelope_ref,
            "payload": ref,
        }
        for (topic, cls), ref in zip(types.items(), payload_refs, strict=True)
    }
    message_refs = {name: {"$ref": f"#/components/messages/{name}"} for name in messages}
    node = {
        "description": "a node id (its government's unit id), e.g. sx.xinzhou",
        "examples": ["sx", "sx.xinzhou", "sx.xinzhou.dingxiang"],
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "ledger13710 event streams",
            "version": "1",
            "description": "Each node publishes its own log, in order, to its events subject; "
            f"JetStream stream {sj.EVENTS_STREAM} keeps it. See docs/integrators.md.",
        },
        "defaultContentType": "application/json",
        "channels": {
            "nodeLog": {
                "address": sj.events_subject("{node}"),
                "description": "One node's own log, in log order (published by that node).",
                "parameters": {"node": node},
                "messages": message_refs,
            },
            "subtree": {
                "address": sj.subtree_subject("{node}"),
                "description": "Every origin in a node's subtree, the node itself included "
                "(a subscription filter; each message's subject is its origin's nodeLog).",
                "parameters": {"node": node},
                "messages": message_refs,
            },
        },
        "operations": {
            "publishLog": {
                "action": "send",
                "channel": {"$ref": "#/channels/nodeLog"},
                "summary": "A node publishes its own records (at-least-once, in log order).",
                "messages": [{"$ref": f"#/channels/nodeLog/messages/{n}"} for n in messages],
            },
            "followSubtree": {
                "action": "receive",
                "channel": {"$ref": "#/channels/subtree"},
                "summary": f"A durable consumer on stream {sj.EVENTS_STREAM} with this filter.",
                "messages": [{"$ref": f"#/channels/subtree/messages/{n}"} for n in messages],
            },
        },
        "components": {"messages": messages, "schemas": components},
    }
