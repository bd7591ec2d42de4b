"""The published contract, generated from the code: JSON Schemas and an AsyncAPI document.

``schemas/`` holds one JSON Schema (2020-12) per published event topic, one for the envelope
(the ``L13710-*`` headers every event message carries), one for a signed checkpoint and one for
the ``l13710.info.<node>._`` reply, and ``asyncapi.json`` (AsyncAPI 3: servers, the NATS
subjects, messages and headers). Everything is derived from the msgspec Structs with
:func:`msgspec.json.schema_components`, serialised with sorted keys, so the same code always
gives the same bytes and a test can fail when ``schemas/`` drifts (``scripts/gen_schemas.py``).

Every event topic registered in :data:`ledger13710.domain.events.EVENT_TYPES` is picked up,
whichever module of the package registers it (every module is imported first). Item
snapshots are versioned like events but live in the snapshots table, never in the
notification log, so they are not published.

``tests/golden/`` keeps one stored sample and a frozen copy of the schema of every topic ever
registered (snapshots included); :func:`freeze_new` adds them for new topics and never
overwrites one.

The envelope Struct and the AsyncAPI document live in :mod:`ledger13710.contract.asyncapi`;
the check of a schema against its frozen copy in :mod:`ledger13710.contract.compat`.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, uuid5

import msgspec
import msgspec.inspect as mi

import ledger13710
from ledger13710.application.mapper import encode_event
from ledger13710.audit.store import Checkpoint
from ledger13710.contract.asyncapi import Envelope, asyncapi
from ledger13710.domain.events import EVENT_TYPES
from ledger13710.domain.snapshot import ItemSnapshot
from ledger13710.domain.upcasting import UPCASTERS, Upcasters
from ledger13710.node.daemon import NodeInfo

JSON_SCHEMA = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID_PREFIX = "urn:ledger13710:schema:"
ENVELOPE_FILE = "envelope.json"
CHECKPOINT_FILE = "checkpoint.json"  # a signed checkpoint message's payload
NODE_INFO_FILE = "node-info.json"  # the l13710.info.<node>._ reply
ASYNCAPI_FILE = "asyncapi.json"
#: Versioned, but stored in the snapshots table: never in the log, so never published.
NOT_PUBLISHED = frozenset({ItemSnapshot.TOPIC})


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
    """Deterministic JSON text: sorted keys, two-space indent, UTF-8 as is, final newline.

    Every ``description`` is cleaned as :func:`inspect.cleandoc` does, so the text does not
    depend on how a given msgspec release dedents docstrings (0.19 kept the indentation of a
    docstring's later lines, 0.23 removes it).
    """
    return json.dumps(_cleaned(document), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def _cleaned(value: object) -> object:
    if isinstance(value, dict):
        return {
            k: inspect.cleandoc(v) if k == "description" and isinstance(v, str) else _cleaned(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_cleaned(v) for v in value]
    return value


def schema_id(name: str) -> str:
    """The ``$id`` of the schema named ``name`` (a topic, or ``envelope``): a name, not a place
    to download from (the files are in ``schemas/``), and stable for a topic forever."""
    return f"{SCHEMA_ID_PREFIX}{name}"


def type_schema(topic: str, cls: type[msgspec.Struct]) -> dict[str, Any]:
    """A self-contained JSON Schema of one Struct type (its components under ``$defs``)."""
    (ref,), defs = msgspec.json.schema_components([cls], ref_template="#/$defs/{name}")
    return {"$schema": JSON_SCHEMA, "$id": schema_id(topic), "title": topic, **ref, "$defs": defs}


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
    files[CHECKPOINT_FILE] = dumps(type_schema("checkpoint", Checkpoint))
    files[NODE_INFO_FILE] = dumps(type_schema("node-info", NodeInfo))
    files[ASYNCAPI_FILE] = dumps(asyncapi(published_types()))
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
