"""Structured logs: one JSON event per line on stderr, with the node id bound where known.

structlog is imported on the first log call, not with this module: most CLI commands never log,
and importing structlog (it brings its dev renderers along) is a noticeable share of a
command's start-up. :func:`configure` called before that is kept and applied then.
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO, cast

from ledger13710.domain.text import display

#: ``(level, json)`` of a :func:`configure` call not yet applied (structlog not imported yet).
_pending: tuple[str, bool] | None = None


def configure(level: str = "info", *, json: bool = True) -> None:
    """Set up structlog once per process (CLI, node process, tests may call it again)."""
    global _pending  # noqa: PLW0603 - process-wide logging setup is global by nature
    logging.getLevelNamesMapping()[level.upper()]  # a bad level fails here, at the call
    if "structlog" in sys.modules:
        _apply(level, json=json)
    else:
        _pending = (level, json)


def _apply(level: str, *, json: bool) -> None:
    structlog = importlib.import_module("structlog")
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        safe_text,
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


def safe_text(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> Any:
    """Escape control and bidi characters in every text value (``display``): a log line may
    carry text from a user or another node (a title, a refused record's reason), and neither
    a JSON line read in a terminal nor the console format may hand it an escape sequence."""
    for key, value in event.items():
        if isinstance(value, str):
            event[key] = display(value)
    return event


def _structlog() -> Any:
    """structlog, imported (and the pending configuration applied) on first use."""
    global _pending  # noqa: PLW0603 - see configure
    structlog = importlib.import_module("structlog")
    if _pending is not None:
        level, json = _pending
        _pending = None
        _apply(level, json=json)
    return structlog


class _Stderr:
    """Whatever ``sys.stderr`` is at the moment of writing (tests swap it; never cache it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


class _Logger:
    """A named logger that becomes a structlog logger when first used."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(_structlog().get_logger(self._name), attr)


def get_logger(name: str) -> Any:
    """A structlog logger named ``name`` (structlog is imported when it first logs)."""
    return _Logger(name)
