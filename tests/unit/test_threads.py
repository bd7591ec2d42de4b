"""``run_sync`` runs blocking code off the event loop and hands back its result or error."""

from __future__ import annotations

import asyncio
import threading

import pytest

from ledger13710.threads import run_sync


def test_run_sync_runs_the_call_in_a_worker_thread_with_its_arguments() -> None:
    """The call runs in another thread than the loop's, with positional and keyword arguments."""

    def where(a: int, *, b: int) -> tuple[int, str]:
        return a + b, threading.current_thread().name

    async def main() -> tuple[tuple[int, str], str]:
        return await run_sync(where, 1, b=2), threading.current_thread().name

    (total, worker), loop_thread = asyncio.run(main())

    assert total == 3
    assert worker != loop_thread


def test_run_sync_raises_what_the_call_raised() -> None:
    """An exception of the blocking call reaches the awaiting coroutine unchanged."""

    def fail() -> None:
        raise LookupError("no such item")

    with pytest.raises(LookupError, match="no such item"):
        asyncio.run(run_sync(fail))
