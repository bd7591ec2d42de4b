"""Attachment benchmark: a township's evidence files reaching the province, against raw Object
Store put and get of the same files.

One run, one nats-server on free 127.0.0.1 ports (:class:`LocalFederation`, hub topology):

1. **ours** — the province and the township run as ``ledger13710 node run`` processes; in this
   process ``--files`` files of ``--size-kib`` KiB (random bytes, named ``photo-N.jpg``) are
   attached at the township, ten per progress report (40 files per item, under the policy's
   per-item limit). Measured from the first attach until the last file is in the province's
   attachment store; every file is then checked byte-identical. This includes storing at the
   township, recording, uploading into its bucket and the province's fetch and hash check.
2. **raw** — the same files put one after another into a fresh bucket by nats-py, then got
   back (as ``admin``, no ledger at all): put MiB/s, get MiB/s, and both in sequence.

The ratio ours/raw compares end-to-end replication with one raw put followed by one raw get.

Usage::

    python scripts/bench_attachments.py [--files N] [--size-kib K] [--json] [--dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import nats

from ledger13710 import logging as ledger_logging
from ledger13710.application.attachments import ATTACHMENTS_DIR, AttachmentStore, file_sha256
from ledger13710.domain.clock import ManualClock
from ledger13710.domain.types import SHANGHAI
from ledger13710.node.bootstrap import open_node
from ledger13710.testing.localfed import LocalFederation

PROVINCE, TOWNSHIP = "sx", "sx.xinzhou.dingxiang.jinchang"
SUPERVISOR = "sx-xinzhou-dingxiang-jinchang-party-office-sup1"
RAISING = "sx.xinzhou.dingxiang.jinchang/party-office"
LEAD = "sx.xinzhou.dingxiang.jinchang/agri-service"
HEAD = "sx-xinzhou-dingxiang-jinchang-agri-service-head"
NOW = "2016-10-20T09:00"
PER_REPORT, PER_ITEM = 10, 40
MIB = 1024 * 1024


def make_files(where: Path, count: int, size: int) -> list[Path]:
    """``count`` files of ``size`` random bytes."""
    where.mkdir(parents=True, exist_ok=True)
    files = [where / f"photo-{i}.jpg" for i in range(count)]
    for f in files:
        f.write_bytes(os.urandom(size))
    return files


def attach_all(node_dir: Path, files: list[Path]) -> None:
    """Attach ``files`` at the township: items of 40, progress reports of ten files each."""
    node = open_node(node_dir, ManualClock(datetime(2016, 10, 20, 9, tzinfo=SHANGHAI)))
    try:
        app = node.app
        for start in range(0, len(files), PER_ITEM):
            number = app.register(
                title="车道拓宽照片", source="key_work", board="key-work", severity="general",
                raising_unit=RAISING, lead_unit=LEAD, actor=SUPERVISOR, assign=True,
            ).number  # fmt: skip
            app.deploy(number, actor=HEAD)
            app.feedback(number, actor=HEAD, content="已开工")
            part = files[start : start + PER_ITEM]
            for i in range(0, len(part), PER_REPORT):
                app.progress(number, actor=HEAD, content="照片", attach=part[i : i + PER_REPORT])
    finally:
        node.close()


def replicate(fed: LocalFederation, files: list[Path], timeout: float) -> float:
    """Attach at the township; seconds until the province holds every file."""
    shas = [file_sha256(f) for f in files]
    province = AttachmentStore(fed.node_dir(PROVINCE) / ATTACHMENTS_DIR)
    started = time.perf_counter()
    attach_all(fed.node_dir(TOWNSHIP), files)
    fed.wait_until(
        lambda: all(province.path_of(s).is_file() for s in shas),
        timeout,
        what="every file at the province",
        interval=0.02,
    )
    elapsed = time.perf_counter() - started
    bad = [f.name for f, s in zip(files, shas, strict=True) if province.check(s).value != "ok"]
    if bad:
        msg = f"not byte-identical at the province: {', '.join(bad)}"
        raise SystemExit(msg)
    return elapsed


async def raw(url: str, password: str, files: list[Path]) -> tuple[float, float]:
    """Seconds to put every file into a fresh bucket, and to get every one back."""
    nc = await nats.connect(url, user="admin", password=password)
    try:
        obs = await nc.jetstream(timeout=30).create_object_store("BENCH_RAW")
        data = [f.read_bytes() for f in files]
        started = time.perf_counter()
        for f, d in zip(files, data, strict=True):
            await obs.put(f.name, d)
        put = time.perf_counter() - started
        started = time.perf_counter()
        for f, d in zip(files, data, strict=True):
            if (await obs.get(f.name)).data != d:
                msg = f"raw get of {f.name} differs"
                raise SystemExit(msg)
        return put, time.perf_counter() - started
    finally:
        await nc.close()


def run(base: Path, count: int, size: int, timeout: float) -> dict[str, Any]:
    """One benchmark run in ``base``; the report as a dict."""
    files = make_files(base / "files", count, size)
    total = count * size / MIB
    with LocalFederation(
        base / "fed", [PROVINCE, TOWNSHIP], clock_env=NOW, log_level="warning"
    ) as fed:
        ours = replicate(fed, files, timeout)
        put, get = asyncio.run(raw(fed.url, fed.creds["admin"], files))

    def rate(seconds: float) -> float:
        return round(total / seconds, 2)

    return {
        "files": count, "size_kib": size // 1024, "mib": round(total, 2),
        "ours": {"seconds": round(ours, 3), "mib_per_s": rate(ours)},
        "raw": {"put_seconds": round(put, 3), "get_seconds": round(get, 3),
                "put_mib_per_s": rate(put), "get_mib_per_s": rate(get),
                "put_get_mib_per_s": rate(put + get)},
        "ratio": round((put + get) / ours, 3),
    }  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--files", type=int, default=40, help="files attached at the township")
    parser.add_argument("--size-kib", type=int, default=1024, help="size of each file (KiB)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--dir", help="keep the run in this (new) directory")
    parser.add_argument("--timeout", type=float, default=300.0, help="give up after (seconds)")
    args = parser.parse_args(argv)
    ledger_logging.configure("warning")
    size = args.size_kib * 1024
    if args.dir:
        report = run(Path(args.dir), args.files, size, args.timeout)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-attachments-") as tmp:
            report = run(Path(tmp), args.files, size, args.timeout)
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    ours, raw_ = report["ours"], report["raw"]
    print(f"township → province, {report['files']} files of {report['size_kib']} KiB "
          f"({report['mib']} MiB)")  # fmt: skip
    print(f"  ours: {ours['mib_per_s']:>8.2f} MiB/s attach to byte-identical at the province "
          f"({ours['seconds']} s)")  # fmt: skip
    print(f"  raw:  {raw_['put_mib_per_s']:>8.2f} MiB/s put, {raw_['get_mib_per_s']:.2f} MiB/s "
          f"get, {raw_['put_get_mib_per_s']:.2f} MiB/s put then get (nats-py)")  # fmt: skip
    print(f"  ratio ours/raw (put then get): {report['ratio']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
