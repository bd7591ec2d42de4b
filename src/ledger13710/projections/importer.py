"""Import of a ledger workbook (.xlsx) or CSV: each row registers an item.

The columns are the export's first ones (:data:`excel.IMPORT_HEADERS`); codes or their Chinese
labels are accepted, units by id or by their unique name. A row is registered in one
transaction or not at all; a number already in the ledger is skipped, so importing the same
file twice creates nothing twice. A row without 编号 is a new item the node numbers (each time
it is imported). A workbook exported here has a 总台账 sheet: only that sheet is read. A dry
run checks every row and registers nothing. Refused rows are reported as ``第N行: reason``.
"""

from __future__ import annotations

import csv
import re
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import msgspec
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from ledger13710.application.registrar import Registrar
from ledger13710.domain.errors import InputError, LedgerError
from ledger13710.projections.csvcells import from_csv
from ledger13710.projections.excel import ALL_ITEMS, IMPORT_HEADERS
from ledger13710.projections.labels import SEVERITY_ZH, SOURCE_ZH, code_of

_REQUIRED = ("事项", "来源", "板块", "立项单位", "牵头单位")
_SPLIT = re.compile(r"[,，、;；\s]+")
_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-]*")


class RowOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """What happened to one row."""

    sheet: str
    row: int
    number: str
    outcome: str  # registered, skipped, refused, or (dry run) accepted
    message: str


class ImportReport(msgspec.Struct, frozen=True, kw_only=True):
    """Every non-empty row's outcome, and the totals."""

    registered: int
    skipped: int
    refused: int
    rows: list[RowOutcome]
    dry_run: bool = False


class _RowError(Exception):
    """A reason to refuse a row."""


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


class _Resolver:
    """Turns a row's cells into :meth:`Registrar.register` arguments, or refuses it."""

    def __init__(self, app: Registrar) -> None:
        self.app = app
        names: dict[str, list[str]] = {}
        for u in app.directory.units():
            names.setdefault(u.name, []).append(u.id)
        self.unit_names = {n: ids[0] for n, ids in names.items() if len(ids) == 1}
        self.boards = {b.id: b.name for b in app.boards.values()}

    def unit(self, value: str, column: str) -> str:
        uid = self.unit_names.get(value, value)
        if not uid:
            raise _RowError(f"missing {column}")
        if not self.app.directory.has_unit(uid):
            raise _RowError(f"unknown unit {value!r} ({column}): not in this node's directory")
        return uid

    def choice(self, value: str, labels: dict[str, str], column: str) -> str:
        code = code_of(value, labels)
        if code is None:
            raise _RowError(f"unknown {column} {value!r}; use one of: {', '.join(labels.values())}")
        return code

    def arguments(self, cells: dict[str, str]) -> dict[str, Any]:
        if not cells["事项"]:
            raise _RowError("missing title (事项)")
        co = [self.unit(u, "协办单位") for u in _SPLIT.split(cells.get("协办单位", "")) if u]
        return {
            "title": cells["事项"],
            "source": self.choice(cells["来源"], SOURCE_ZH, "source (来源)"),
            "board": self.choice(cells["板块"], self.boards, "board (板块)"),
            "severity": self.choice(cells.get("性质") or "general", SEVERITY_ZH, "severity (性质)"),
            "raising_unit": self.unit(cells["立项单位"], "立项单位"),
            "lead_unit": self.unit(cells["牵头单位"], "牵头单位"),
            "co_units": co,
            "detail": cells.get("说明/备注", ""),
        }


Rows = Iterator[tuple[str, int, dict[str, str]]]


def _sheets(path: Path) -> Rows:
    """(sheet, row number, cells by header) of every non-empty row of the file's ledger rows."""
    kind = path.suffix.lower()
    if kind == ".csv":
        yield from _csv_rows(path)
    elif kind in (".xlsx", ".xlsm"):
        yield from _workbook_rows(path)
    else:
        raise InputError(f"cannot import {path.name!r}: give an .xlsx workbook or a .csv file")


def _csv_rows(path: Path) -> Rows:
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise InputError(f"cannot read {path.name} as UTF-8 CSV: {e}") from None
    yield from _ledger_rows(path.stem, ([from_csv(c) for c in row] for row in rows), path)


def _workbook_rows(path: Path) -> Rows:
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, InvalidFileException):
        raise InputError(f"cannot read {path.name}: not an .xlsx workbook, or damaged") from None
    try:
        sheets = [wb[ALL_ITEMS]] if ALL_ITEMS in wb.sheetnames else list(wb.worksheets)
        found = False
        for ws in sheets:
            rows = ws.iter_rows(values_only=True)
            header = [_text(v) for v in next(rows, ())]
            if "事项" not in header or "牵头单位" not in header:
                continue  # not a ledger sheet (e.g. statistics)
            found = True
            yield from _ledger_rows(ws.title, iter([header, *rows]), path)
    finally:
        wb.close()
    if not found:
        raise InputError(f"{path} has no ledger sheet (a header row with {', '.join(_REQUIRED)})")


def _ledger_rows(sheet: str, rows: Iterator[Iterable[Any]], path: Path) -> Rows:
    header = [_text(v) for v in next(rows, ())]
    missing = [h for h in _REQUIRED if h not in header]
    if missing:
        raise InputError(f"{path.name}, sheet {sheet!r} lacks the column(s) {', '.join(missing)}")
    for n, values in enumerate(rows, 2):
        cells = {h: _text(v) for h, v in zip(header, values, strict=False) if h}
        if any(cells.get(h) for h in IMPORT_HEADERS):
            yield sheet, n, cells


def import_ledger(
    app: Registrar, path: Path, *, actor: str, assign: bool = True, dry_run: bool = False
) -> ImportReport:
    """Register every acceptable row of the file at ``path`` as ``actor`` (none on a dry run)."""
    app.directory.contact(actor)
    resolver = _Resolver(app)
    seen: dict[str, tuple[str, int]] = {}
    out: list[RowOutcome] = []
    for sheet, n, cells in list(_sheets(path)):
        number = cells.get("编号", "")

        def report(outcome: str, message: str, *, sheet: str = sheet, n: int = n) -> None:
            out.append(
                RowOutcome(sheet=sheet, row=n, number=number, outcome=outcome,  # noqa: B023
                           message=f"第{n}行: {message}")
            )  # fmt: skip

        if number and not _NUMBER.fullmatch(number):
            report("refused", f"bad number (编号) {number!r}: letters, digits, '.' and '-'")
            continue
        if number in seen:
            first = seen[number]
            report("refused", f"number {number} appears twice (first on {first[0]} 第{first[1]}行)")
            continue
        if number:
            seen[number] = (sheet, n)
        if number and app.is_local(number):
            report("skipped", f"{number} already registered, skipped")
            continue
        try:
            args = resolver.arguments(cells)
            if dry_run:
                report("accepted", "would be registered")
                continue
            item = app.register(number=number or None, actor=actor, assign=assign, **args)
        except (_RowError, LedgerError) as e:
            report("refused", str(e))
            continue
        number = item.number
        report("registered", f"{number} registered")
    return ImportReport(
        registered=sum(1 for r in out if r.outcome == "registered"),
        skipped=sum(1 for r in out if r.outcome == "skipped"),
        refused=sum(1 for r in out if r.outcome == "refused"),
        rows=out,
        dry_run=dry_run,
    )
