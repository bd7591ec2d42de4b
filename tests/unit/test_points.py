"""Incentive points from recorded facts: the rules file, a scripted year, review waits."""

from __future__ import annotations

from importlib import resources

import pytest
from points_helpers import (
    EXPECTED,
    RAISING,
    SECURITY,
    TOTALS,
    TRANSPORT,
    Drive,
    example_rules,
    score_all,
    scripted_year,
)

from ledger13710.config.policies import load_builtin_policy
from ledger13710.domain.errors import ConfigError
from ledger13710.domain.points_rules import RULES, parse_points_rules


def _rules_text() -> str:
    return resources.files("ledger13710").joinpath("data/points-v1.toml").read_text("utf-8")


def test_the_example_rules_price_every_rule_with_its_sign() -> None:
    """The shipped file gives each rule a value: awards positive, deductions negative."""
    rules = example_rules()
    assert rules.version == "points-v1"
    assert set(rules.values) == set(RULES)
    assert all((v > 0) == (RULES[r] > 0) for r, v in rules.values.items())
    assert rules.price("overdue_per_day", "key-work", "complex", 3) == -450  # 0.5 x 3 x 1.5 x 2


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("clock_on_time = 1.0", "clock_on_time = 1.005", "award.clock_on_time: at most two"),
        ("urged = 1.0", "urged = -1.0", "deduct.urged: must be 0..1000"),
        ("major = 1.5", "major = 0", "weights.severity.major: must be > 0"),
        ('version = "points-v1"', 'version = ""', "version: '' must be"),
        ("[award]", "[awards]", "unknown field"),
    ],
)
def test_a_wrong_rules_file_is_one_error_naming_file_and_field(
    old: str, new: str, message: str
) -> None:
    """Each mistake in the rules file is a ConfigError naming the file and what is wrong."""
    with pytest.raises(ConfigError, match=r"my-rules\.toml") as err:
        parse_points_rules(_rules_text().replace(old, new, 1), "my-rules.toml")
    assert message in str(err.value)


def test_a_scripted_year_gives_the_hand_computed_points_each_explained() -> None:
    """Four items of 2016 give exactly the points worked out by hand, in order, each linked
    to the item event that earned it and priced by the rules version."""
    rules = example_rules()
    actual = []
    for drive in scripted_year():
        for p in score_all(drive.events, rules):
            event = drive.events[p.version - 1]
            assert (event.originator_version, event.timestamp) == (p.version, p.at)
            assert p.rules_version == "points-v1"
            actual.append((p.unit, p.item[-4:], p.rule, p.clock, p.quantity, p.centi))
    assert actual == EXPECTED
    totals: dict[str, int] = {}
    for unit, *_rest, centi in actual:
        totals[unit] = totals.get(unit, 0) + centi
    assert totals == TOTALS


def test_a_review_wait_is_charged_to_the_reviewer_not_the_undertaker() -> None:
    """Resolved on time, then two weeks waiting for close-out: the lead unit loses nothing,
    the raising unit is charged for every day its review was late."""
    drive = Drive.assigned("sx-2016-0009", TRANSPORT, "2016-06-01")
    drive.deploy("2016-06-01").feedback("2016-06-02").accept("2016-06-02")
    drive.resolve("2016-06-05").close_out("2016-06-22")
    points = score_all(drive.events, example_rules())
    assert [p.centi for p in points if p.unit == TRANSPORT and p.centi < 0] == []
    late = [(p.rule, p.quantity) for p in points if p.unit == RAISING and p.centi < 0]
    assert late == [("review_missed", 1), ("review_overdue_per_day", 14)]


def test_waiting_on_a_return_is_not_counted_as_late_rework_is() -> None:
    """Feedback on time, returned after its due: only the day of rework after the return
    counts as late, not the week the feedback sat with the reviewer."""
    drive = Drive.assigned("sx-2016-0010", SECURITY, "2016-03-01")
    drive.deploy("2016-03-01").feedback("2016-03-03").send_back("2016-03-10")
    drive.feedback("2016-03-11")
    points = score_all(drive.events, example_rules())
    late = [(p.rule, p.quantity) for p in points if p.unit == SECURITY and p.clock == "feedback"]
    assert late == [
        ("clock_on_time", 1),
        ("returned", 1),
        ("clock_missed", 1),
        ("overdue_per_day", 1),
    ]


def test_without_a_timed_review_the_reviewer_scores_nothing() -> None:
    """Under a policy without ``[review]`` (13710-v1) events carry no review due: reviews are
    not scored, the undertaker's points are the same as under 13710-v2."""
    rules = example_rules()
    scored = []
    for policy in (load_builtin_policy("13710-v1"), load_builtin_policy("13710-v2")):
        drive = Drive.assigned("sx-2016-0011", TRANSPORT, "2016-06-01")
        drive.policy = policy
        drive.deploy("2016-06-01").feedback("2016-06-02").accept("2016-06-30")
        scored.append(score_all(drive.events, rules))
    untimed, timed = scored
    assert {p.unit for p in untimed} == {TRANSPORT}
    assert [p for p in timed if p.unit == TRANSPORT] == untimed
    raiser = [p.rule for p in timed if p.unit != TRANSPORT]
    assert raiser == ["review_missed", "review_overdue_per_day"]
