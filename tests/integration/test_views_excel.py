"""Excel import (row-numbered refusals, idempotent, CSV, dry run, new items without numbers)
and export (总台账 and board sheets, formats cell by cell, names, import back)."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from ledger13710.application.node import Node
from ledger13710.domain.clock import ManualClock
from ledger13710.domain.errors import InputError
from ledger13710.node.views import open_views
from ledger13710.projections import excel
from ledger13710.projections.importer import import_ledger
from ledger13710.projections.queries import LedgerQuery, ledger_page
from ledger13710.projections.stats import statistics

MakeNode = Callable[..., Node]
SUP = "sx-general-office-sup1"
GOOD: list[object] = [
    "sx-2016-0101", "风电法兰运输受阻", "重点工作任务", "key-work", "一般性问题", "sx",
    "sx/transport", "sx/public-security", "拓宽收费站车道",
]  # fmt: skip


def workbook(path: Path, rows: list[list[object]]) -> Path:
    """A one-sheet workbook with the import headers and ``rows``."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(list(excel.IMPORT_HEADERS))
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def test_import_refuses_bad_rows_by_number_and_is_idempotent(
    make_node: MakeNode, tmp_path: Path
) -> None:
    """Each bad row is refused as 第N行 with its reason; a second import creates nothing."""
    node = make_node("sqlite")
    rows: list[list[object]] = [
        GOOD,
        [
            "sx-2016-0102",
            "第二项",
            "常务会议",
            "日常督办事项",
            "major",
            "sx",
            "山西省交通运输厅",
            "",
            "",
        ],
        ["sx-2016-0103", "未知单位", "executive", "daily", "general", "sx", "sx/nowhere", "", ""],
        ["sx-2016-0104", "未知板块", "executive", "no-board", "general", "sx", "sx/transport"],
        ["sx-2016-0105", "未知来源", "rumour", "daily", "general", "sx", "sx/transport"],
        ["sx-2016-0106", "未知性质", "executive", "daily", "trivial", "sx", "sx/transport"],
        ["sx-2016-0107", "", "executive", "daily", "general", "sx", "sx/transport"],
        [None] * 9,
        ["sx-2016-0101", "重复编号", "executive", "daily", "general", "sx", "sx/transport"],
        ["sx 2016/0108", "坏编号", "executive", "daily", "general", "sx", "sx/transport"],
    ]
    path = workbook(tmp_path / "in.xlsx", rows)
    report = import_ledger(node.app, path, actor=SUP)
    outcomes = {r.row: (r.outcome, r.message) for r in report.rows}
    refused = (4, 5, 6, 7, 8, 10, 11)
    expected_outcomes = {2: "registered", 3: "registered"} | dict.fromkeys(refused, "refused")
    assert expected_outcomes == {n: o for n, (o, _m) in outcomes.items()}
    needles = {4: "sx/nowhere", 5: "no-board", 6: "rumour", 7: "trivial", 8: "title",
               10: "appears twice", 11: "bad number"}  # fmt: skip
    for n, needle in needles.items():
        message = outcomes[n][1]
        assert message.startswith(f"第{n}行: ")
        assert needle in message
    assert node.app.item("sx-2016-0102").severity == "major"
    assert node.app.item("sx-2016-0102").lead_unit == "sx/transport"
    position = node.app.recorder.max_notification_id()
    again = import_ledger(node.app, path, actor=SUP)
    counts = (0, 2, 7)
    assert counts == (again.registered, again.skipped, again.refused)
    assert position == node.app.recorder.max_notification_id()


def export(source: Node, now: datetime, out: Path) -> None:
    """Export the node's ledger and statistics to ``out`` as the CLI does, units by name."""
    unit = source.app.directory.unit

    async def run() -> None:
        async with open_views(source.dir, source.id, source.app.recorder) as views:
            await views.catch_up()
            page = await ledger_page(views.store, LedgerQuery(page_size=0), now)
            stats = await statistics(views.store, LedgerQuery(), now)

            def fill(wb: Workbook) -> None:
                excel.add_ledger_sheets(wb, page.items, source.app.boards, lambda u: unit(u).name)
                excel.add_stats_sheets(wb, stats, source.app.boards, lambda u: unit(u).name)

            excel.write_xlsx(out, fill)

    asyncio.run(run())


def two_items(source: Node, tmp_path: Path) -> None:
    """One imported key-work item and one registered daily item, both assigned."""
    import_ledger(source.app, workbook(tmp_path / "in.xlsx", [GOOD]), actor=SUP)
    source.app.register(
        title="日常事项", source="executive", board="daily", severity="general",
        raising_unit="sx", lead_unit="sx/finance", actor=SUP, assign=True,
    )  # fmt: skip


def test_export_writes_board_sheets_that_import_back(
    make_node: MakeNode, clock: ManualClock, tmp_path: Path
) -> None:
    """An export has 总台账 then a sheet per board; importing it elsewhere registers each once."""
    source = make_node("sqlite")
    two_items(source, tmp_path)
    out = tmp_path / "out.xlsx"
    export(source, clock.now(), out)
    wb = load_workbook(out)
    assert wb.sheetnames[:3] == ["总台账", "日常督办事项", "重点工作任务"]
    assert "按年度" in wb.sheetnames
    header = [c.value for c in wb["重点工作任务"][1]]
    assert list(excel.LEDGER_HEADERS) == header
    target = make_node("sqlite")
    report = import_ledger(target.app, out, actor=SUP)
    assert (report.registered, report.skipped, report.refused) == (2, 0, 0)
    assert source.app.item("sx-2016-0101").co_units == target.app.item("sx-2016-0101").co_units


#: The number format of each kind of ledger column.
DATES = {"部署时限", "部署完成", "反馈时限", "反馈完成", "解决时限", "解决完成", "方案目标时限",
         "方案目标完成", "立项时间", "办结时间"}  # fmt: skip
COUNTS = {"年度", "退回次数", "延期申请", "延期批准", "催办次数", "附件数"}


def test_export_formats_cell_by_cell(
    make_node: MakeNode, clock: ManualClock, tmp_path: Path
) -> None:
    """Dates as dates, counts as integers, rates as percentages, text as text; bold frozen
    filtered headers that print on every page; widths from content; units by name."""
    source = make_node("sqlite")
    two_items(source, tmp_path)
    out = tmp_path / "out.xlsx"
    export(source, clock.now(), out)
    wb = load_workbook(out)
    for ws in wb.worksheets:
        assert all(c.font.bold for c in ws[1]), ws.title
        assert (ws.freeze_panes, ws.print_title_rows) == ("A2", "$1:$1"), ws.title
        assert ws.auto_filter.ref is not None
        assert ws.auto_filter.ref.startswith("A1:"), ws.title
    ledger = wb["总台账"]
    assert ledger.max_row == 3
    header = [c.value for c in ledger[1]]
    assert set(header) >= DATES | COUNTS
    for row in ledger.iter_rows(min_row=2):
        for name, cell in zip(header, row, strict=True):
            if cell.value is None:
                continue
            expected = "yyyy-mm-dd hh:mm" if name in DATES else "0" if name in COUNTS else "General"
            assert (name, expected) == (name, cell.number_format)
    lead = [c.value for c in ledger["G"][1:]]
    assert {"山西省交通运输厅", "山西省财政厅"} == set(lead)
    title_width = max(len(str(c.value)) * 2 for c in ledger["B"][1:])
    assert title_width <= (ledger.column_dimensions["B"].width or 0)
    clocks = wb["时限"]
    assert clocks.max_row > 3
    for row in clocks.iter_rows(min_row=2):
        formats = [c.number_format for c in row[1:6]]
        assert formats == ["0"] * 5
        rate = row[6]
        assert rate.value is None or rate.number_format == "0.0%"
    summary = {r[0].value: r[1] for r in wb["概况"].iter_rows(min_row=2)}
    assert summary["销号清零率"].number_format == "0.0%"
    assert summary["事项总数"].number_format == "0"


def test_import_reads_csv_numbers_new_items_and_dry_runs(
    make_node: MakeNode, tmp_path: Path
) -> None:
    """A CSV imports like a sheet; a row without 编号 gets the node's next number; a dry run
    accepts or refuses each row and writes nothing."""
    node = make_node("sqlite")
    path = tmp_path / "in.csv"
    bad: list[object] = ["", "坏行", "executive", "daily", "general", "sx", "sx/nowhere", "", ""]
    rows: list[list[object]] = [list(excel.IMPORT_HEADERS), ["", *GOOD[1:]], bad]
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(rows)
    position = node.app.recorder.max_notification_id()
    dry = import_ledger(node.app, path, actor=SUP, dry_run=True)
    assert [r.outcome for r in dry.rows] == ["accepted", "refused"]
    assert position == node.app.recorder.max_notification_id()
    done = import_ledger(node.app, path, actor=SUP)
    assert [r.outcome for r in done.rows] == ["registered", "refused"]
    number = done.rows[0].number
    assert number.startswith("sx-")
    assert node.app.item(number).title == "风电法兰运输受阻"


def test_csv_export_never_hands_a_spreadsheet_a_formula(
    make_node: MakeNode, clock: ManualClock, tmp_path: Path
) -> None:
    """A title that starts like a formula is written as text (a leading apostrophe) and
    imports back exactly, on a node that has never seen it."""
    source = make_node("sqlite")
    title = '=HYPERLINK("http://example.invalid","点击")'
    number = source.app.register(
        title=title, source="key_work", board="key-work", severity="general",
        raising_unit="sx", lead_unit="sx/transport", actor=SUP,
    ).number  # fmt: skip
    out = tmp_path / "out.csv"

    async def run() -> None:
        async with open_views(source.dir, source.id, source.app.recorder) as views:
            await views.catch_up()
            page = await ledger_page(views.store, LedgerQuery(page_size=0), clock.now())
            excel.write_ledger_csv(out, page.items, source.app.boards)

    asyncio.run(run())
    with out.open(encoding="utf-8-sig", newline="") as f:
        written = {row[0]: row[1] for row in csv.reader(f)}
    assert "'" + title == written[number]
    target = make_node("sqlite")
    report = import_ledger(target.app, out, actor=SUP)
    assert (report.registered, report.refused) == (1, 0)
    assert title == target.app.item(number).title


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("broken.xlsx", b"PK not really a zip", "not an .xlsx workbook, or damaged"),
        ("ledger.pdf", b"%PDF", "give an .xlsx workbook or a .csv file"),
        ("latin1.csv", "编号".encode("gb18030"), "as UTF-8 CSV"),
        ("nothing.csv", b"a,b\n1,2\n", "lacks the column(s) 事项"),
    ],
)
def test_a_wrong_or_corrupt_file_is_one_clear_error(
    make_node: MakeNode, tmp_path: Path, name: str, content: bytes, needle: str
) -> None:
    """A damaged workbook, another format, a non-UTF-8 CSV or foreign columns: one InputError."""
    node = make_node("sqlite")
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        import_ledger(node.app, path, actor=SUP)
    assert needle in str(info.value)
    assert "\n" not in str(info.value)
