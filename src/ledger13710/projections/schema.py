"""The read store's tables: one set per view, and the tracking positions of every view.

Times are integers: microseconds since the Unix epoch (UTC), so SQL compares them exactly as
:mod:`ledger13710.domain.lights` compares datetimes.
"""

from __future__ import annotations

from typing import Final

LEDGER: Final = "ledger"
TIMELINE: Final = "timeline"
VIEWS: Final = (LEDGER, TIMELINE)

POSITIONS = """
CREATE TABLE IF NOT EXISTS view_positions (
    view TEXT NOT NULL, origin TEXT NOT NULL, position INTEGER NOT NULL,
    PRIMARY KEY (view, origin)
) WITHOUT ROWID;
"""

#: Bumped whenever the tables change: a read store of another version is emptied on open and
#: folded again from the first event (views are always rebuildable).
SCHEMA_VERSION: Final = 2  # 2: no item_units/item_clocks, covering indexes

#: The columns of ``items``, in insert order (see :func:`rows.item_row`). Besides the four
#: standing clocks' due/done columns, plan milestones are summarised per item (``ms_*``, with
#: the due times of the open ones as a JSON array) so statistics need no per-clock rows.
ITEM_COLUMNS: Final = (
    "id", "number", "origin", "title", "detail", "source", "board", "severity",
    "raising_unit", "lead_unit", "co_units", "tier", "year", "state", "parent_number", "part",
    "registered_at", "updated_at", "finished_at", "resolved_at",
    "deploy_due", "deploy_done", "feedback_due", "feedback_done", "resolve_due", "resolve_done",
    "plan_due", "plan_done", "next_due_at", "yellow_at", "plan_behind_at",
    "returns", "extensions_requested", "extensions_granted", "urges", "version",
    "ms_total", "ms_met", "ms_on_time", "ms_late", "ms_open",
)  # fmt: skip

TABLES: Final = {
    LEDGER: f"""
CREATE TABLE IF NOT EXISTS items (
    {", ".join(c + (" TEXT PRIMARY KEY" if c == "id" else "") for c in ITEM_COLUMNS)}
);
CREATE TABLE IF NOT EXISTS item_states (id TEXT PRIMARY KEY, blob BLOB NOT NULL);
""",
    TIMELINE: """
CREATE TABLE IF NOT EXISTS timeline (
    item_id TEXT NOT NULL, version INTEGER NOT NULL, origin TEXT NOT NULL, seq INTEGER NOT NULL,
    kind TEXT NOT NULL, actor TEXT NOT NULL, unit TEXT NOT NULL, at INTEGER NOT NULL,
    payload BLOB NOT NULL
);
""",
}

#: Query indexes, created after a rebuild has loaded the rows (faster than maintaining them
#: row by row). ``items`` keeps only its primary key while loading: a changed item replaces
#: its row by id. The ledger's sort orders (number, due, registered) each have an index that
#: also holds the common filter columns, so a page walks it in order and tests the filters
#: without reading rows; each filter column leads an index holding the others, so counts
#: read no rows either.
_FILTERS = "board, state, tier, next_due_at"
INDEXES: Final = {
    LEDGER: f"""
CREATE UNIQUE INDEX IF NOT EXISTS items_number ON items (number, {_FILTERS});
CREATE INDEX IF NOT EXISTS items_due ON items (
    next_due_at IS NULL, next_due_at, number, board, state, tier
);
CREATE INDEX IF NOT EXISTS items_registered ON items (registered_at, number, {_FILTERS});
CREATE INDEX IF NOT EXISTS items_board ON items ({_FILTERS});
CREATE INDEX IF NOT EXISTS items_state ON items (state, board, tier, next_due_at);
CREATE INDEX IF NOT EXISTS items_tier ON items (tier, board, state, next_due_at);
CREATE INDEX IF NOT EXISTS items_year ON items (year, {_FILTERS});
CREATE INDEX IF NOT EXISTS items_next_due ON items (next_due_at);
CREATE INDEX IF NOT EXISTS items_lead ON items (lead_unit);
CREATE INDEX IF NOT EXISTS items_parent ON items (parent_number);
""",
    TIMELINE: """
CREATE INDEX IF NOT EXISTS timeline_item ON timeline (item_id, version);
""",
}

DROP: Final = {
    LEDGER: "DROP TABLE IF EXISTS items; DROP TABLE IF EXISTS item_states;",
    TIMELINE: "DROP TABLE IF EXISTS timeline;",
}

#: Tables of earlier versions, dropped when a read store is upgraded.
OBSOLETE: Final = "DROP TABLE IF EXISTS item_units; DROP TABLE IF EXISTS item_clocks;"
