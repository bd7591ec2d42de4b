"""The published contract in ``schemas/``: generated from the code, deterministic, complete."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec
import pytest

from ledger13710.audit.store import Checkpoint
from ledger13710.contract import schemas as schemas_gen
from ledger13710.domain.events import EVENT_TYPES
from ledger13710.domain.snapshot import ItemSnapshot
from ledger13710.domain.types import Severity, Source, State
from ledger13710.domain.upcasting import Upcasters
from ledger13710.log import record as env
from ledger13710.node.daemon import NodeInfo
from ledger13710.replication import subjects as sj

ROOT = Path(__file__).resolve().parents[2]
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
SCHEMAS = ROOT / "schemas"
GOLDEN = ROOT / "tests" / "golden"
SCRIPT = ROOT / "scripts" / "gen_schemas.py"


def gen_schemas(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``scripts/gen_schemas.py`` as a person would."""
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False
    )


def conforms(
    value: Any, schema: dict[str, Any], defs: dict[str, Any], *, known_only: bool = True
) -> list[str]:
    """Why ``value`` does not fit ``schema`` (the subset of JSON Schema msgspec emits).

    With ``known_only`` False a string outside a field's known values (its ``enum``, or its
    ``anyOf`` of ``enum`` and ``pattern``) fits, as docs/versioning.md tells consumers to read
    a value added after their copy of the schema.
    """
    if "$ref" in schema:
        return conforms(value, defs[schema["$ref"].rsplit("/", 1)[-1]], defs, known_only=known_only)
    if not known_only and is_vocabulary(schema):
        schema = {k: v for k, v in schema.items() if k not in {"enum", "anyOf"}}
    if "anyOf" in schema:
        options = [conforms(value, o, defs, known_only=known_only) for o in schema["anyOf"]]
        return [] if [] in options else [f"{value!r} fits no option of {schema['anyOf']}"]
    kinds = {"string": str, "integer": int, "boolean": bool, "array": list, "object": dict}
    kind = schema.get("type")
    if kind == "null":
        return [] if value is None else [f"{value!r} is not null"]
    if kind is not None and not isinstance(value, kinds[kind]):
        return [f"{value!r} is not of type {kind}"]
    problems: list[str] = []
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{value!r} not in {schema['enum']}")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        problems.append(f"{value!r} does not match {schema['pattern']}")
    if schema.get("format") == "uuid":
        UUID(value)
    if schema.get("format") == "date-time":
        problems += [] if RFC3339.match(value) else [f"{value!r} is not an RFC 3339 date-time"]
    if kind == "array" and "items" in schema:
        for item in value:
            problems += conforms(item, schema["items"], defs, known_only=known_only)
    if kind == "object":
        problems += object_conforms(value, schema, defs, known_only=known_only)
    return problems


def is_vocabulary(schema: dict[str, Any]) -> bool:
    """Whether ``schema`` lists a string field's known values (``enum`` or enum/pattern)."""
    options = schema.get("anyOf", [])
    return "enum" in schema or (
        bool(options) and all(set(o) <= {"enum", "pattern"} for o in options)
    )


def object_conforms(
    value: dict[str, Any], schema: dict[str, Any], defs: dict[str, Any], *, known_only: bool
) -> list[str]:
    """Why an object does not fit: missing required fields, or fields that do not fit."""
    problems = [f"missing {name}" for name in schema.get("required", []) if name not in value]
    for name, sub in schema.get("properties", {}).items():
        if name in value:
            problems += conforms(value[name], sub, defs, known_only=known_only)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        for item in value.values():
            problems += conforms(item, extra, defs, known_only=known_only)
    return problems


def test_schemas_match_the_code() -> None:
    """``schemas/`` is exactly what the code generates (run scripts/gen_schemas.py if not)."""
    assert schemas_gen.drifted(SCHEMAS, schemas_gen.render_all(GOLDEN / "schemas")) == []


def test_descriptions_do_not_depend_on_how_msgspec_dedents_docstrings() -> None:
    """A docstring's later lines come out the same whether or not the library dedented them
    (msgspec 0.19 kept their indentation, 0.23 removes it), at any depth of the document."""
    kept = {"a": [{"description": "First line.\n\n    Second line,\n    third."}]}
    removed = {"a": [{"description": "First line.\n\nSecond line,\nthird."}]}
    assert schemas_gen.dumps(kept) == schemas_gen.dumps(removed)
    assert "Second line,\\nthird." in schemas_gen.dumps(kept)
    assert schemas_gen.dumps({"title": "  kept  "}) == '{\n  "title": "  kept  "\n}\n'


def test_generation_is_deterministic_and_sorted() -> None:
    """Two runs give the same text; keys are sorted and every file ends with one newline."""
    first, second = schemas_gen.render_all(), schemas_gen.render_all()
    assert first == second
    for name, text in first.items():
        assert text.endswith("}\n"), name
        assert (
            text
            == json.dumps(json.loads(text), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
        )


def test_every_published_topic_has_a_schema_but_not_snapshots() -> None:
    """Each registered event topic has ``schemas/<topic>.json``; item snapshots have none."""
    names = set(schemas_gen.render_all())
    schemas_gen.load_event_modules()
    ours = {t for t, cls in EVENT_TYPES.items() if cls.__module__.startswith("ledger13710.")}
    expected = {f"{t}.json" for t in ours - {ItemSnapshot.TOPIC}}
    others = {"envelope.json", "checkpoint.json", "node-info.json", "asyncapi.json"}
    assert expected | others == names
    assert ItemSnapshot.TOPIC in schemas_gen.versioned_types()


@pytest.mark.parametrize("topic", sorted(schemas_gen.published_types()))
def test_golden_sample_conforms_to_its_published_schema(topic: str) -> None:
    """The stored bytes of each topic validate against the schema an integrator reads, as
    docs/versioning.md says to read it: the synthetic samples hold placeholders (``"source"``)
    where a field has known values, which a consumer takes as values it does not know yet."""
    schema = json.loads((SCHEMAS / f"{topic}.json").read_text("utf-8"))
    payload = json.loads((GOLDEN / f"{topic}.json").read_bytes())
    assert conforms(payload, schema, schema["$defs"], known_only=False) == []
    wrong = {**payload, "originator_version": "1"}
    assert conforms(wrong, schema, schema["$defs"], known_only=False) != []


def test_known_values_and_formats_are_checked() -> None:
    """The enums, clock names and date-times of a schema reject what the domain never writes,
    and accept a value added later when read as consumers must."""
    schema = json.loads((SCHEMAS / "ledger13710.item.ExtensionRequested.v1.json").read_text())
    payload = json.loads((GOLDEN / "ledger13710.item.ExtensionRequested.v1.json").read_bytes())
    defs = schema["$defs"]
    for clock in ("deploy", "milestone-3"):
        assert conforms({**payload, "clock": clock}, schema, defs) == []
    assert len(conforms({**payload, "clock": "milestone-0"}, schema, defs)) == 1
    assert conforms({**payload, "clock": "later-clock"}, schema, defs, known_only=False) == []
    naive = {**payload, "clock": "resolve", "requested_due": "2016-10-20T09:00:00"}
    assert conforms(naive, schema, defs) == ["'2016-10-20T09:00:00' is not an RFC 3339 date-time"]


def test_every_schema_has_an_id_and_vocabularies_come_from_the_domain() -> None:
    """Each schema names itself by ``$id``; the enums are the domain's own types' values."""
    files = schemas_gen.render_all()
    ids = set()
    for name, text in files.items():
        if name != "asyncapi.json":
            ids.add(json.loads(text)["$id"])
            assert json.loads(text)["$id"] == schemas_gen.schema_id(name.removesuffix(".json"))
    assert len(ids) == len(files) - 1
    registered = json.loads(files["ledger13710.item.Registered.v1.json"])["$defs"]["Registered"]
    assert registered["properties"]["source"]["enum"] == [s.value for s in Source]
    assert registered["properties"]["severity"]["enum"] == [s.value for s in Severity]
    child = json.loads(files["ledger13710.item.ChildUpdated.v1.json"])["$defs"]["ChildUpdated"]
    assert child["properties"]["child_state"]["enum"] == [s.value for s in State]
    assert registered["properties"]["timestamp"]["format"] == "date-time"


def test_real_headers_conform_to_the_envelope_schema() -> None:
    """The headers the publisher sends validate against ``envelope.json``; missing ones fail."""
    schema = json.loads((SCHEMAS / "envelope.json").read_text("utf-8"))
    topic = "ledger13710.item.Urged.v1"
    state = (GOLDEN / f"{topic}.json").read_bytes()
    oid = str(json.loads(state)["originator_id"])
    headers = env.headers_of(env.make_record("sx.xinzhou", 7, 5, topic, oid, 1, state))
    assert conforms(headers, schema, schema["$defs"]) == []
    del headers[env.H_PREV]
    assert conforms(headers, schema, schema["$defs"]) == ["missing L13710-Prev"]


def test_asyncapi_describes_the_subjects_and_every_message() -> None:
    """The AsyncAPI 3 channels use the subject scheme; every message resolves to a schema."""
    doc = json.loads((SCHEMAS / "asyncapi.json").read_text("utf-8"))
    assert doc["asyncapi"].startswith("3.")
    addresses = {name: ch["address"] for name, ch in doc["channels"].items()}
    assert {
        "nodeLog": sj.events_subject("{node}"),
        "publicMirror": sj.subtree_subject("{node}"),
        "info": sj.info_subject("{node}"),
        "infoReply": None,
    } == addresses
    assert {"hub", "provinceHub", "cityLeaf"} == set(doc["servers"])
    assert doc["components"]["securitySchemes"]["userPassword"]["type"] == "userPassword"
    messages = doc["components"]["messages"]
    protocol = {"checkpoint", "infoRequest", "infoReply"}
    assert set(schemas_gen.published_types()) | protocol == {m["name"] for m in messages.values()}
    schemas = doc["components"]["schemas"]
    for name, message in messages.items():
        refs = [message.get(part, {}).get("$ref") for part in ("payload", "headers")]
        for ref in filter(None, refs):
            assert ref.rsplit("/", 1)[-1] in schemas
        assert ("headers" in message) == (name not in {"infoRequest", "infoReply"})
    for op in doc["operations"].values():
        channel = op["channel"]["$ref"].rsplit("/", 1)[-1]
        assert all(m["$ref"].startswith(f"#/channels/{channel}/messages/") for m in op["messages"])


def test_check_names_drifted_and_stale_files(tmp_path: Path) -> None:
    """``--check`` exits 1 naming a changed and a stale file; writing repairs both."""
    target = tmp_path / "schemas"
    shutil.copytree(SCHEMAS, target)
    (target / "envelope.json").write_text("{}\n", "utf-8")
    (target / "ledger13710.item.Gone.v1.json").write_text("{}\n", "utf-8")
    check = gen_schemas("--check", "--dir", str(target))
    assert check.returncode == 1
    assert "envelope.json: differs" in check.stderr
    assert "ledger13710.item.Gone.v1.json: differs" in check.stderr
    assert gen_schemas("--dir", str(target)).returncode == 0
    assert gen_schemas("--check", "--dir", str(target)).returncode == 0
    assert not (target / "ledger13710.item.Gone.v1.json").exists()


def test_write_into_an_empty_directory_creates_everything(tmp_path: Path) -> None:
    """Generating from nothing gives every file, and then no drift."""
    written = schemas_gen.write(tmp_path / "out")
    assert sorted(schemas_gen.render_all()) == written
    assert schemas_gen.drifted(tmp_path / "out") == []


def test_a_retired_topic_keeps_its_frozen_schema_marked_deprecated(tmp_path: Path) -> None:
    """History still carries a retired topic, so its frozen schema stays published."""
    current = "ledger13710.item.Urged.v1"
    old = "ledger13710.item.Urged.v0"
    (tmp_path / f"{old}.json").write_text('{"title": "old"}\n', "utf-8")
    upcasters = Upcasters(schemas_gen.published_types())
    upcasters.register(old, current)(dict)
    files = schemas_gen.render_all(tmp_path, upcasters)
    assert json.loads(files[f"{old}.json"]) == {
        "title": "old",
        "deprecated": True,
        "$comment": f"retired: read as {current} through an upcaster",
    }
    with pytest.raises(RuntimeError, match="has no frozen schema"):
        schemas_gen.render_all(tmp_path / "empty", upcasters)


def test_the_documented_hash_example_is_right() -> None:
    """The worked example in docs/integrators.md hashes as ``record_hash`` does."""
    doc = (ROOT / "docs" / "integrators.md").read_text("utf-8")
    payload = re.search(r'^\{"originator_id".*\}$', doc, re.MULTILINE)
    digest = re.search(r"hashes to `([0-9a-f]{64})`", doc)
    assert payload is not None
    assert digest is not None
    oid = "0e316f8d-9135-5719-864b-bdee2e2a9643"
    topic = "ledger13710.item.Urged.v1"
    state = payload[0].encode()
    assert env.record_hash("sx.xinzhou", 7, 5, topic, oid, 2, state) == digest[1]


def test_checkpoint_and_info_schemas_fit_what_a_node_sends() -> None:
    """A checkpoint and an info reply as a node encodes them fit their published schemas."""
    cp = Checkpoint(
        origin="sx", tree_size=5, root_hash="ab" * 32, last_seq=5, chain_hash="cd" * 32,
        timestamp="2016-10-21T11:00:00+08:00", public_key="ef" * 32, signature="01" * 64,
    )  # fmt: skip
    info = NodeInfo(node="sx", public_key=cp.public_key, last_seq=5, checkpoint=cp)
    before_any = msgspec.structs.replace(info, checkpoint=None)
    sent = [
        ("checkpoint", cp, "origin"),
        ("node-info", info, "node"),
        ("node-info", before_any, "node"),
    ]
    for name, value, field in sent:
        schema = json.loads((SCHEMAS / f"{name}.json").read_text("utf-8"))
        data = json.loads(msgspec.json.encode(value))
        assert conforms(data, schema, schema["$defs"]) == []
        assert conforms({**data, field: 1}, schema, schema["$defs"]) == ["1 is not of type string"]


@pytest.mark.skipif(shutil.which("node") is None, reason="node (Node.js) is not installed")
def test_the_official_asyncapi_parser_accepts_the_document(tmp_path: Path) -> None:
    """``@asyncapi/parser`` (tools/asyncapi, as scripts/test.sh runs it) finds no error or
    warning in schemas/asyncapi.json, and does find a payload of an unknown type."""
    tool = ROOT / "tools" / "asyncapi"
    if not (tool / "node_modules" / "@asyncapi" / "parser").is_dir():
        pytest.skip("the parser is not installed: npm ci --prefix tools/asyncapi --ignore-scripts")

    def validate(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["node", str(tool / "validate.mjs"), str(path)],
            capture_output=True, text=True, check=False, timeout=120,
        )  # fmt: skip

    good = validate(SCHEMAS / "asyncapi.json")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "valid AsyncAPI 3." in good.stdout
    doc = json.loads((SCHEMAS / "asyncapi.json").read_text("utf-8"))
    doc["components"]["messages"]["infoRequest"]["payload"] = {"type": "text"}
    (tmp_path / "broken.json").write_text(json.dumps(doc), "utf-8")
    bad = validate(tmp_path / "broken.json")
    assert bad.returncode == 1
    assert "infoRequest.payload" in bad.stdout
