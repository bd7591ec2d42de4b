"""Commands over the event store: LedgerApp, the mapper, inbound decisions, chained recorders."""
