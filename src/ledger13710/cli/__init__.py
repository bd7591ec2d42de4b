"""The ``ledger13710`` command: one module per group of subcommands, ``main.py`` dispatches."""
