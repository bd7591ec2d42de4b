"""The ``smpp`` gateway: SMPP 3.4 over TCP via ``smpplib``, with delivery receipts.

One transceiver session (``bind_transceiver``), opened on first use and again after a failure.
Text goes out as UCS-2 (``data_coding`` 8); a text longer than 70 characters goes out as a
concatenated SMS, one ``submit_sm`` per part of at most 67 characters with an 8-bit-reference
UDH (``esm_class`` 0x40). Every submit asks for a delivery receipt (``registered_delivery``
1); receipts (``deliver_sm`` with ``esm_class`` 0x04) are read by :meth:`SmppGateway.receipts`.

**At-least-once window.** SMPP has no idempotency key: an SMSC sends every ``submit_sm`` it
accepts. The key is carried as a 16-bit ``user_message_reference`` (which an SMSC may use to
filter duplicates, and the test stand-in does), but a real one need not. The engine records the
intent before the submit and the outcome right after the ``submit_sm_resp``; only a crash in
between (milliseconds) can resend. On restart that reminder is resent with ``attempt`` 2 on its
``ReminderSent`` event, so an auditor can see exactly which messages may have gone twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from datetime import datetime
from typing import Any

import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.smpp

from ledger13710.config.node import SmppGatewaySection
from ledger13710.domain.errors import ConfigError
from ledger13710.domain.policy import parse_duration
from ledger13710.domain.types import SHANGHAI
from ledger13710.reminders import sms as smstext
from ledger13710.reminders.gateways.base import Accepted, GatewayError, Receipt, Sms

UCS2 = 0x08
UDHI = 0x40
ENQUIRE_EVERY_S = 30.0
_STATES = {
    "DELIVRD": "delivered",
    "UNDELIV": "undeliverable",
    "EXPIRED": "expired",
    "REJECTD": "rejected",
    "DELETED": "deleted",
    "ACCEPTD": "accepted",
    "UNKNOWN": "unknown",
}
_Errors = (smpplib.exceptions.ConnectionError, smpplib.exceptions.PDUError, OSError)


def reference(key: str) -> int:
    """The 16-bit ``user_message_reference`` of an idempotency key."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:2], "big")


def encode_parts(text: str, key: str) -> tuple[list[bytes], int]:
    """UCS-2 parts of ``text`` with concatenation headers, and the ``esm_class`` to use."""
    chunks = smstext.split(text)
    if len(chunks) == 1:
        return [text.encode("utf-16-be")], 0
    ref = reference(key) & 0xFF
    head = bytes((5, 0, 3, ref, len(chunks)))
    return [head + bytes((i,)) + c.encode("utf-16-be") for i, c in enumerate(chunks, 1)], UDHI


def parse_receipt(pdu: Any, at: datetime) -> Receipt | None:
    """A delivery receipt from a ``deliver_sm``; None when it is an ordinary message."""
    if not getattr(pdu, "esm_class", 0) & 0x04:
        return None
    raw = pdu.short_message or b""
    text = raw.decode("ascii", "replace") if isinstance(raw, bytes) else str(raw)
    fields = dict(p.split(":", 1) for p in text.split() if ":" in p)
    mid = pdu.receipted_message_id or fields.get("id", "")
    if isinstance(mid, bytes):
        mid = mid.decode("ascii", "replace")
    return Receipt(
        message_id=str(mid), status=_STATES.get(fields.get("stat", ""), "unknown"), at=at
    )


class SmppGateway:
    """Submits over one bound transceiver session; collects receipts."""

    name = "smpp"

    def __init__(self, section: SmppGatewaySection) -> None:
        try:
            self.timeout = float(parse_duration(section.timeout))
        except ValueError as e:
            raise ConfigError(f"[reminders.smpp].timeout: {e}") from None
        if not section.system_id:
            raise ConfigError("[reminders.smpp].system_id: set the account the SMSC gave you")
        self.section = section
        self.client: smpplib.client.Client | None = None
        self._responses: dict[int, Any] = {}
        self._receipts: list[Receipt] = []
        self._last_io = 0.0

    # -- session -----------------------------------------------------------------------------

    def _session(self) -> smpplib.client.Client:
        if self.client is not None:
            return self.client
        s = self.section
        client = smpplib.client.Client(
            s.host, s.port, timeout=self.timeout, allow_unknown_opt_params=True
        )
        client.set_message_sent_handler(self._on_response)
        client.set_error_pdu_handler(self._on_response)
        client.set_message_received_handler(self._on_deliver)
        try:
            client.connect()
            client.bind_transceiver(
                system_id=s.system_id, password=s.password, system_type=s.system_type
            )
        except _Errors as e:
            self._drop(client)
            raise GatewayError(f"SMSC {s.host}:{s.port}: cannot bind: {e}") from None
        self.client = client
        self._last_io = time.monotonic()
        return client

    def _drop(self, client: smpplib.client.Client | None) -> None:
        if client is not None:
            with contextlib.suppress(*_Errors):
                client.disconnect()
        self.client = None

    def _on_response(self, pdu: Any, **_: Any) -> None:
        self._responses[pdu.sequence] = pdu

    def _on_deliver(self, pdu: Any, **_: Any) -> int:
        receipt = parse_receipt(pdu, datetime.now(SHANGHAI))
        if receipt is not None:
            self._receipts.append(receipt)
        return int(smpplib.consts.SMPP_ESME_ROK)

    # -- sending -----------------------------------------------------------------------------

    def send(self, sms: Sms) -> Accepted:
        """Submit every part of ``sms``; the message id is the parts' ids joined by ','."""
        client = self._session()
        parts, esm_class = encode_parts(sms.text, sms.key)
        ids: list[str] = []
        try:
            for part in parts:
                pdu = client.send_message(
                    source_addr_ton=smpplib.consts.SMPP_TON_ALNUM,
                    source_addr=self.section.source_addr,
                    dest_addr_ton=smpplib.consts.SMPP_TON_INTL,
                    destination_addr="86" + sms.phone,
                    short_message=part,
                    data_coding=UCS2,
                    esm_class=esm_class,
                    registered_delivery=1,
                    user_message_reference=reference(sms.key),
                )
                ids.append(self._await(client, pdu.sequence))
        except _Errors as e:
            self._drop(client)
            raise GatewayError(f"SMSC {self.section.host}:{self.section.port}: {e}") from None
        return Accepted(message_id=",".join(ids))

    def _await(self, client: smpplib.client.Client, sequence: int) -> str:
        deadline = time.monotonic() + self.timeout
        while sequence not in self._responses:
            if time.monotonic() > deadline:
                raise smpplib.exceptions.ConnectionError("no submit_sm_resp in time")
            try:
                client.read_once(auto_send_enquire_link=False)
            except TimeoutError:
                continue
        resp = self._responses.pop(sequence)
        self._last_io = time.monotonic()
        if resp.is_error():
            status = int(resp.status)
            text = smpplib.consts.DESCRIPTIONS.get(status, "unknown status")
            raise GatewayError(
                f"SMSC refused the message: status {status:#x} ({text})",
                retryable=status in (0x08, 0x14, 0x58),  # system error, queue full, throttled
            )
        mid = resp.message_id
        return mid.decode("ascii") if isinstance(mid, bytes) else str(mid)

    # -- receipts and keep-alive -------------------------------------------------------------

    def receipts(self) -> list[Receipt]:
        """Read what the SMSC sent (receipts, enquire_link); keep the session alive."""
        client = self.client
        if client is not None:
            try:
                client.poll(auto_send_enquire_link=False)
                if time.monotonic() - self._last_io > ENQUIRE_EVERY_S:
                    client.send_pdu(smpplib.smpp.make_pdu("enquire_link", client=client))
                    self._last_io = time.monotonic()
            except _Errors:
                self._drop(client)
        found, self._receipts = self._receipts, []
        return found

    def close(self) -> None:
        """Unbind and disconnect."""
        client = self.client
        if client is None:
            return
        try:
            client.unbind()
        except (TimeoutError, *_Errors):
            pass
        self._drop(client)
