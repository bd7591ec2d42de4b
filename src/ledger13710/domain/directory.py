"""The organisation directory: governments, their departments, and who to contact.

Unit ids follow one convention everywhere:

* a government is a dotted path of one to four parts, one per tier:
  ``sx`` (province), ``sx.xinzhou`` (city), ``sx.xinzhou.dingxiang`` (county),
  ``sx.xinzhou.dingxiang.jinchang`` (township);
* a department is ``<government>/<dept>``, e.g. ``sx/transport``; it has its government's tier.

Each part is lowercase ASCII letters and digits, with single hyphens inside
(``public-security``). Everything here is pure: the directory is built from values.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from typing import Literal

import msgspec

from ledger13710.domain.errors import InputError, NotFoundError
from ledger13710.domain.types import TIER_ORDER, Tier

UnitKind = Literal["government", "department"]
ContactRole = Literal["head", "operator", "supervisor"]

_PART = r"[a-z0-9]+(?:-[a-z0-9]+)*"
#: A government's unit id (also its node id), as a regular expression.
GOVERNMENT_ID = rf"{_PART}(?:\.{_PART}){{0,3}}"
_UNIT_ID_RE = re.compile(rf"(?P<gov>{GOVERNMENT_ID})(?:/(?P<dept>{_PART}))?")

UNIT_ID_SHAPE = (
    "a government 'sx', 'sx.xinzhou', 'sx.xinzhou.dingxiang' or "
    "'sx.xinzhou.dingxiang.jinchang' (1-4 dot-separated parts), or a department "
    "'<government>/<dept>' such as 'sx/public-security'; parts are lowercase a-z, 0-9 "
    "and inner hyphens"
)

#: How many known ids an "unknown unit" message lists before it summarises the rest.
_HINT_LIMIT = 8


class Unit(msgspec.Struct, frozen=True, kw_only=True):
    """A government or department that can raise or undertake items (承办单位)."""

    id: str
    name: str
    kind: UnitKind
    tier: Tier
    head: str = ""  # contact id of the principal (一把手); "" when not known here
    operators: tuple[str, ...] = ()  # contact ids of the operators (具体操作人员)
    supervisors: tuple[str, ...] = ()  # contact ids of the supervisors (督查室) for this unit


class Contact(msgspec.Struct, frozen=True, kw_only=True):
    """A person who receives reminders or supervises; may be erased (name and phone blanked)."""

    id: str
    name: str
    phone: str
    role: ContactRole
    unit: str


def validate_unit_id(uid: str) -> str:
    """Return ``uid`` unchanged if it is a well-formed unit id, else raise :class:`InputError`."""
    if not isinstance(uid, str) or _UNIT_ID_RE.fullmatch(uid) is None:
        raise InputError(f"bad unit id {uid!r}: expected {UNIT_ID_SHAPE}")
    return uid


def is_government(uid: str) -> bool:
    """True when ``uid`` (a valid id) names a government rather than a department."""
    return "/" not in validate_unit_id(uid)


def government_of(uid: str) -> str:
    """The government a unit belongs to: itself for a government, the prefix for a department."""
    return validate_unit_id(uid).split("/", 1)[0]


def parent_government(uid: str) -> str | None:
    """The government directly above ``uid`` in the tree.

    For a department that is its own government (``sx/transport`` → ``sx``); for a government
    it is the one a tier up (``sx.xinzhou`` → ``sx``); the province has none.
    """
    if not is_government(uid):
        return government_of(uid)
    head, dot, _ = uid.rpartition(".")
    return head if dot else None


def tier_of(uid: str) -> Tier:
    """The tier of a unit: the depth of its government's dotted path."""
    return TIER_ORDER[government_of(uid).count(".")]


def is_within(uid: str, ancestor: str) -> bool:
    """True when ``uid`` is ``ancestor`` or lies in its subtree.

    ``sx.xinzhou/transport`` is within ``sx.xinzhou`` and ``sx``; ``sx.xinzhouabc`` is not
    within ``sx.xinzhou``; nothing but the department itself is within a department.
    """
    validate_unit_id(uid)
    validate_unit_id(ancestor)
    if uid == ancestor:
        return True
    if "/" in ancestor:
        return False
    return uid.startswith(ancestor + ".") or uid.startswith(ancestor + "/")


def ancestor_governments(uid: str) -> list[str]:
    """The governments at or above ``uid``, nearest first (``sx.a/b`` → ``['sx.a', 'sx']``)."""
    parts = government_of(uid).split(".")
    return [".".join(parts[:n]) for n in range(len(parts), 0, -1)]


def host_node(uid: str, node_ids: Collection[str]) -> str:
    """The nearest government at or above ``uid`` that runs a node (one of ``node_ids``)."""
    for gov in ancestor_governments(uid):
        if gov in node_ids:
            return gov
    raise NotFoundError(
        f"no node hosts unit {uid!r}: none of {ancestor_governments(uid)} runs a node"
    )


class Directory:
    """An immutable lookup over units and contacts, built from values.

    It tolerates units whose contacts are not known here (units learnt through federation):
    lookups of their reminder contacts just skip the missing ids.
    """

    def __init__(self, units: Iterable[Unit], contacts: Iterable[Contact] = ()) -> None:
        self._units: dict[str, Unit] = {}
        for unit in units:
            validate_unit_id(unit.id)
            self._units[unit.id] = unit
        self._contacts: dict[str, Contact] = {c.id: c for c in contacts}

    def __len__(self) -> int:
        return len(self._units)

    def has_unit(self, uid: str) -> bool:
        """True when the unit is known here."""
        return uid in self._units

    def unit(self, uid: str) -> Unit:
        """The unit ``uid``; :class:`NotFoundError` lists a few known units nearby."""
        found = self._units.get(uid)
        if found is not None:
            return found
        raise NotFoundError(self._unknown_unit_message(uid))

    def units(self) -> list[Unit]:
        """All units, sorted by id."""
        return [self._units[k] for k in sorted(self._units)]

    def children(self, gov_id: str) -> list[Unit]:
        """The direct sub-governments and the departments of government ``gov_id``, by id."""
        self.unit(gov_id)
        return [u for u in self.units() if u.id != gov_id and parent_government(u.id) == gov_id]

    def has_contact(self, cid: str) -> bool:
        """True when the contact is known here."""
        return cid in self._contacts

    def contact(self, cid: str) -> Contact:
        """The contact ``cid``."""
        found = self._contacts.get(cid)
        if found is None:
            raise NotFoundError(f"unknown contact {cid!r}")
        return found

    def contacts(self) -> list[Contact]:
        """All contacts, sorted by id."""
        return [self._contacts[k] for k in sorted(self._contacts)]

    def reminder_contacts(self, uid: str) -> list[Contact]:
        """Who gets the deadline reminders of unit ``uid``: its head, then its operators."""
        unit = self.unit(uid)
        ids = ([unit.head] if unit.head else []) + list(unit.operators)
        return self._known(ids)

    def supervisors(self, uid: str) -> list[Contact]:
        """The supervisors (督查) of ``uid``: its own, else the nearest government's above it."""
        unit = self.unit(uid)
        if unit.supervisors:
            return self._known(unit.supervisors)
        for gov in ancestor_governments(uid):
            if gov != uid and gov in self._units and self._units[gov].supervisors:
                return self._known(self._units[gov].supervisors)
        return []

    def _known(self, ids: Iterable[str]) -> list[Contact]:
        seen: list[Contact] = []
        for cid in dict.fromkeys(ids):
            contact = self._contacts.get(cid)
            if contact is not None:
                seen.append(contact)
        return seen

    def _unknown_unit_message(self, uid: str) -> str:
        try:
            scope = next(
                (g for g in ancestor_governments(uid) if g in self._units),
                government_of(uid),
            )
        except InputError:
            return f"unknown unit {uid!r}: it is not a unit id; expected {UNIT_ID_SHAPE}"
        near = [u for u in sorted(self._units) if is_within(u, scope)]
        if not near:
            return f"unknown unit {uid!r}; no units known under {scope}"
        shown = ", ".join(near[:_HINT_LIMIT])
        more = f" … ({len(near) - _HINT_LIMIT} more)" if len(near) > _HINT_LIMIT else ""
        return f"unknown unit {uid!r}; known units under {scope}: {shown}{more}"
