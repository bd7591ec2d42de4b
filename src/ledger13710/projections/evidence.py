"""Each item's evidence for the ledger workbook: the names of the files its events attach.

Read from the ``timeline`` view (the stored event bytes), so it covers replicated items at
upper tiers too. A file erased by decision keeps its name, marked as erased: the record that it
was attached stays.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ledger13710.domain import events as ev
from ledger13710.projections.store import ReadStore

_payload = msgspec.json.Decoder(dict[str, Any])
_ERASED = "（已删除）"


async def evidence_names(store: ReadStore) -> dict[str, list[str]]:
    """Item id (hex) -> the names of its attachments, in the order they were attached."""
    rows = await store.fetchall(
        "SELECT item_id, kind, payload FROM timeline "
        "WHERE kind = ? OR instr(payload, ?) > 0 ORDER BY item_id, version",
        (ev.AttachmentErased.__name__, b'"attachments":[{'),
    )
    named: dict[str, list[tuple[str, str]]] = {}
    erased: dict[str, set[str]] = {}
    for iid, kind, payload in rows:
        data = _payload.decode(payload)
        if kind == ev.AttachmentErased.__name__:
            erased.setdefault(iid, set()).add(data["sha256"])
        for a in data.get("attachments", ()):
            named.setdefault(iid, []).append((a["name"], a["sha256"]))
    return {
        iid: [name + (_ERASED if sha in erased.get(iid, set()) else "") for name, sha in files]
        for iid, files in named.items()
    }


__all__ = ["evidence_names"]
