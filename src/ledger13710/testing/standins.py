"""Local stand-ins for an SMSC and an HTTP SMS provider, for tests, drills and demos.

:class:`SmscStandin` speaks real SMPP 3.4 PDUs over TCP on loopback, written here from the
specification (not with smpplib, so the gateway is checked against an independent codec):
``bind_transceiver``, ``submit_sm`` → ``submit_sm_resp`` with a message id, a ``deliver_sm``
delivery receipt, ``enquire_link`` and ``unbind``. It remembers each submit by
(destination, ``user_message_reference``, text) and answers a repeat with the first message id
without "delivering" again, like an SMSC that filters duplicates.

:class:`HttpProviderStandin` is a stdlib ``http.server`` in a thread that remembers
``Idempotency-Key`` values. Both bind a free port on 127.0.0.1 and stop when their ``with``
block ends.
"""

from __future__ import annotations

import json
import socket
import socketserver
import struct
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

BIND_TRANSCEIVER, BIND_TRANSCEIVER_RESP = 0x00000009, 0x80000009
SUBMIT_SM, SUBMIT_SM_RESP = 0x00000004, 0x80000004
DELIVER_SM, DELIVER_SM_RESP = 0x00000005, 0x80000005
ENQUIRE_LINK, ENQUIRE_LINK_RESP = 0x00000015, 0x80000015
UNBIND, UNBIND_RESP = 0x00000006, 0x80000006
GENERIC_NACK = 0x80000000
ESME_RSYSERR = 0x08
TAG_USER_MESSAGE_REFERENCE, TAG_RECEIPTED_MESSAGE_ID, TAG_MESSAGE_STATE = 0x0204, 0x001E, 0x0427


def _cstr(data: bytes, pos: int) -> tuple[bytes, int]:
    end = data.index(b"\0", pos)
    return data[pos:end], end + 1


def pdu(command: int, sequence: int, body: bytes = b"", status: int = 0) -> bytes:
    """One PDU: 16-byte header (length, command id, status, sequence) and body."""
    return struct.pack(">IIII", 16 + len(body), command, status, sequence) + body


@dataclass
class Submitted:
    """One ``submit_sm`` as the stand-in saw it."""

    destination: str
    text: str
    message_id: str
    reference: int | None
    esm_class: int
    duplicate: bool


def parse_submit(body: bytes) -> tuple[str, bytes, int, int, int, dict[int, bytes]]:
    """(destination, short_message, esm_class, data_coding, registered_delivery, TLVs)."""
    pos = 0
    _, pos = _cstr(body, pos)  # service_type
    pos += 2
    _, pos = _cstr(body, pos)  # source_addr
    pos += 2
    dest, pos = _cstr(body, pos)
    esm_class, _pid, _prio = body[pos], body[pos + 1], body[pos + 2]
    pos += 3
    _, pos = _cstr(body, pos)  # schedule_delivery_time
    _, pos = _cstr(body, pos)  # validity_period
    registered, _replace, coding, _default, length = body[pos : pos + 5]
    pos += 5
    message = body[pos : pos + length]
    pos += length
    tlvs: dict[int, bytes] = {}
    while pos + 4 <= len(body):
        tag, size = struct.unpack(">HH", body[pos : pos + 4])
        tlvs[tag] = body[pos + 4 : pos + 4 + size]
        pos += 4 + size
    return dest.decode(), message, esm_class, coding, registered, tlvs


def receipt_body(message_id: str, destination: str, stat: str = "DELIVRD") -> bytes:
    """The body of a ``deliver_sm`` delivery receipt for ``message_id``."""
    text = (
        f"id:{message_id} sub:001 dlvrd:001 submit date:1610201859 done date:1610201859 "
        f"stat:{stat} err:000 text:"
    ).encode()
    head = b"\0" + b"\1\1" + destination.encode() + b"\0" + b"\5\0" + b"10613710\0"
    head += bytes((0x04, 0, 0)) + b"\0\0" + bytes((0, 0, 0, 0, len(text))) + text
    mid = message_id.encode() + b"\0"
    tlv = struct.pack(">HH", TAG_RECEIPTED_MESSAGE_ID, len(mid)) + mid
    tlv += struct.pack(">HHB", TAG_MESSAGE_STATE, 1, 2 if stat == "DELIVRD" else 5)
    return head + tlv


@dataclass
class SmscState:
    """What the stand-in has seen; tests read and steer it."""

    submits: list[Submitted] = field(default_factory=list)
    binds: list[str] = field(default_factory=list)
    enquire_links: int = 0
    unbinds: int = 0
    fail_next: int = 0  # answer this many submits with ESME_RSYSERR
    receipts: bool = True
    seen: dict[tuple[str, int | None, bytes], str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def delivered(self) -> list[Submitted]:
        """Submits that reached a phone (first copies only)."""
        return [s for s in self.submits if not s.duplicate]


class _SmppHandler(socketserver.BaseRequestHandler):
    server: _SmppServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(5)
        out_seq = 0x10000
        while True:
            try:
                header = _read(sock, 16)
            except (OSError, ConnectionError):
                return
            length, command, _status, seq = struct.unpack(">IIII", header)
            body = _read(sock, length - 16)
            state = self.server.state
            if command == BIND_TRANSCEIVER:
                with state.lock:
                    state.binds.append(_cstr(body, 0)[0].decode())
                sock.sendall(pdu(BIND_TRANSCEIVER_RESP, seq, b"standin\0"))
            elif command == SUBMIT_SM:
                out_seq += 1
                sock.sendall(self._submit(state, seq, body, out_seq))
            elif command == ENQUIRE_LINK:
                with state.lock:
                    state.enquire_links += 1
                sock.sendall(pdu(ENQUIRE_LINK_RESP, seq))
            elif command == UNBIND:
                with state.lock:
                    state.unbinds += 1
                sock.sendall(pdu(UNBIND_RESP, seq))
                return
            elif command != DELIVER_SM_RESP:
                sock.sendall(pdu(GENERIC_NACK, seq, status=0x03))

    def _submit(self, state: SmscState, seq: int, body: bytes, out_seq: int) -> bytes:
        dest, message, esm, coding, registered, tlvs = parse_submit(body)
        ref_raw = tlvs.get(TAG_USER_MESSAGE_REFERENCE)
        ref = struct.unpack(">H", ref_raw)[0] if ref_raw else None
        with state.lock:
            if state.fail_next > 0:
                state.fail_next -= 1
                return pdu(SUBMIT_SM_RESP, seq, b"\0", status=ESME_RSYSERR)
            key = (dest, ref, message)
            duplicate = key in state.seen
            mid = state.seen.get(key) or f"SM{len(state.seen) + 1:06d}"
            state.seen[key] = mid
            text = message[6:] if esm & 0x40 else message
            decoded = text.decode("utf-16-be") if coding == 8 else text.decode("latin-1")
            state.submits.append(Submitted(dest, decoded, mid, ref, esm, duplicate))
        reply = pdu(SUBMIT_SM_RESP, seq, mid.encode() + b"\0")
        if registered & 1 and state.receipts and not duplicate:
            reply += pdu(DELIVER_SM, out_seq, receipt_body(mid, dest))
        return reply


def _read(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("peer closed")
        data += chunk
    return data


class _SmppServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, state: SmscState) -> None:
        super().__init__(("127.0.0.1", 0), _SmppHandler)
        self.state = state


class _Running:
    """Serve in a daemon thread; stop at the end of the ``with`` block."""

    server: socketserver.BaseServer

    def __enter__(self) -> Self:
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


class SmscStandin(_Running):
    """An SMSC on a free loopback port."""

    def __init__(self) -> None:
        self.state = SmscState()
        self.server = _SmppServer(self.state)
        self.port: int = self.server.server_address[1]


@dataclass
class HttpState:
    """What the HTTP stand-in has seen; tests read and steer it."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)
    fail_next: int = 0  # answer this many requests with 503
    reject_next: int = 0  # answer this many with 400
    lock: threading.Lock = field(default_factory=threading.Lock)

    def delivered(self) -> list[dict[str, Any]]:
        """Requests that reached a phone (first copies of each key)."""
        return [r for r in self.requests if not r["duplicate"]]


class _HttpHandler(BaseHTTPRequestHandler):
    server: _HttpServer

    def do_POST(self) -> None:
        state = self.server.state
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        key = self.headers.get("Idempotency-Key", "")
        with state.lock:
            if state.fail_next > 0:
                state.fail_next -= 1
                return self._answer(503, {"error": "busy"})
            if state.reject_next > 0:
                state.reject_next -= 1
                return self._answer(400, {"error": "bad number"})
            duplicate = bool(key) and key in state.keys
            mid = state.keys.get(key) or f"H{len(state.requests) + 1:06d}"
            if key:
                state.keys[key] = mid
            state.requests.append({"body": body, "key": key, "duplicate": duplicate, "id": mid})
        return self._answer(200, {"data": {"id": mid}}, replayed=duplicate)

    def _answer(self, status: int, data: dict[str, Any], replayed: bool = False) -> None:
        raw = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        if replayed:
            self.send_header("Idempotent-Replayed", "true")
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read ``state`` instead."""


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: HttpState) -> None:
        super().__init__(("127.0.0.1", 0), _HttpHandler)
        self.state = state


class HttpProviderStandin(_Running):
    """An SMS provider's HTTP API on a free loopback port (``POST /sms``)."""

    def __init__(self) -> None:
        self.state = HttpState()
        self.server = _HttpServer(self.state)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
