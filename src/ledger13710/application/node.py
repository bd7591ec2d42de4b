"""A wired node as the composition root hands it down: config, ledger application, directory.

Built only by ``node/bootstrap.py``; lower layers receive it and never wire one themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ledger13710.application.ledger import LedgerApp
from ledger13710.config.directory_store import DirectoryStore
from ledger13710.config.node import NodeConfig


@dataclass
class Node:
    """A wired node: its config, its ledger application and its directory."""

    dir: Path
    config: NodeConfig
    app: LedgerApp
    directory_store: DirectoryStore

    @property
    def id(self) -> str:
        """The node id (its government's unit id)."""
        return self.config.node.id

    def close(self) -> None:
        """Release the store and the directory."""
        self.app.close()
        self.directory_store.close()
