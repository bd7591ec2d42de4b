"""What importing a ledger workbook needs of the application, defined here so views point down.

``projections/importer.py`` reads a workbook and registers its rows; it needs the node's
directory and boards, a lookup by number and the ``register`` command — not the whole
:class:`~ledger13710.application.ledger.LedgerApp`, which satisfies this protocol and is handed
in by the entry point that opened the node (``node.app``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from ledger13710.config.boards import Board
from ledger13710.domain.directory import Directory
from ledger13710.domain.state import ItemState


class Registrar(Protocol):
    """Registers items that already have their numbers (an import), and says which exist."""

    @property
    def directory(self) -> Directory:
        """The node's units and contacts (to resolve unit names and check the actor)."""
        ...

    @property
    def boards(self) -> Mapping[str, Board]:
        """The boards items may be registered on, by id."""
        ...

    def item(self, number: str) -> ItemState:
        """The item numbered ``number``; ``NotFoundError`` when there is none."""
        ...

    def is_local(self, number: str) -> bool:
        """Whether item ``number`` is already in this node's store."""
        ...

    def register(
        self,
        *,
        title: str,
        source: str,
        board: str,
        severity: str,
        raising_unit: str,
        lead_unit: str,
        actor: str,
        co_units: Sequence[str] = (),
        detail: str = "",
        reference: str = "",
        number: str | None = None,
        assign: bool = False,
    ) -> ItemState:
        """立项 (and, with ``assign``, 交办 in the same transaction)."""
        ...
