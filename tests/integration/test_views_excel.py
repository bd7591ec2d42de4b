"""Excel import (row-numbered refusals, idempotent) and export (sheets, frozen header, dates)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook, load_workbook

from ledger13710.application.node import Node
from ledger13710.domain.clock import ManualClock
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
        ["", "无编号", "executive", "daily", "general", "sx", "sx/transport"],
    ]
    path = workbook(tmp_path / "in.xlsx", rows)
    report = import_ledger(node.app, path, actor=SUP)
    outcomes = {r.row: (r.outcome, r.message) for r in report.rows}
    refused = (4, 5, 6, 7, 8, 10, 11)
    expected_outcomes = {2: "registered", 3: "registered"} | dict.fromkeys(refused, "refused")
    assert expected_outcomes == {n: o for n, (o, _m) in outcomes.items()}
    needles = {4: "sx/nowhere", 5: "no-board", 6: "rumour", 7: "trivial", 8: "title",
               10: "appears twice", 11: "number"}  # fmt: skip
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


def test_export_writes_board_sheets_that_import_back(
    make_node: MakeNode, clock: ManualClock, tmp_path: Path
) -> None:
    """An export has a sheet per board, a frozen header, dates; importing it elsewhere works."""
    source = make_node("sqlite")
    import_ledger(source.app, workbook(tmp_path / "in.xlsx", [GOOD]), actor=SUP)
    source.app.register(
        title="日常事项", source="executive", board="daily", severity="general",
        raising_unit="sx", lead_unit="sx/finance", actor=SUP, assign=True,
    )  # fmt: skip
    out = tmp_path / "out.xlsx"
    now = clock.now()

    async def export() -> None:
        async with open_views(source.dir, source.id, source.app.recorder) as views:
            await views.catch_up()
            page = await ledger_page(views.store, LedgerQuery(page_size=0), now)
            stats = await statistics(views.store, LedgerQuery(), now)

            def fill(wb: Workbook) -> None:
                excel.add_ledger_sheets(wb, page.items, source.app.boards, {})
                excel.add_stats_sheets(wb, stats, source.app.boards)

            excel.write_xlsx(out, fill)

    asyncio.run(export())
    wb = load_workbook(out)
    assert wb.sheetnames[:2] == ["日常督办事项", "重点工作任务"]
    assert "按年度" in wb.sheetnames
    ws = wb["重点工作任务"]
    assert ws.freeze_panes == "A2"
    header = [c.value for c in ws[1]]
    assert list(excel.LEDGER_HEADERS) == header
    due = ws.cell(row=2, column=header.index("解决时限") + 1)
    assert isinstance(due.value, datetime)
    assert due.number_format == excel.DATE_FORMAT
    target = make_node("sqlite")
    report = import_ledger(target.app, out, actor=SUP)
    assert (report.registered, report.skipped, report.refused) == (2, 0, 0)
    assert source.app.item("sx-2016-0101").co_units == target.app.item("sx-2016-0101").co_units
