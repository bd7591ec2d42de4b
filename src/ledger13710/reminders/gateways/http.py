"""The ``http`` gateway: a provider's SMS API, called with a templated JSON request.

``[reminders.http]`` in the node TOML gives the URL, method, headers and a JSON body whose string
values may use ``${phone}``, ``${text}``, ``${key}`` and ``${contact}``. The idempotency key
also goes in a header (``Idempotency-Key`` by default), so a provider that honours it sends a
retried request once.

A send is tried ``retries + 1`` times with exponential backoff (``backoff``, doubling) on
connection errors, timeouts, 408, 429 and 5xx; any other 4xx is final (retrying cannot help).
Every failure names the status and the start of the response body.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from string import Template
from typing import Any

import httpx

from ledger13710.config.node import HttpGatewaySection
from ledger13710.domain.errors import ConfigError
from ledger13710.domain.policy import parse_duration
from ledger13710.reminders.gateways.base import Accepted, GatewayError, Receipt, Sms

_RETRY_STATUS = frozenset({408, 429})


class HttpGateway:
    """Sends each SMS as one HTTP request, retrying transient failures."""

    name = "http"

    def __init__(
        self,
        section: HttpGatewaySection,
        *,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not section.url.startswith(("http://", "https://")):
            raise ConfigError(
                f"[reminders.http].url: {section.url!r} is not an http(s) URL; "
                "set the provider's SMS API address"
            )
        try:
            timeout = parse_duration(section.timeout)
            self.backoff_s = float(parse_duration(section.backoff))
        except ValueError as e:
            raise ConfigError(f"[reminders.http]: {e}") from None
        self.section = section
        self.sleep = sleep
        self.client = httpx.Client(timeout=max(timeout, 1), transport=transport)

    def send(self, sms: Sms) -> Accepted:
        """POST (or the configured method) the message; retry transient failures."""
        values = {"phone": sms.phone, "text": sms.text, "key": sms.key, "contact": sms.contact}
        body = {k: Template(v).safe_substitute(values) for k, v in self.section.body.items()}
        headers = {k: Template(v).safe_substitute(values) for k, v in self.section.headers.items()}
        if self.section.idempotency_header:
            headers[self.section.idempotency_header] = sms.key
        attempts = self.section.retries + 1
        error = ""
        for attempt in range(1, attempts + 1):
            try:
                response = self.client.request(
                    self.section.method, self.section.url, json=body, headers=headers
                )
            except httpx.HTTPError as e:
                error = f"{type(e).__name__}: {e}"
            else:
                if response.is_success:
                    return self._accepted(response)
                error = f"HTTP {response.status_code}: {response.text[:200]}"
                if response.status_code < 500 and response.status_code not in _RETRY_STATUS:
                    raise GatewayError(f"provider refused the message: {error}", retryable=False)
            if attempt < attempts:
                self.sleep(self.backoff_s * 2 ** (attempt - 1))
        raise GatewayError(f"{self.section.url}: {attempts} attempts failed; last: {error}")

    def _accepted(self, response: httpx.Response) -> Accepted:
        try:
            data: Any = response.json()
            for part in self.section.message_id_field.split("."):
                data = data[part]
        except (json.JSONDecodeError, KeyError, TypeError, IndexError):
            raise GatewayError(
                f"provider answered {response.status_code} without "
                f"{self.section.message_id_field!r}: {response.text[:200]}",
                retryable=False,
            ) from None
        duplicate = response.headers.get("Idempotent-Replayed", "").lower() == "true"
        return Accepted(message_id=str(data), duplicate=duplicate)

    def receipts(self) -> list[Receipt]:
        """Receipts of an HTTP provider come by callback; not collected here."""
        return []

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()
