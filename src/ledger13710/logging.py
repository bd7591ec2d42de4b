"""Structured logs: one JSON event per line on stderr, with the node id bound where known."""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO, cast

import structlog

_configured = False


def configure(level: str = "info", *, json: bool = True) -> None:
    """Set up structlog once per process (CLI, node process, tests may call it again)."""
    global _configured  # noqa: PLW0603 - process-wide logging setup is global by nature
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    processors.append(
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(file=cast(TextIO, _Stderr())),
        cache_logger_on_first_use=False,
    )
    _configured = True


class _Stderr:
    """Whatever ``sys.stderr`` is at the moment of writing (tests swap it; never cache it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def get_logger(name: str) -> Any:
    """A structlog logger named ``name``."""
    return structlog.get_logger(name)
