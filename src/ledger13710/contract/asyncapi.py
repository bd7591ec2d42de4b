"""The NATS side of the published contract: the envelope headers and the AsyncAPI 3 document.

:class:`Envelope` describes the ``L13710-*`` headers every event message carries (its JSON
Schema is ``schemas/envelope.json``), :class:`CheckpointHeaders` those of a signed checkpoint on
the same subject; :func:`asyncapi` ties the servers, the NATS subjects a consumer may use, the
headers and the payloads together (``schemas/asyncapi.json``), checked by the official AsyncAPI
parser in ``tools/asyncapi/``. :mod:`ledger13710.contract.schemas` renders and writes them.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec

from ledger13710.audit.store import Checkpoint
from ledger13710.log import record as env
from ledger13710.node.daemon import NodeInfo
from ledger13710.replication import subjects as sj
from ledger13710.replication.nats import users as natsusers
from ledger13710.replication.nats.topology import DUPLICATE_WINDOW

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


class CheckpointHeaders(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    rename={"msg_id": env.H_MSG_ID, "kind": env.H_KIND, "origin": env.H_ORIGIN},
):
    """The NATS headers of a signed checkpoint on its node's events subject (not an event)."""

    msg_id: Annotated[
        str,
        msgspec.Meta(
            pattern=f"^{_NODE}:cp:{_POSITIVE}$",
            description="<origin>:cp:<tree_size>; JetStream drops a republished duplicate by it",
        ),
    ]
    kind: Annotated[
        str,
        msgspec.Meta(
            description="marks the message as a checkpoint, not an event",
            extra_json_schema={"enum": [env.KIND_CHECKPOINT]},
        ),
    ]
    origin: Annotated[
        str, msgspec.Meta(pattern=f"^{_NODE}$", description="the node whose log it covers")
    ]


# --- AsyncAPI

_SECURITY = [{"$ref": "#/components/securitySchemes/userPassword"}]
_NODE_PARAMETER = {
    "description": "a node id (its government's unit id), e.g. sx.xinzhou",
    "examples": ["sx", "sx.xinzhou", "sx.xinzhou.dingxiang"],
}
_SERVERS_NOTE = (
    "Integrators connect here as user `integrator`, read the public mirror "
    f"{sj.PUBLIC_STREAM} and ask `l13710.info.<node>._`."
)


def _message_name(topic: str) -> str:
    return topic.removeprefix("ledger13710.").replace(".", "_")


def _servers() -> dict[str, Any]:
    """The hub topology's server and the leaf topology's two kinds (docs/integrators.md)."""

    hub_port = {"default": "4333", "description": "its client port (nats setup --port)"}
    city_port = {"description": "its client port (nats setup --city <city>=PORT)"}

    def server(
        title: str, description: str, example: str, port: dict[str, str] = hub_port
    ) -> dict[str, Any]:
        return {
            "host": "{host}:{port}",
            "protocol": "nats",
            "title": title,
            "description": description,
            "variables": {
                "host": {"description": "the server's address", "examples": [example]},
                "port": port,
            },
            "security": _SECURITY,
        }

    return {
        "hub": server(
            "hub topology: the server",
            "Every node connects to one server (or a 3-server JetStream cluster), which keeps "
            f"{sj.EVENTS_STREAM} (every log) and its mirror {sj.PUBLIC_STREAM}. " + _SERVERS_NOTE,
            "nats.province.example",
        ),
        "provinceHub": server(
            "leaf topology: the province hub",
            f"JetStream domain `hub`. Its {sj.EVENTS_STREAM} sources each city's, so it holds "
            f"every log once a city's link is up; {sj.PUBLIC_STREAM} mirrors it. " + _SERVERS_NOTE,
            "nats.province.example",
        ),
        "cityLeaf": server(
            "leaf topology: a city's leaf server",
            "A leaf node of the hub, JetStream domain `<city id with _ for .>` (sx_xinzhou): the "
            "city's nodes connect here and keep working while the link is down. It has no "
            f"{sj.PUBLIC_STREAM}; integrators use the hub. Core request/reply crosses the link.",
            "nats.xinzhou.example",
            city_port,
        ),
    }


def _channels(event_refs: dict[str, Any]) -> dict[str, Any]:
    """Every subject a consumer may use, with the messages on it."""
    node = {"node": {"$ref": "#/components/parameters/node"}}
    log = {**event_refs, "checkpoint": {"$ref": "#/components/messages/checkpoint"}}
    hubs = [{"$ref": "#/servers/hub"}, {"$ref": "#/servers/provinceHub"}]
    return {
        "nodeLog": {
            "address": sj.events_subject("{node}"),
            "title": "a node's own log",
            "description": "One node's own records, in log order, published by that node, and "
            "its signed checkpoints (header L13710-Kind: checkpoint), each after the records "
            f"it covers. Stream {sj.EVENTS_STREAM} keeps them with no age limit.",
            "parameters": node,
            "messages": log,
        },
        "publicMirror": {
            "address": sj.subtree_subject("{node}"),
            "title": "a subtree, read from the public mirror",
            "description": f"What an integrator reads: a consumer on stream {sj.PUBLIC_STREAM} "
            f"(a read-only mirror of {sj.EVENTS_STREAM}, same subjects and messages) with this "
            "filter gets every origin of the node's subtree, the node included; each message "
            "keeps its origin's nodeLog subject. Order holds per origin only.",
            "parameters": node,
            "servers": hubs,
            "messages": log,
        },
        "info": {
            "address": sj.info_subject("{node}"),
            "title": "ask a node for its key and latest checkpoint",
            "description": "Core NATS request/reply, answered by the node itself (empty request).",
            "parameters": node,
            "messages": {"infoRequest": {"$ref": "#/components/messages/infoRequest"}},
        },
        "infoReply": {
            "address": None,
            "title": "the answer to an info request",
            "description": "Sent to the request's reply subject (the requester's _INBOX.>).",
            "messages": {"infoReply": {"$ref": "#/components/messages/infoReply"}},
        },
    }


def _operations(event_names: list[str]) -> dict[str, Any]:
    def refs(channel: str, names: list[str]) -> list[dict[str, str]]:
        return [{"$ref": f"#/channels/{channel}/messages/{n}"} for n in names]

    log = [*event_names, "checkpoint"]
    return {
        "publishLog": {
            "action": "send",
            "channel": {"$ref": "#/channels/nodeLog"},
            "summary": "A node publishes its own records (at-least-once, in log order) and its "
            "checkpoints.",
            "messages": refs("nodeLog", log),
        },
        "followSubtree": {
            "action": "receive",
            "channel": {"$ref": "#/channels/publicMirror"},
            "summary": f"An integrator's durable pull consumer on {sj.PUBLIC_STREAM} with this "
            "filter (deliver all, explicit ack); deduplicate by (origin, seq).",
            "security": _SECURITY,
            "messages": refs("publicMirror", log),
        },
        "askInfo": {
            "action": "send",
            "channel": {"$ref": "#/channels/info"},
            "summary": "Ask a node for its public key and latest signed checkpoint.",
            "messages": refs("info", ["infoRequest"]),
            "reply": {
                "channel": {"$ref": "#/channels/infoReply"},
                "messages": refs("infoReply", ["infoReply"]),
            },
        },
    }


def _components(
    types: dict[str, type[msgspec.Struct]],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The messages and the schemas they use (every Struct once, under its name)."""
    structs = [Envelope, CheckpointHeaders, Checkpoint, NodeInfo, *types.values()]
    refs, schemas = msgspec.json.schema_components(
        structs, ref_template="#/components/schemas/{name}"
    )
    envelope, cp_headers, checkpoint, info, *payloads = refs
    messages: dict[str, Any] = {
        _message_name(topic): {
            "name": topic,
            "title": cls.__name__,
            "summary": (cls.__doc__ or "").strip().splitlines()[0],
            "contentType": "application/json",
            "headers": envelope,
            "payload": ref,
        }
        for (topic, cls), ref in zip(types.items(), payloads, strict=True)
    }
    messages["checkpoint"] = {
        "name": "checkpoint",
        "title": "Checkpoint",
        "summary": "A signed tree head of the origin's log; not an event (no L13710-Seq).",
        "description": "Skip (acknowledge) it if you only follow events. Its signature covers "
        "the body of docs/record-format.md.",
        "contentType": "application/json",
        "headers": cp_headers,
        "payload": checkpoint,
    }
    messages["infoRequest"] = {
        "name": "infoRequest",
        "title": "Info request",
        "summary": "Empty: the subject says which node is asked.",
        "payload": {"type": "string", "maxLength": 0},
    }
    messages["infoReply"] = {
        "name": "infoReply",
        "title": "Info reply",
        "summary": "The node's current public key, last position and latest checkpoint.",
        "contentType": "application/json",
        "payload": info,
    }
    return messages, schemas


def asyncapi(types: dict[str, type[msgspec.Struct]]) -> dict[str, Any]:
    """The AsyncAPI 3 document: servers, channels a consumer may use, their messages.

    ``types`` maps each published topic to its Struct, in order (see
    :func:`ledger13710.contract.schemas.published_types`).
    """
    messages, schemas = _components(types)
    event_names = [_message_name(topic) for topic in types]
    event_refs = {n: {"$ref": f"#/components/messages/{n}"} for n in event_names}
    return {
        "asyncapi": "3.1.0",
        "info": {
            "title": "ledger13710 event streams",
            "version": "1",
            "description": "Each node publishes its own log, in order, to its events subject; "
            f"JetStream stream {sj.EVENTS_STREAM} keeps it and integrators read its mirror "
            f"{sj.PUBLIC_STREAM}. Republished duplicates within {DUPLICATE_WINDOW:.0f} s are "
            "dropped by Nats-Msg-Id. See docs/integrators.md and docs/record-format.md.",
        },
        "defaultContentType": "application/json",
        "servers": _servers(),
        "channels": _channels(event_refs),
        "operations": _operations(event_names),
        "components": {
            "messages": messages,
            "schemas": schemas,
            "parameters": {"node": _NODE_PARAMETER},
            "securitySchemes": {
                "userPassword": {
                    "type": "userPassword",
                    "description": "NATS user and password. Integrators log in as "
                    f"`{natsusers.INTEGRATOR}` (created by `ledger13710 nats setup`; its "
                    "password is in the credentials file); the server lets it read "
                    f"{sj.PUBLIC_STREAM} and ask l13710.info.*, nothing else.",
                }
            },
        },
    }
