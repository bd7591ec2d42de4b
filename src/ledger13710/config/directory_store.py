"""The node-local directory database (``directory.sqlite`` in the node's data dir).

Contact details live here and not in events, so a phone number can be corrected, or a person
erased, without touching the append-only history: events carry only unit and contact ids.

A contact changed here (``set_phone``, ``erase_contact``) is marked as edited; importing the
node TOML again keeps the local name and phone of an edited contact, so a restart cannot undo
a correction or bring an erased person back.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import cast

from ledger13710.config.node import NodeConfig, validate_phone
from ledger13710.domain.directory import (
    Contact,
    ContactRole,
    Directory,
    Unit,
    UnitKind,
    validate_unit_id,
)
from ledger13710.domain.errors import NotFoundError
from ledger13710.domain.types import Tier

#: What an erased contact's name becomes; the id stays so recorded events still resolve.
ERASED_NAME = "（已删除）"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS units (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    tier TEXT NOT NULL,
    head TEXT NOT NULL,
    operators TEXT NOT NULL,
    supervisors TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS contacts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    phone TEXT NOT NULL,
    role TEXT NOT NULL,
    unit TEXT NOT NULL,
    edited INTEGER NOT NULL DEFAULT 0
);
"""

_UPSERT_UNIT = """
INSERT INTO units (id, name, kind, tier, head, operators, supervisors)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
    name = excluded.name, kind = excluded.kind, tier = excluded.tier, head = excluded.head,
    operators = excluded.operators, supervisors = excluded.supervisors
"""

_UPSERT_CONTACT = """
INSERT INTO contacts (id, name, phone, role, unit) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
    name = CASE WHEN contacts.edited THEN contacts.name ELSE excluded.name END,
    phone = CASE WHEN contacts.edited THEN contacts.phone ELSE excluded.phone END,
    role = excluded.role, unit = excluded.unit
"""


class DirectoryStore:
    """Units and contacts of one node, in a small SQLite file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database file."""
        self._db.close()

    def __enter__(self) -> DirectoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def import_config(self, cfg: NodeConfig) -> None:
        """Upsert the units and contacts of a node file; running it again changes nothing."""
        self.add_units([u.to_unit() for u in cfg.units], [c.to_contact() for c in cfg.contacts])

    def add_units(self, units: Iterable[Unit], contacts: Iterable[Contact] = ()) -> None:
        """Upsert units (e.g. learnt through federation) and, optionally, their contacts."""
        unit_rows = [
            (
                validate_unit_id(u.id),
                u.name,
                u.kind,
                str(u.tier),
                u.head,
                json.dumps(list(u.operators)),
                json.dumps(list(u.supervisors)),
            )
            for u in units
        ]
        contact_rows = [(c.id, c.name, c.phone, c.role, c.unit) for c in contacts]
        with self._transaction():
            self._db.executemany(_UPSERT_UNIT, unit_rows)
            self._db.executemany(_UPSERT_CONTACT, contact_rows)

    def directory(self) -> Directory:
        """The directory as stored now."""
        units = [
            Unit(
                id=uid,
                name=name,
                kind=cast(UnitKind, kind),
                tier=Tier(tier),
                head=head,
                operators=tuple(json.loads(ops)),
                supervisors=tuple(json.loads(sups)),
            )
            for uid, name, kind, tier, head, ops, sups in self._db.execute(
                "SELECT id, name, kind, tier, head, operators, supervisors FROM units"
            )
        ]
        contacts = [
            Contact(id=cid, name=name, phone=phone, role=cast(ContactRole, role), unit=unit)
            for cid, name, phone, role, unit in self._db.execute(
                "SELECT id, name, phone, role, unit FROM contacts"
            )
        ]
        return Directory(units, contacts)

    def set_phone(self, contact_id: str, phone: str) -> None:
        """Correct a contact's phone number (an 11-digit mainland mobile number)."""
        validate_phone(phone)
        self._update(contact_id, "UPDATE contacts SET phone = ?, edited = 1 WHERE id = ?", phone)

    def erase_contact(self, contact_id: str) -> None:
        """Blank a person's name and phone; the id stays so events that name it still resolve."""
        self._update(
            contact_id,
            "UPDATE contacts SET name = ?, phone = '', edited = 1 WHERE id = ?",
            ERASED_NAME,
        )

    def _update(self, contact_id: str, sql: str, value: str) -> None:
        with self._transaction():
            cursor = self._db.execute(sql, (value, contact_id))
            if cursor.rowcount == 0:
                raise NotFoundError(f"unknown contact {contact_id!r} in {self.path}")

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, or ROLLBACK when the block raises."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        self._db.execute("COMMIT" if exc_type is None else "ROLLBACK")
