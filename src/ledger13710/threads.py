"""The one bridge from the event loop to the synchronous core: :func:`run_sync`.

The ledger, its stores and the reminder engine's tick are synchronous and blocking; the node's
async edges (NATS handlers, the publisher, the ingester, the projector, the engine's loop)
reach them only through :func:`run_sync`, in the spirit of Starlette's ``run_in_threadpool``:
the call runs in a worker thread of the loop's default executor, so the loop never blocks. One
bridge means one place to change how blocking work is run (a limiter, a dedicated executor).

Thread rules of what is called across it:

- ``LedgerApp`` (eventsourcing's SQLite and PostgreSQL recorders, chained in
  ``application/recorders.py``): any thread; eventsourcing gives each thread its own
  connection from a pool, and each aggregate version is written once (a lost race is a
  ``ConflictError``), so concurrent calls are safe.
- ``ReplicaStore`` (``replicas.sqlite``): one connection shared by all threads
  (``check_same_thread=False``); every write holds the store's own lock, reads take none.
- ``ReadStore`` (``views.sqlite``): reads on aiosqlite's own thread; each write transaction runs
  whole in one worker thread on a writer connection of its own, one write at a time (the
  projector awaits each before the next).
- ``ReminderIndex``, ``OutboxGateway`` (``reminders.sqlite``): one connection each, used only by
  the engine's tick, and the engine awaits one tick before it starts the next.
- ``DirectoryStore`` (``directory.sqlite``): the daemon reads it through a fresh connection per
  call (``node/reminders.FreshDirectory``), so a corrected phone number is used at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


async def run_sync(func: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run the blocking ``func(*args, **kwargs)`` in a worker thread and await its result."""
    return await asyncio.to_thread(func, *args, **kwargs)
