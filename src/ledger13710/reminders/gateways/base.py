"""What the engine needs from an SMS gateway, whichever it is.

A gateway sends one SMS for one contact and dedupes by the idempotency key it is given: sending
the same key twice must not reach the phone twice (the outbox and an HTTP provider with an
idempotency header do; SMPP cannot, see :mod:`ledger13710.reminders.gateways.smpp`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Sms:
    """One message for one contact; ``phone`` is looked up at send time, never recorded."""

    key: str
    contact: str
    phone: str
    text: str
    at: datetime


@dataclass(frozen=True)
class Accepted:
    """The gateway took the message; ``message_id`` is its reference (parts joined by ',')."""

    message_id: str
    duplicate: bool = False  # the gateway had this key already and did not send it again


@dataclass(frozen=True)
class Receipt:
    """A delivery report for a message id the gateway issued."""

    message_id: str
    status: str
    at: datetime


class GatewayError(Exception):
    """A send failed; ``retryable`` False means trying again cannot help (e.g. a bad number)."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class Gateway(Protocol):
    """An SMS gateway."""

    name: str

    def send(self, sms: Sms) -> Accepted:
        """Send ``sms`` (or recognise its key) and return the gateway's message id."""
        ...

    def receipts(self) -> list[Receipt]:
        """Delivery reports that arrived since the last call."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def mask(phone: str) -> str:
    """A phone number as shown in lists: ``139****0001``."""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"
