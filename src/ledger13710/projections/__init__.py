"""Read models of a node (aiosqlite): the ledger, the command tree, timelines and statistics.

Each view is folded from the node's own log and, at upper tiers, its subtree's replicas, with
one tracking position per (view, origin) committed in the same transaction as its rows.
"""
