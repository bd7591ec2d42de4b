"""Shared fixtures: a manual clock, the two event stores, and a wired province node.

Every node is made from the real ``nodes/*.toml`` files. A PostgreSQL node gets a copy of
``sx.toml`` with a ``[store]`` pointing at a fresh schema, dropped afterwards. When PostgreSQL is
unreachable the postgres tests fail (CI starts the server; a skip would hide a broken setup).
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from types import ModuleType

import psycopg
import pytest
from hypothesis import settings

from ledger13710.application.node import Node
from ledger13710.domain.clock import ManualClock
from ledger13710.domain.types import SHANGHAI
from ledger13710.node.bootstrap import init_node, open_node

NODES = Path(__file__).resolve().parents[1] / "nodes"
PG_CONNINFO = "host=127.0.0.1 port=5432 dbname=test user=postgres"
#: 2016-10-20 09:00 Shanghai, a Thursday in the month of the seed's worked example.
START = datetime(2016, 10, 20, 9, 0, tzinfo=SHANGHAI)

# No per-example deadline: on a loaded 2-core CI machine a slow example is not a failure (the
# suite has no timing assertions; benchmarks in scripts/ measure speed).
settings.register_profile("ledger13710", deadline=None)
settings.load_profile("ledger13710")

_SQLITE_STORE = '[store]\nkind = "sqlite"\n'
_DEFAULT_POLICY = 'policy = "builtin:13710-v1"\n'
_NO_OVERRIDES = 'calendar_overrides = ""\n'

#: ``make_node(store_kind, policy=..., overrides=...)`` -> an open Node, closed (and its schema
#: dropped) at teardown.
MakeNode = Callable[..., Node]


def _replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"nodes/sx.toml no longer contains {old!r} exactly once"
    return text.replace(old, new)


def write_config_dir(
    target: Path,
    *,
    schema: str | None = None,
    policy: str | None = None,
    overrides: Path | None = None,
) -> Path:
    """Copy ``nodes/*.toml`` into ``target`` with ``sx.toml`` changed; return the sx.toml copy.

    All node files are copied so ``node init`` still knows every node of the federation (it
    routes a sub-assignment to ``sx.xinzhou`` to that city's node, not to this one).
    """
    target.mkdir(parents=True)
    for file in NODES.glob("*.toml"):
        shutil.copy(file, target / file.name)
    text = (NODES / "sx.toml").read_text("utf-8")
    if schema is not None:
        store = f'[store]\nkind = "postgres"\ndsn = "{PG_CONNINFO}"\nschema = "{schema}"\n'
        text = _replace_once(text, _SQLITE_STORE, store)
    if policy is not None:
        text = _replace_once(text, _DEFAULT_POLICY, f'policy = "{policy}"\n')
    if overrides is not None:
        text = _replace_once(text, _NO_OVERRIDES, f'calendar_overrides = "{overrides}"\n')
    sx = target / "sx.toml"
    sx.write_text(text, "utf-8")
    return sx


def drop_schema(schema: str) -> None:
    """Remove a test schema and everything in it."""
    with psycopg.connect(PG_CONNINFO, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def clock() -> ManualClock:
    """A manual clock at 2016-10-20 09:00 Shanghai time."""
    return ManualClock(START)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_kind(request: pytest.FixtureRequest) -> str:
    """The event store under test: ``sqlite`` or ``postgres``."""
    kind: str = request.param
    return kind


@pytest.fixture
def make_node(tmp_path: Path, clock: ManualClock) -> Iterator[MakeNode]:
    """A factory of province nodes in ``tmp_path``; every node and schema is cleaned up."""
    opened: list[Node] = []
    schemas: list[str] = []

    def make(
        store_kind: str = "sqlite",
        *,
        policy: str | None = None,
        overrides: Path | None = None,
    ) -> Node:
        n = len(opened) + len(schemas)
        schema = None
        if store_kind == "postgres":
            schema = f"t_{uuid.uuid4().hex}"
            schemas.append(schema)
        config = write_config_dir(
            tmp_path / f"config-{n}", schema=schema, policy=policy, overrides=overrides
        )
        node_dir = init_node(config, tmp_path / f"node-{n}")
        node = open_node(node_dir, clock)
        opened.append(node)
        return node

    yield make
    for node in opened:
        node.close()
    for schema in schemas:
        drop_schema(schema)


@pytest.fixture
def node(make_node: MakeNode, store_kind: str) -> Node:
    """An open ``sx`` (province) node on the store under test, at the fixture clock's time."""
    made = make_node(store_kind)
    assert store_kind == made.config.store.kind
    return made


@pytest.fixture
def reopen(make_node: MakeNode, clock: ManualClock) -> Iterator[Callable[[Node], Node]]:
    """Open another ``Node`` on the same directory (and so the same store) as a given one.

    It depends on ``make_node`` so these nodes close before any schema is dropped.
    """
    opened: list[Node] = []

    def again(node: Node) -> Node:
        other = open_node(node.dir, clock)
        opened.append(other)
        return other

    yield again
    for other in opened:
        other.close()


def load_script(name: str) -> ModuleType:
    """A script of ``scripts/`` imported from its path (scripts are not part of the package).

    ``scripts/`` goes on ``sys.path`` (as running ``python scripts/<name>.py`` puts it there) so
    a script can import its sibling modules (``bench_append`` imports ``bench_append_stock``).
    The script is registered in ``sys.modules`` under ``name``: eventsourcing resolves the topics
    of classes defined in a script through it, and dataclasses look up their module there.
    """
    scripts = Path(__file__).resolve().parents[1] / "scripts"
    if str(scripts) not in sys.path:
        sys.path.append(str(scripts))
    path = scripts / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
