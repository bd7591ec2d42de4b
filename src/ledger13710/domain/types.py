"""Shared vocabulary of the domain: tiers, severities, sources, clocks and deadlines."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta, timezone

import msgspec

#: China Standard Time. China has no daylight saving time, so a fixed offset is exact and
#: keeps event payloads free of tz-database names.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")


class Tier(enum.StrEnum):
    """The four tiers of government (层级)."""

    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"


TIER_ORDER: tuple[Tier, ...] = (Tier.PROVINCE, Tier.CITY, Tier.COUNTY, Tier.TOWNSHIP)


class Severity(enum.StrEnum):
    """How hard the problem is: decides the resolve clock (7 days or 1 month)."""

    GENERAL = "general"
    MAJOR = "major"
    COMPLEX = "complex"


class Source(enum.StrEnum):
    """Where an item comes from (立项来源)."""

    PLENARY = "plenary"  # 全体会议
    EXECUTIVE = "executive"  # 常务会议
    GOVERNORS_OFFICE = "governors_office"  # 省长办公会议
    SPECIAL_TOPIC = "special_topic"  # 专题会议
    LEADER_INSTRUCTION = "leader_instruction"  # 领导批示/指示
    KEY_WORK = "key_work"  # 重点工作任务 (economic work conference, Government Work Report)


class Clock(enum.StrEnum):
    """The standing clocks of 13710. Plan milestones use ``milestone-<n>`` names."""

    DEPLOY = "deploy"  # the "1": same day
    FEEDBACK = "feedback"  # the "3": within 3 days
    RESOLVE = "resolve"  # the "7" / the "1": 7 days or 1 month


def milestone_clock(index: int) -> str:
    """Name of the clock that tracks plan milestone ``index`` (1-based)."""
    return f"milestone-{index}"


class Deadline(msgspec.Struct, frozen=True, kw_only=True):
    """A due time, computed once when its clock starts and recorded in the event.

    Replay never recomputes it: the policy and calendar versions that produced it travel with
    it, so a later change of rules or of the holiday table cannot move a recorded deadline.
    """

    clock: str
    started_at: datetime
    due_at: datetime
    remind_before_s: int
    policy_version: str
    calendar_version: str
    day_basis: str  # "calendar" or "working"
    calendar_fallback: bool = False  # True when a year had no calendar data (weekends only)
