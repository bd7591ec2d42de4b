"""Shared by the federation tests: the worked example's tiers, people and items, and helpers.

The ``fed`` fixture runs the four tiers as real node processes (:class:`LocalFederation`); a test
module imports ``fed_fixture`` to have it. The helpers drive the worked example through the real
CLI and wait for (and check) replication.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger13710.config.node import load_node_configs
from ledger13710.testing.localfed import DEFAULT_NODES_DIR, CliError, LocalFederation

SX, CITY, COUNTY, TOWN = "sx", "sx.xinzhou", "sx.xinzhou.dingxiang", "sx.xinzhou.dingxiang.jinchang"
TIERS = [SX, CITY, COUNTY, TOWN]
OFFICE, TRANSPORT = "sx-general-office-sup1", "sx-transport-head"
HEADS = {
    CITY: "sx-xinzhou-head",
    COUNTY: "sx-xinzhou-dingxiang-head",
    TOWN: "sx-xinzhou-dingxiang-jinchang-head",
}
TOP = "sx-2016-0001"
PART = {CITY: f"{TOP}-1", COUNTY: f"{TOP}-1-1", TOWN: f"{TOP}-1-1-1"}
ITEM = {SX: TOP, **PART}  # the item each tier holds of the worked example
BELOW = {SX: CITY, CITY: COUNTY, COUNTY: TOWN}
ABOVE = {v: k for k, v in BELOW.items()}
NOW = "2016-10-20T09:00"
WAIT = 120.0  # seconds: a ceiling for what takes well under a second on an idle machine


@pytest.fixture(name="fed")
def fed_fixture(tmp_path: Path) -> Iterator[LocalFederation]:
    """The four tiers running, each node its own process; everything stopped afterwards."""
    with LocalFederation(tmp_path / "fed", TIERS, clock_env=NOW) as federation:
        yield federation


# --- helpers -----------------------------------------------------------------------------------


def show(fed: LocalFederation, node: str, number: str) -> dict[str, Any] | None:
    """``item show`` on ``node``, or None while the item is not there."""
    try:
        item: dict[str, Any] = fed.cli(node, "item", "show", number)
    except CliError:
        return None
    return item


def children(item: dict[str, Any] | None) -> dict[str, str]:
    """The roll-up an upper item holds: part number -> state."""
    return {} if item is None else {c["number"]: c["state"] for c in item["children"].values()}


def wait_state(fed: LocalFederation, node: str, number: str, state: str) -> dict[str, Any]:
    """Wait until item ``number`` on ``node`` is in ``state``."""

    def check() -> dict[str, Any] | None:
        item = show(fed, node, number)
        return item if item is not None and item["state"] == state else None

    found: dict[str, Any] = fed.wait_until(check, WAIT, what=f"{number}@{node} {state}")
    return found


def wait_part(fed: LocalFederation, node: str, number: str, part: str, state: str) -> None:
    """Wait until ``node``'s item ``number`` holds its part ``part`` in ``state``."""
    fed.wait_until(
        lambda: children(show(fed, node, number)).get(part) == state,
        WAIT,
        what=f"{number}@{node} sees {part} {state}",
    )


def act(fed: LocalFederation, node: str, action: str, *args: str, now: str) -> dict[str, Any]:
    """One lifecycle command on the node's item of the worked example, by its head."""
    actor = TRANSPORT if node == SX else HEADS[node]
    out: dict[str, Any] = fed.cli(
        node, "item", action, ITEM[node], "--actor", actor, *args, now=now
    )
    return out


def register_top(fed: LocalFederation) -> None:
    """The general office registers the seed's item for transport, with public security."""
    item = fed.cli(
        SX,
        *["item", "register", "--actor", OFFICE, "--assign", "--severity", "major"],
        *["--title", "定襄县风电法兰、塔筒企业产品运输受阻", "--board", "key-work"],
        *["--source", "key_work", "--raising-unit", "sx/general-office"],
        *["--lead-unit", "sx/transport", "--co-unit", "sx/public-security"],
        now="2016-10-20T09:30",
    )
    assert (item["number"], item["state"]) == (TOP, "assigned")


def cascade_down(fed: LocalFederation) -> None:
    """Each tier deploys its part and sub-assigns a part to the next tier down."""
    register_top(fed)
    for node in (SX, CITY, COUNTY):
        below = BELOW[node]
        assert act(fed, node, "deploy", now="2016-10-20T10:00")["state"] == "deployed"
        act(fed, node, "sub-assign", "--to-unit", below, "--part", f"{below} 落实",
            now="2016-10-20T10:30")  # fmt: skip
        part = wait_state(fed, below, PART[below], "assigned")
        assert part["parent_number"] == ITEM[node]
        assert part["lead_unit"] == below
        if node != SX:  # the deploy above has rolled up by now (it came before the part)
            wait_part(fed, ABOVE[node], ITEM[ABOVE[node]], PART[node], "deployed")


def close_out(fed: LocalFederation) -> None:
    """The general office closes the item out; the close-out cascades to every tier."""
    closed = fed.cli(
        SX, "item", "close-out", TOP, "--actor", OFFICE, "--verdict", "同意销号",
        now="2016-11-18T10:00",
    )  # fmt: skip
    assert closed["state"] == "closed"
    for node in (CITY, COUNTY, TOWN):
        item = wait_state(fed, node, PART[node], "closed")
        assert item["light"] == "done"
    for node in (SX, CITY, COUNTY):
        wait_part(fed, node, ITEM[node], PART[BELOW[node]], "closed")


def wait_replicated(fed: LocalFederation, node: str, origins: list[str]) -> None:
    """Wait until ``node`` holds exactly every record of every origin (by content hash)."""

    def complete() -> bool:
        held = fed.replica_hashes(node)
        return all(held.get(o, []) == fed.own_hashes(o) for o in origins)

    fed.wait_until(complete, WAIT, what=f"{node} holds {origins} completely")


def assert_exact_replicas(fed: LocalFederation, node: str, origins: list[str]) -> None:
    """Every record once, in order (each prev is the previous seq), counted per origin."""
    held, chains, positions = (
        fed.replica_hashes(node), fed.replica_chains(node), fed.replica_positions(node)
    )  # fmt: skip
    assert sorted(held) == sorted(origins)
    for origin in origins:
        own = fed.own_hashes(origin)
        assert held[origin] == own, origin
        assert len({h for _s, h in held[origin]}) == len(own)
        chain = chains[origin]
        assert [p for _s, p, _h in chain] == [0, *(s for s, _p, _h in chain[:-1])], origin
        assert all(a[0] < b[0] for a, b in itertools.pairwise(chain))
        assert positions[origin]["count"] == len(own)
        assert positions[origin]["last_seq"] == own[-1][0]
        assert positions[origin]["blocked"] == ""


def local_roles(node: str) -> tuple[str, str, str, str]:
    """(supervisor, raising unit, lead unit, lead head) for a node's own local item."""
    cfg = load_node_configs(DEFAULT_NODES_DIR)[node]
    sup_unit = next(u for u in cfg.units if u.supervisors and "/" in u.id)
    lead = next(u for u in cfg.units if u.head and "/" in u.id and u.id != sup_unit.id)
    return sup_unit.supervisors[0], sup_unit.id, lead.id, lead.head


def local_item(fed: LocalFederation, node: str, now: str = "2016-10-20T11:00") -> str:
    """Register, assign and deploy an item of the node's own (through the CLI)."""
    sup, raising, lead, head = local_roles(node)
    item = fed.cli(
        node, "item", "register", "--actor", sup, "--assign", "--title", f"{node} 本级事项",
        "--source", "key_work", "--board", "key-work", "--raising-unit", raising,
        "--lead-unit", lead, now=now,
    )  # fmt: skip
    number: str = item["number"]
    fed.cli(node, "item", "deploy", number, "--actor", head, now=now)
    return number
