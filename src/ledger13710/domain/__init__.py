"""The pure core: events, aggregates, policy and calendar arithmetic, ids and errors.

Nothing here performs I/O or reads the wall clock; see ARCHITECTURE.md.
"""
