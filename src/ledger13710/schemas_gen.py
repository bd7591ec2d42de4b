"""The published contract, generated from the code: JSON Schemas and an AsyncAPI document.

``schemas/`` holds one JSON Schema (2020-12) per published event topic, one for the envelope
(the ``L13710-*`` headers every event message carries) and ``asyncapi.json`` (AsyncAPI 3: the
NATS subjects, messages and headers). Everything is derived from the msgspec Structs with
:func:`msgspec.json.schema_components`, serialised with sorted keys, so the same code always
gives the same bytes and a test can fail when ``schemas/`` drifts (``scripts/gen_schemas.py``).

Every event topic registered in :data:`ledger13710.domain.events.EVENT_TYPES` is picked up,
whichever module of the package registers it (every module is imported first). Item
snapshots are versioned like events but live in the snapshots table, never in the
notification log, so they are not published.

``tests/golden/`` keeps one stored sample and a frozen copy of the schema of every topic ever
registered (snapshots included); :func:`freeze_new` adds them for new topics and never
overwrites one.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec
import msgspec.inspect as mi

import ledger13710
from ledger13710.application.mapper import encode_event
from ledger13710.domain.events import EVENT_TYPES
from ledger13710.domain.snapshot import ItemSnapshot
from ledger13710.domain.upcasting import UPCASTERS, Upcasters
from ledger13710.replication import envelope as env
from ledger13710.replication import subjects as sj

JSON_SCHEMA = "https://json-schema.org/draft/2020-12/schema"
ENVELOPE_FILE = "envelope.json"
ASYNCAPI_FILE = "asyncapi.json"
#: Versioned, but stored in the snapshots table: never in the log, so never published.
NOT_PUBLISHED = frozenset({ItemSnapshot.TOPIC})

_NODE = r"[a-z0-9]+(?:-[a-z0-9]+)*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*){0,3}"
_POSITIVE = r"[1-9][0-9]*"


def load_event_modules() -> None:
    """Import every module of the package, so every event topic is registered wherever it is."""
    for info in pkgutil.walk_packages(ledger13710.__path__, "ledger13710."):
        importlib.import_module(info.name)


def versioned_types() -> dict[str, type[msgspec.Struct]]:
    """Every topic the package registers (snapshots included; not tests'), sorted by topic."""
    load_event_modules()
    return {
        topic: cls
        for topic, cls in sorted(EVENT_TYPES.items())
        if cls.__module__.startswith("ledger13710.")
    }


def published_types() -> dict[str, type[msgspec.Struct]]:
    """The topics that travel in the log and over NATS, sorted by topic."""
    return {t: cls for t, cls in versioned_types().items() if t not in NOT_PUBLISHED}


def dumps(document: object) -> str:
    """Deterministic JSON text: sorted keys, two-space indent, UTF-8 as is, final newline."""
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def type_schema(topic: str, cls: type[msgspec.Struct]) -> dict[str, Any]:
    """A self-contained JSON Schema of one Struct type (its components under ``$defs``)."""
    (ref,), defs = msgspec.json.schema_components([cls], ref_template="#/$defs/{name}")
    return {"$schema": JSON_SCHEMA, "title": topic, **ref, "$defs": defs}


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


def asyncapi() -> dict[str, Any]:
    """The AsyncAPI 3 document: event channels, one message per published topic."""
    types = published_types()
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


def render_all(frozen: Path | None = None, upcasters: Upcasters = UPCASTERS) -> dict[str, str]:
    """File name -> text of everything in ``schemas/``.

    A retired topic (one with an upcaster) keeps its schema, taken from its frozen copy in
    ``frozen``, and marked deprecated: a consumer replaying history still receives it.
    """
    files = {f"{t}.json": dumps(type_schema(t, cls)) for t, cls in published_types().items()}
    for old in upcasters.steps:
        if frozen is not None:
            files[f"{old}.json"] = dumps(_retired_schema(frozen, old, upcasters))
    files[ENVELOPE_FILE] = dumps(type_schema("envelope", Envelope))
    files[ASYNCAPI_FILE] = dumps(asyncapi())
    return dict(sorted(files.items()))


def _retired_schema(frozen: Path, old: str, upcasters: Upcasters) -> dict[str, Any]:
    try:
        schema: dict[str, Any] = json.loads((frozen / f"{old}.json").read_text("utf-8"))
    except OSError as e:
        msg = f"retired topic {old} has no frozen schema in {frozen}: {e}"
        raise RuntimeError(msg) from e
    note = f"retired: read as {upcasters.current(old)} through an upcaster"
    return {**schema, "deprecated": True, "$comment": note}


def drifted(directory: Path, wanted: dict[str, str] | None = None) -> list[str]:
    """Names of the files in ``directory`` that differ from ``wanted``, are missing or stale."""
    wanted = render_all() if wanted is None else wanted
    present = {p.name for p in directory.glob("*.json")} if directory.is_dir() else set()
    out = [n for n, text in wanted.items() if not _same(directory / n, text)]
    return sorted(out + [n for n in present if n not in wanted])


def _same(path: Path, text: str) -> bool:
    try:
        return path.read_text("utf-8") == text
    except OSError:
        return False


def write(directory: Path, wanted: dict[str, str] | None = None) -> list[str]:
    """Write ``wanted`` into ``directory``, removing stale files; returns the names changed."""
    wanted = render_all() if wanted is None else wanted
    changed = drifted(directory, wanted)
    directory.mkdir(parents=True, exist_ok=True)
    for name in changed:
        if name in wanted:
            (directory / name).write_text(wanted[name], "utf-8")
        else:
            (directory / name).unlink()
    return changed


# --- golden samples ------------------------------------------------------------------------

SAMPLE_TIME = datetime(2016, 10, 20, 9, 0, tzinfo=timezone(timedelta(hours=8)))


def sample(cls: type[msgspec.Struct]) -> bytes:
    """Stored bytes of an instance of ``cls`` with every field set (for a golden sample)."""
    value = msgspec.convert(_sample(mi.type_info(cls), cls.__name__), cls)
    return encode_event(value)


def _sample(t: mi.Type, name: str) -> Any:  # noqa: PLR0911, PLR0912 - one case per kind of type
    if isinstance(t, mi.StructType):
        return {f.encode_name: _sample(f.type, f.name) for f in t.fields}
    if isinstance(t, mi.StrType):
        return name
    if isinstance(t, mi.BoolType):
        return True
    if isinstance(t, mi.IntType):
        return 1
    if isinstance(t, mi.FloatType):
        return 1.5
    if isinstance(t, mi.UUIDType):
        return str(uuid5(NAMESPACE_URL, f"ledger13710:{name}"))
    if isinstance(t, mi.DateTimeType):
        return (SAMPLE_TIME if t.tz is not False else SAMPLE_TIME.replace(tzinfo=None)).isoformat()
    if isinstance(t, mi.DateType):
        return SAMPLE_TIME.date().isoformat()
    if isinstance(t, mi.UnionType):
        return _sample(next(u for u in t.types if not isinstance(u, mi.NoneType)), name)
    if isinstance(t, mi.EnumType):
        return next(iter(t.cls)).value
    if isinstance(t, mi.LiteralType):
        return t.values[0]
    if isinstance(t, mi.ListType | mi.VarTupleType | mi.SetType | mi.FrozenSetType):
        return [_sample(t.item_type, name)]
    if isinstance(t, mi.TupleType):
        return [_sample(item, name) for item in t.item_types]
    if isinstance(t, mi.DictType):
        return {"key": _sample(t.value_type, name)}
    msg = f"no sample for field {name!r} of type {t!r}: write its golden sample by hand"
    raise TypeError(msg)


def freeze_new(golden: Path) -> list[str]:
    """Add a golden sample and a frozen schema for each topic that has none; never overwrite."""
    (golden / "schemas").mkdir(parents=True, exist_ok=True)
    added = []
    for topic, cls in versioned_types().items():
        sample_file, schema_file = golden / f"{topic}.json", golden / "schemas" / f"{topic}.json"
        if sample_file.exists() or schema_file.exists():
            continue
        sample_file.write_bytes(sample(cls))
        schema_file.write_text(dumps(type_schema(topic, cls)), "utf-8")
        added.append(topic)
    return added


# --- compatibility of a schema with its frozen copy ----------------------------------------

#: Keys that document a schema without changing what it accepts.
_DOC_KEYS = frozenset({"title", "description", "examples", "$schema", "$defs"})
_SHAPE_KEYS = frozenset({"properties", "required", "enum", "$ref"})


def breaking_changes(frozen: dict[str, Any], today: dict[str, Any]) -> list[str]:
    """How ``today``'s schema of a topic breaks events stored under its ``frozen`` copy.

    Breaking: a removed field, a changed type (or component, pattern, format, default), a new
    field without a default, a field that lost its default, a removed enum value. Allowed: new
    fields with defaults, new enum values, changed titles and descriptions.
    """
    found: list[str] = []
    old, new = (json.loads(dumps(schema)) for schema in (frozen, today))  # tuples -> lists
    _Compare(old.get("$defs", {}), new.get("$defs", {}), found).run(old, new, "")
    return found


class _Compare:
    def __init__(self, old_defs: dict[str, Any], new_defs: dict[str, Any], found: list[str]):
        self.old_defs, self.new_defs, self.found = old_defs, new_defs, found
        self.seen: set[str] = set()

    def run(self, old: dict[str, Any], new: dict[str, Any], where: str) -> None:
        old_ref, new_ref = old.get("$ref"), new.get("$ref")
        if old_ref is not None or new_ref is not None:
            if old_ref != new_ref or old_ref is None:
                self.found.append(f"{where or 'top'}: type changed from {old} to {new}")
                return
            name = old_ref.rsplit("/", 1)[-1]
            if name not in self.seen:
                self.seen.add(name)
                self.run(self.old_defs[name], self.new_defs.get(name, {}), name)
        if "properties" in old:
            self._fields(old, new, where)
        removed = set(old.get("enum", [])) - set(new.get("enum", []))
        if removed:
            self.found.append(f"{where}: enum values removed: {sorted(removed)}")
        for key in sorted((set(old) | set(new)) - _DOC_KEYS - _SHAPE_KEYS):
            if key == "default" and key not in new:
                continue  # reported as "field lost its default"
            self._value(old.get(key), new.get(key), f"{where}[{key}]")

    def _fields(self, old: dict[str, Any], new: dict[str, Any], where: str) -> None:
        before, after = old["properties"], new.get("properties", {})
        was_required, required = set(old.get("required", [])), set(new.get("required", []))
        for name, schema in before.items():
            if name not in after:
                self.found.append(f"{where}.{name}: field removed")
            else:
                self.run(schema, after[name], f"{where}.{name}")
                if name in required - was_required:
                    self.found.append(f"{where}.{name}: field lost its default")
        for name in sorted(set(after) - set(before)):
            if name in required:
                self.found.append(f"{where}.{name}: new field without a default")

    def _value(self, old: object, new: object, where: str) -> None:
        if isinstance(old, dict) and isinstance(new, dict):
            self.run(old, new, where)
        elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
            for i, (a, b) in enumerate(zip(old, new, strict=True)):
                self._value(a, b, f"{where}[{i}]")
        elif old != new:
            self.found.append(f"{where}: changed from {old!r} to {new!r}")
