"""Shared vocabulary of the domain: tiers, severities, sources, clocks and deadlines.

The event Structs annotate their fields with what the published JSON Schemas say about them
(:func:`known_values`, :data:`Instant`, :func:`described`). These annotations are for the schema
only: a field listed with its known values is still decoded as a ``str``, so the bytes stored
never change and a value added later never stops an older reader (docs/versioning.md).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal, get_args

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


#: ``Deadline.day_basis``: calendar days, or working days of the work calendar.
DayBasis = Literal["calendar", "working"]
MILESTONE_CLOCK_PATTERN = "^milestone-[1-9][0-9]*$"


class State(enum.StrEnum):
    """Where an item is in its lifecycle."""

    REGISTERED = "registered"  # 已立项
    ASSIGNED = "assigned"  # 已交办
    DEPLOYED = "deployed"  # 已部署
    IN_PROGRESS = "in_progress"  # 办理中 (feedback given)
    PLANNED = "planned"  # 按计划推进 (timeline and plan accepted)
    RESOLVED = "resolved"  # 已办结, awaiting review
    CLOSED = "closed"  # 已销号
    CANCELLED = "cancelled"  # 已撤销


# --- what the published schemas say about a field -------------------------------------------


def described(text: str) -> msgspec.Meta:
    """A field's description in the published JSON Schema."""
    return msgspec.Meta(description=text)


def known_values(text: str, values: Iterable[str]) -> msgspec.Meta:
    """A string field whose values today are ``values``: the schema's ``enum``, plus ``text``."""
    return msgspec.Meta(description=text, extra_json_schema={"enum": list(values)})


def clock_names(text: str, *extra: str) -> msgspec.Meta:
    """A clock name: a standing clock (:class:`Clock`) or a plan milestone's ``milestone-<n>``."""
    standing: dict[str, Any] = {"enum": [*extra, *(c.value for c in Clock)]}
    return msgspec.Meta(
        description=text,
        extra_json_schema={"anyOf": [standing, {"pattern": MILESTONE_CLOCK_PATTERN}]},
    )


#: An instant with its UTC offset (RFC 3339), e.g. ``2016-10-20T09:00:00+08:00``.
Instant = Annotated[datetime, msgspec.Meta(extra_json_schema={"format": "date-time"})]
#: A contact id of the node's directory (never a name or a phone number).
ContactId = Annotated[str, described("a contact id of the node's directory, never a name")]
#: A unit id, e.g. ``sx/transport`` or ``sx.xinzhou``.
UnitId = Annotated[str, described("a unit id, e.g. sx/transport or sx.xinzhou")]
#: An item number ``<node>-<year>-<seq>``.
ItemNumber = Annotated[str, described("the item number, <node>-<year>-<seq>")]


class Deadline(msgspec.Struct, frozen=True, kw_only=True):
    """A due time, computed once when its clock starts and recorded in the event.

    Replay never recomputes it: the policy and calendar versions that produced it travel with
    it, so a later change of rules or of the holiday table cannot move a recorded deadline.
    """

    clock: Annotated[str, clock_names("the clock this deadline is for")]
    started_at: Instant
    due_at: Instant
    remind_before_s: Annotated[int, described("seconds before due_at the reminder goes out")]
    policy_version: Annotated[str, described("the 13710 policy that computed it")]
    calendar_version: Annotated[str, described("the work calendar that computed it")]
    day_basis: Annotated[str, known_values("calendar or working days", get_args(DayBasis))]
    calendar_fallback: Annotated[
        bool, described("true when a year had no calendar data (weekends only)")
    ] = False
