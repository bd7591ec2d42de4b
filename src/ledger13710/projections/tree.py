"""The command tree (一网指挥): a government, its sub-governments down to townships and each
government's departments, with the items in each subtree counted per state and light.

An item counts at its lead unit and at every government above it.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from ledger13710.domain.directory import Directory, is_within, parent_government, tier_of
from ledger13710.projections.queries import BEHIND_SQL, LIGHT_SQL
from ledger13710.projections.rows import us
from ledger13710.projections.store import ReadStore


class TreeNode(msgspec.Struct, kw_only=True):
    """One unit of the command tree and the counts of its subtree."""

    unit: str
    name: str
    tier: str
    total: int = 0
    states: dict[str, int] = msgspec.field(default_factory=dict)
    lights: dict[str, int] = msgspec.field(default_factory=dict)
    behind_plan: int = 0
    children: list[TreeNode] = msgspec.field(default_factory=list)


def _path(unit: str, root: str) -> list[str]:
    """The units from ``root`` down to ``unit`` (which is within ``root``)."""
    path = [unit]
    while path[-1] != root:
        up = parent_government(path[-1])
        if up is None:
            break
        path.append(up)
    return path[::-1]


async def command_tree(
    store: ReadStore, root: str, now: datetime, directory: Directory, depth: int = 5
) -> TreeNode:
    """The tree under ``root``, ``depth`` levels deep (deeper items count at the last level)."""
    rows = await store.fetchall(
        f"SELECT lead_unit, state, {LIGHT_SQL}, sum({BEHIND_SQL}), count(*) FROM items "
        "WHERE lead_unit = :r OR lead_unit LIKE :rd OR lead_unit LIKE :rs "
        "GROUP BY lead_unit, state, 3",
        {"now": us(now), "r": root, "rd": root + ".%", "rs": root + "/%"},
    )
    nodes: dict[str, TreeNode] = {}

    def node(uid: str) -> TreeNode:
        found = nodes.get(uid)
        if found is None:
            name = directory.unit(uid).name if directory.has_unit(uid) else uid
            found = nodes[uid] = TreeNode(unit=uid, name=name, tier=tier_of(uid).value)
            if uid != root:
                parent = parent_government(uid)
                node(parent if parent is not None else root).children.append(found)
        return found

    node(root)
    for unit in directory.units():
        if unit.id != root and is_within(unit.id, root) and len(_path(unit.id, root)) <= depth:
            node(unit.id)
    for lead, state, light, behind, count in rows:
        for uid in _path(str(lead), root)[:depth]:
            n = node(uid)
            n.total += count
            n.states[state] = n.states.get(state, 0) + count
            n.lights[light] = n.lights.get(light, 0) + count
            n.behind_plan += int(behind or 0)
    for n in nodes.values():
        n.children.sort(key=lambda c: ("/" not in c.unit, c.unit))
    return nodes[root]
