"""Errors a user can cause. Each names what was wrong and, where it helps, what to do.

The CLI and the API turn a :class:`LedgerError` into a one-line message and a non-zero exit or
a 4xx answer; anything else is a bug and is logged as one.
"""

from __future__ import annotations

from typing import ClassVar


class LedgerError(Exception):
    """Base of every error that is the user's to fix; ``str(err)`` is the whole message."""

    #: A stable name of the kind of error: scripts and the API match on it.
    code: ClassVar[str] = "error"


class InputError(LedgerError):
    """A value given on the command line, in a file or over the API is not acceptable.

    ``field`` names the input that is missing or wrong (``content``, ``approved_by``) for the
    entry point to say in its own words (the CLI as ``--content``): the domain names no flag.
    """

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field

    code: ClassVar[str] = "input"


class ConfigError(LedgerError):
    """A node configuration, policy or calendar file is wrong; the message names file and field."""

    code: ClassVar[str] = "config"


class NotFoundError(LedgerError):
    """An item, unit or contact id that does not exist here."""

    code: ClassVar[str] = "not_found"


class ConflictError(LedgerError):
    """Someone else changed the same item at the same time, or the thing already exists."""

    code: ClassVar[str] = "conflict"


class RoleError(LedgerError):
    """The acting person (or a cancellation's approver) holds no role that may do this."""

    code: ClassVar[str] = "role"


class InvalidTransitionError(LedgerError):
    """A lifecycle action that the item's current state does not allow."""

    code: ClassVar[str] = "not_allowed_now"

    def __init__(self, item: str, state: str, action: str, allowed: list[str]) -> None:
        self.item = item
        self.state = state
        self.action = action
        self.allowed = allowed
        now = ", ".join(allowed) if allowed else "nothing (the item is finished)"
        super().__init__(f"item {item} is {state}: '{action}' is not allowed now; allowed: {now}")
