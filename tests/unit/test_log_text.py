"""Log lines never carry raw control or bidi characters, in JSON or in the console format."""

from __future__ import annotations

import io
import json

import pytest

from ledger13710 import logging as ledger_logging

HOSTILE = "标题\x1b[2J\u202eevil\x85"


@pytest.mark.parametrize("as_json", [True, False])
def test_text_values_are_escaped_in_every_format(
    as_json: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hostile title in a log call reaches stderr as visible escapes, the Chinese intact."""
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    ledger_logging.configure("info", json=as_json)
    ledger_logging.get_logger("test").warning("refused", title=HOSTILE, count=3)
    line = err.getvalue()
    for raw in ("\x1b", "\u202e", "\x85"):
        assert raw not in line
    assert "\\x1b[2J" in line
    if as_json:
        record = json.loads(line)
        assert record["title"] == "标题\\x1b[2J\\u202eevil\\x85"
        assert record["count"] == 3
    ledger_logging.configure("info", json=True)
