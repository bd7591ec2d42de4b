"""The incentive points method (督查激励积分办法) as versioned data.

The rules live in a TOML file (``data/points-v1.toml``), like the 13710 policy: what each fact
is worth (``[award]``), what it costs (``[deduct]``) and how much an item's board and severity
weigh (``[weights.board]``, ``[weights.severity]``). Every point records the ``version`` of the
rules that priced it, so a changed file is a new version and never silently re-prices history.

Points are kept in hundredths (``centi``): a value in the file has at most two decimals, and
``base × board weight × severity weight`` is rounded half-up to a hundredth once, per point,
so sums are exact.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import msgspec

from ledger13710.domain.errors import ConfigError
from ledger13710.domain.policy import decode_versioned

#: Sanity bound, so a typo cannot make one fact worth a whole year's assessment.
MAX_VALUE = Decimal(1000)
MAX_WEIGHT = Decimal(10)


class AwardFile(msgspec.Struct, forbid_unknown_fields=True):
    """``[award]``: positive points (to the undertaking unit unless said otherwise)."""

    clock_on_time: float = 1.0  # each deploy / feedback / resolve / plan clock met by its due
    early_per_day: float = 0.5  # the resolve (or plan-target) clock met a whole day early
    early_max_days: int = 10
    zero_cleared: float = 2.0  # the item closed out (销号清零)
    review_on_time: float = 0.5  # to the raising side: a review decided by its review due


class DeductFile(msgspec.Struct, forbid_unknown_fields=True):
    """``[deduct]``: negative points, written as positive amounts."""

    clock_missed: float = 2.0  # a clock met after its due (net of time waiting on review)
    overdue_per_day: float = 0.5  # each started day overdue
    overdue_max_days: int = 30
    returned: float = 1.0  # feedback or a resolution returned for rework (退回)
    urged: float = 1.0  # a supervisor urged the unit (催办)
    untrue_feedback: float = 5.0  # feedback the reviewer marked as untrue (不实)
    review_missed: float = 1.0  # to the raising side: a review decided after its review due
    review_overdue_per_day: float = 0.5


class WeightsFile(msgspec.Struct, forbid_unknown_fields=True):
    """``[weights]``: multipliers per board id and per severity; unlisted ones weigh 1."""

    board: dict[str, float] = msgspec.field(default_factory=dict)
    severity: dict[str, float] = msgspec.field(default_factory=dict)


class PointsFile(msgspec.Struct, forbid_unknown_fields=True):
    """The whole rules file as written; :func:`parse_points_rules` validates it."""

    version: str
    name: str
    description: str = ""
    award: AwardFile = msgspec.field(default_factory=AwardFile)
    deduct: DeductFile = msgspec.field(default_factory=DeductFile)
    weights: WeightsFile = msgspec.field(default_factory=WeightsFile)


class PointsRules(msgspec.Struct, frozen=True, kw_only=True):
    """Validated rules. ``values`` maps a rule name to its base value in hundredths (positive
    for awards, negative for deductions); weights are exact decimals."""

    version: str
    name: str
    description: str
    values: dict[str, int]
    early_max_days: int
    overdue_max_days: int
    board_weights: dict[str, Decimal]
    severity_weights: dict[str, Decimal]

    def price(self, rule: str, board: str, severity: str, quantity: int = 1) -> int:
        """Hundredths of a point for ``quantity`` of ``rule`` on an item of this board and
        severity (rounded half-up once)."""
        weight = self.board_weights.get(board, Decimal(1)) * self.severity_weights.get(
            severity, Decimal(1)
        )
        exact = Decimal(self.values[rule] * quantity) * weight
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


#: Rule name -> sign: every rule a point can be priced by.
RULES: dict[str, int] = {
    "clock_on_time": 1,
    "early_per_day": 1,
    "zero_cleared": 1,
    "review_on_time": 1,
    "clock_missed": -1,
    "overdue_per_day": -1,
    "returned": -1,
    "urged": -1,
    "untrue_feedback": -1,
    "review_missed": -1,
    "review_overdue_per_day": -1,
}

#: Chinese labels of the rules, for people.
RULE_ZH: dict[str, str] = {
    "clock_on_time": "按时完成",
    "early_per_day": "提前办结",
    "zero_cleared": "销号清零",
    "review_on_time": "按时审核",
    "clock_missed": "超期",
    "overdue_per_day": "超期天数",
    "returned": "退回重办",
    "urged": "被催办",
    "untrue_feedback": "反馈不实",
    "review_missed": "审核超期",
    "review_overdue_per_day": "审核超期天数",
}


def _centi(value: float, where: str, source: str) -> int:
    exact = Decimal(str(value))
    if exact < 0 or exact > MAX_VALUE:
        raise ConfigError(f"{source}: {where}: must be 0..{MAX_VALUE}, got {value}")
    if exact != exact.quantize(Decimal("0.01")):
        raise ConfigError(f"{source}: {where}: at most two decimals, got {value}")
    return int(exact * 100)


def _weights(raw: dict[str, float], where: str, source: str) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for key, value in raw.items():
        exact = Decimal(str(value))
        if exact <= 0 or exact > MAX_WEIGHT:
            raise ConfigError(f"{source}: {where}.{key}: must be > 0 and <= {MAX_WEIGHT}")
        out[key] = exact
    return out


def _days(value: int, where: str, source: str) -> int:
    if value < 0 or value > 3660:
        raise ConfigError(f"{source}: {where}: must be 0..3660 days, got {value}")
    return value


def parse_points_rules(text: str, source: str) -> PointsRules:
    """Decode and validate a points rules TOML file; ``source`` names it in every error."""
    raw = decode_versioned(text, source, PointsFile)
    values: dict[str, int] = {}
    for rule, sign in RULES.items():
        table, part = ("award", raw.award) if sign > 0 else ("deduct", raw.deduct)
        values[rule] = sign * _centi(getattr(part, rule), f"{table}.{rule}", source)
    return PointsRules(
        version=raw.version,
        name=raw.name,
        description=raw.description,
        values=values,
        early_max_days=_days(raw.award.early_max_days, "award.early_max_days", source),
        overdue_max_days=_days(raw.deduct.overdue_max_days, "deduct.overdue_max_days", source),
        board_weights=_weights(raw.weights.board, "weights.board", source),
        severity_weights=_weights(raw.weights.severity, "weights.severity", source),
    )
