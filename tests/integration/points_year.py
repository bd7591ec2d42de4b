"""The scripted year of ``tests/unit/points_helpers.py`` played through the application of a
real node (policy 13710-v2), for the points integration tests."""

from __future__ import annotations

from datetime import datetime
from importlib import resources

from ledger13710.application.ledger import LedgerApp
from ledger13710.domain.clock import ManualClock
from ledger13710.domain.points_rules import PointsRules, parse_points_rules
from ledger13710.domain.types import SHANGHAI
from ledger13710.projections.points import PointsProjector
from ledger13710.projections.points_queries import ScoreQuery, parse_period, scores

SUP = "sx-general-office-sup1"
HEADS = {"sx/transport": "sx-transport-head", "sx/public-security": "sx-public-security-head"}
RAISING = "sx/general-office"

#: (day, hour, item 1-4, action): the scripted year, in time order.
YEAR: list[tuple[str, int, int, str]] = [
    ("2016-01-04", 9, 1, "register"), ("2016-01-04", 10, 1, "deploy"),
    ("2016-01-05", 10, 1, "feedback"), ("2016-01-06", 10, 1, "accept"),
    ("2016-01-08", 10, 1, "resolve"), ("2016-01-09", 10, 1, "close-out"),
    ("2016-03-01", 9, 2, "register"), ("2016-03-02", 10, 2, "deploy"),
    ("2016-03-03", 10, 2, "feedback"), ("2016-03-10", 10, 2, "untrue"),
    ("2016-03-11", 10, 2, "feedback"), ("2016-03-12", 10, 2, "urge"),
    ("2016-03-12", 11, 2, "accept"), ("2016-03-20", 10, 2, "resolve"),
    ("2016-03-25", 10, 2, "close-out"),
    ("2016-06-01", 9, 3, "register"), ("2016-06-01", 10, 3, "deploy"),
    ("2016-06-02", 10, 3, "feedback"), ("2016-06-03", 10, 3, "accept"),
    ("2016-06-30", 10, 3, "resolve"), ("2016-07-14", 10, 3, "close-out"),
    ("2016-09-01", 9, 4, "register"), ("2016-09-01", 10, 4, "deploy"),
    ("2016-09-02", 10, 4, "feedback"), ("2016-09-02", 11, 4, "accept"),
    ("2016-09-07", 10, 4, "extend"), ("2016-09-12", 10, 4, "approve"),
    ("2016-09-19", 10, 4, "resolve"),
]  # fmt: skip
ITEMS = {
    1: ("sx/transport", "daily", "general"),
    2: ("sx/public-security", "key-work", "general"),
    3: ("sx/transport", "daily", "major"),
    4: ("sx/public-security", "daily", "general"),
}
#: Hundredths per unit, as added up by hand in tests/unit/points_helpers.py.
YEAR_TOTALS = {"sx/transport": 1475, "sx/public-security": -2200, RAISING: -1625}
Q1_TOTALS = {"sx/transport": 650, "sx/public-security": -2550, RAISING: -575}


def _at(day: str, hour: int) -> datetime:
    y, m, d = (int(x) for x in day.split("-"))
    return datetime(y, m, d, hour, tzinfo=SHANGHAI)


def _act(app: LedgerApp, number: str, action: str, lead: str) -> None:
    head = HEADS[lead]
    match action:
        case "deploy":
            app.deploy(number, actor=head, note="研究部署")
        case "feedback":
            app.feedback(number, actor=head, content="办理情况")
        case "resolve":
            app.resolve(number, actor=head, content="已解决")
        case "accept":
            app.accept_feedback(number, actor=SUP)
        case "untrue":
            app.return_for_rework(number, actor=SUP, reason="反馈不实", untrue=True)
        case "urge":
            app.urge(number, actor=SUP, message="请加快")
        case "close-out":
            app.close_out(number, actor=SUP, verdict="同意销号")
        case "extend":
            until = _at("2016-09-20", 23)
            app.request_extension(number, actor=head, clock="resolve", until=until, reason="供货")
        case "approve":
            app.decide_extension(number, actor=SUP, clock="resolve", approve=True)


def play_year(app: LedgerApp, clock: ManualClock, start: int = 0, stop: int = len(YEAR)) -> None:
    """Play steps ``start`` to ``stop`` of :data:`YEAR`; item ``i`` is ``sx-2016-000i``."""
    for day, hour, item, action in YEAR[start:stop]:
        clock.set(_at(day, hour))
        lead, board, severity = ITEMS[item]
        if action == "register":
            registered = app.register(
                title=f"事项{item}", source="executive", board=board, severity=severity,
                raising_unit=RAISING, lead_unit=lead, actor=SUP, assign=True,
            )  # fmt: skip
            assert registered.number == number(item)
        else:
            _act(app, number(item), action, lead)


def number(item: int) -> str:
    """The number the node issues to the ``item``-th item of the year."""
    return f"sx-2016-{item:04d}"


def rules(version: str = "points-v1", urged: str = "1.0") -> PointsRules:
    """The example rules, optionally as another version with another price of an urge."""
    text = resources.files("ledger13710").joinpath("data/points-v1.toml").read_text("utf-8")
    text = text.replace('"points-v1"', f'"{version}"').replace("urged = 1.0", f"urged = {urged}")
    return parse_points_rules(text, version)


async def totals(projector: PointsProjector, period: str) -> dict[str, int]:
    """Each unit's total in ``period`` after catching up."""
    await projector.catch_up()
    ranked = await scores(projector.store, ScoreQuery(period=parse_period(period)))
    return {s.unit: s.total for s in ranked}
