"""CLI start-up benchmark: ``ledger13710 item show`` against ``python -c pass``, same run.

A supervisor runs dozens of commands a day, so what a command costs before it does anything
matters. This makes a province node (``node init`` from ``nodes/sx.toml``) with one registered
item, then alternates, ``--runs`` times each:

- **baseline**: ``python -c pass`` with the same interpreter (the floor nothing can beat);
- **ours**: ``ledger13710 item show <number>`` through the installed console script;
- **ours, no bytecode cache**: the same with ``PYTHONDONTWRITEBYTECODE=1`` and an empty
  ``PYTHONPYCACHEPREFIX``, so every module is compiled from source on each run. This is what a
  command cost on machines that set ``PYTHONDONTWRITEBYTECODE`` (CI often does) before
  ``scripts/bootstrap.sh`` compiled the bytecode at install time.

It prints the median wall time of each (and the CPU time, steadier on a shared machine), the
difference (the aim: within 0.3 s of the
baseline) and the ratio. ``python -X importtime -m ledger13710 item show N`` shows where the time
goes when the difference grows.

Usage::

    python scripts/bench_startup.py [--runs 15] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOW = "2016-10-20T09:00"


def cli() -> str:
    """The installed ``ledger13710`` console script beside this interpreter."""
    found = Path(sys.executable).with_name("ledger13710")
    if found.exists():
        return str(found)
    on_path = shutil.which("ledger13710")
    if on_path is None:
        raise SystemExit("bench_startup: no ledger13710 command: install the package first")
    return on_path


def run(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Seconds one command takes, wall clock and CPU (user + system); it must succeed.

    The CPU figure is steadier than the wall clock on a shared machine: it does not count the
    time the command waited for a core."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(args, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def prepare(env: dict[str, str]) -> str:
    """A province node with one registered item; its number."""
    command = cli()
    subprocess.run(
        [command, "node", "init", "--config", str(ROOT / "nodes" / "sx.toml")],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    out = subprocess.run(
        [command, "item", "register", "--json", "--actor", "sx-general-office-sup1",
         "--title", "定襄北收费站车道拓宽", "--source", "key_work", "--board", "key-work",
         "--severity", "major", "--raising-unit", "sx/general-office",
         "--lead-unit", "sx/transport"],
        env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    number: str = json.loads(out.stdout)["number"]
    return number


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each command")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        node_dir = Path(tmp) / "sx"
        env = {**os.environ, "LEDGER13710_DIR": str(node_dir), "LEDGER13710_NOW": NOW}
        number = prepare(env)
        uncached = {
            **env,
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONPYCACHEPREFIX": str(Path(tmp) / "no-pycache"),
        }
        baseline: list[tuple[float, float]] = []
        ours: list[tuple[float, float]] = []
        cold: list[tuple[float, float]] = []
        for _ in range(args.runs):
            baseline.append(run([sys.executable, "-c", "pass"], env))
            ours.append(run([cli(), "item", "show", number], env))
            cold.append(run([cli(), "item", "show", number], uncached))
    base, mine = _median(baseline, 0), _median(ours, 0)
    figures = {
        "runs": args.runs,
        "python_pass_s": round(base, 4),
        "item_show_s": round(mine, 4),
        "difference_s": round(mine - base, 4),
        "ratio": round(mine / base, 2),
        "item_show_no_bytecode_cache_s": round(_median(cold, 0), 4),
        "python_pass_cpu_s": round(_median(baseline, 1), 4),
        "item_show_cpu_s": round(_median(ours, 1), 4),
    }
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"python -c pass:          {base:.3f} s (median of {args.runs})")
        print(f"ledger13710 item show:   {mine:.3f} s (median of {args.runs})")
        print(f"difference:              {mine - base:+.3f} s (aim: within 0.300 s)")
        print(f"ratio:                   {mine / base:.2f}x")
        print(f"item show, no bytecode:  {figures['item_show_no_bytecode_cache_s']:.3f} s")
        print(
            f"CPU (user + system):     item show {figures['item_show_cpu_s']:.3f} s, "
            f"python -c pass {figures['python_pass_cpu_s']:.3f} s"
        )
    return 0


def _median(samples: list[tuple[float, float]], which: int) -> float:
    """The median wall (0) or CPU (1) time of ``samples``."""
    return statistics.median(s[which] for s in samples)


if __name__ == "__main__":
    sys.exit(main())
