"""ledger13710: an event-sourced, federated ledger for the 13710 supervision system."""

__version__ = "0.1.0"
