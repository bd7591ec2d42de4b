"""The results of the append benchmark: one side's timed run, the whole report, and its table.

``bench_append`` measures; this module holds what it measured (:class:`SideResult` per run,
:class:`BenchReport` per invocation, printed as JSON with ``--json``) and :func:`render`, the
human-readable table printed otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench_append_stock import SNAPSHOT_INTERVAL, SYNCHRONOUS_FULL


@dataclass
class SideResult:
    """One timed run of one side."""

    side: str
    events: int
    commands: int
    seconds: float
    synchronous: int
    journal_mode: str
    events_per_s: float = field(init=False)
    commands_per_s: float = field(init=False)

    def __post_init__(self) -> None:
        self.events_per_s = self.events / self.seconds if self.seconds > 0 else 0.0
        self.commands_per_s = self.commands / self.seconds if self.seconds > 0 else 0.0


@dataclass
class BenchReport:
    """Everything one invocation measured (medians over the rounds)."""

    items: int
    rounds: int
    progress: int
    batch: int
    cache_maxsize: int
    rounds_detail: list[dict[str, Any]]
    ours: dict[str, float]
    stock: dict[str, float]
    ratio: float
    durability: dict[str, Any]
    encode: dict[str, dict[str, float]] = field(default_factory=dict)
    profile_top: str = ""


def render(report: BenchReport) -> str:
    """The human-readable table."""
    d = report.durability
    lines = [
        f"append benchmark: {report.items} items x (register+assign, deploy, feedback, "
        f"progress x{report.progress}, resolve, close-out), one command per transaction, "
        f"cohorts of {report.batch} interleaved, median of {report.rounds} round(s), "
        "order alternating",
        f"both: eventsourcing.sqlite file DB, AGGREGATE_CACHE_MAXSIZE={report.cache_maxsize}, "
        f"snapshot every {SNAPSHOT_INTERVAL} item events; stock = default JSONTranscoder",
    ]
    for side in ("ours", "stock"):
        m = d["measured"][side]
        lines.append(
            f"  {side:5} PRAGMA synchronous={m['synchronous']}"
            f"{' (FULL)' if m['synchronous'] == SYNCHRONOUS_FULL else ' (NOT FULL)'} "
            f"journal_mode={m['journal_mode']}"
        )
    if d["forced_full"]:
        lines.append("  synchronous was not FULL by default: set FULL on both via the pool")
    lines += [
        "",
        f"{'side':6} {'events':>8} {'commands':>9} {'seconds':>8} {'events/s':>9} {'cmds/s':>8}",
    ]
    for side, m in (("ours", report.ours), ("stock", report.stock)):
        lines.append(
            f"{side:6} {int(m['events']):>8} {int(m['commands']):>9} {m['seconds']:>8.2f} "
            f"{m['events_per_s']:>9.0f} {m['commands_per_s']:>8.0f}"
        )
    per_round = {
        side: ", ".join(
            f"{r['events_per_s']:.0f}" for r in report.rounds_detail if r["side"] == side
        )
        for side in ("ours", "stock")
    }
    lines.append(f"events/s per round: ours [{per_round['ours']}], stock [{per_round['stock']}]")
    lines.append(f"\nratio ours/stock (events/s): {report.ratio:.2f}x")
    if report.encode:
        lines.append("mapper encode per event (to_stored_event, best of 3):")
        for side in ("ours", "stock"):
            e = report.encode[side]
            lines.append(
                f"  {side:5} {e['us_per_event']:6.1f} us/event, "
                f"{e['bytes_per_event']:5.0f} bytes/event ({int(e['events'])} events)"
            )
    if report.profile_top:
        lines += ["", "cProfile of ours (first round), by cumulative time:", report.profile_top]
    return "\n".join(lines)
