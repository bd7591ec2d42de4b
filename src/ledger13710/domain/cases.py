"""Accountability cases (督查工作责任追究): their own aggregate, proposed from recorded facts.

A trigger of the accountability rules (``data/accountability-v1.toml``) proposes a case
against a unit, with the circumstances and the evidence: the records that show them. The id
of a case is derived from its trigger and its facts, so the same facts never open a second case.
Procedure: proposed → investigated → decided (a form from the configured list) → closed, or
dismissed with reasons before a decision. Who may act:

* propose, investigate, close, dismiss: a supervisor (督查) of a unit that may supervise the
  case's unit (its government, or a general office at or above it), never the unit itself;
* decide: the head (一把手) of a government at or above the case's unit.

Topics are ``ledger13710.case.<Name>.v1``; cases replicate upward like every record.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

import msgspec

from ledger13710.domain.directory import Contact, is_government, is_within
from ledger13710.domain.errors import ConfigError, InputError, InvalidTransitionError
from ledger13710.domain.events import ItemEvent, event
from ledger13710.domain.lifecycle import may_supervise
from ledger13710.domain.types import SHANGHAI

CASE_NAMESPACE = UUID("c3a5e0d1-13a7-4c10-9a1d-7a3b0f13c715")


class CaseState(enum.StrEnum):
    """Where a case is in its procedure."""

    PROPOSED = "proposed"  # 拟立案
    INVESTIGATED = "investigated"  # 已调查核实
    DECIDED = "decided"  # 已作出处理决定
    CLOSED = "closed"  # 已结案
    DISMISSED = "dismissed"  # 不予追究


class Evidence(msgspec.Struct, frozen=True, kw_only=True):
    """A record that shows the circumstances: where it is and what it is."""

    origin: str
    seq: int
    topic: str
    item: str = ""


@event("CaseProposed", kind="case")
class CaseProposed(ItemEvent, frozen=True, kw_only=True):
    """拟立案: a trigger's conditions hold for ``subject``; the evidence shows them."""

    trigger: str
    subject: str
    circumstances: str
    evidence: tuple[Evidence, ...]
    rules_version: str


@event("CaseInvestigated", kind="case")
class CaseInvestigated(ItemEvent, frozen=True, kw_only=True):
    """调查核实: the findings."""

    findings: str


@event("CaseDecided", kind="case")
class CaseDecided(ItemEvent, frozen=True, kw_only=True):
    """处理决定: the form of accountability, from the configured list, with reasons."""

    form: str
    reason: str


@event("CaseClosed", kind="case")
class CaseClosed(ItemEvent, frozen=True, kw_only=True):
    """结案."""

    note: str


@event("CaseDismissed", kind="case")
class CaseDismissed(ItemEvent, frozen=True, kw_only=True):
    """不予追究, with reasons."""

    reason: str


CASE_EVENTS = (CaseProposed, CaseInvestigated, CaseDecided, CaseClosed, CaseDismissed)

#: action -> (states it is allowed in, state after)
_STEPS: dict[str, tuple[tuple[CaseState, ...], CaseState]] = {
    "investigate": ((CaseState.PROPOSED,), CaseState.INVESTIGATED),
    "decide": ((CaseState.INVESTIGATED,), CaseState.DECIDED),
    "close": ((CaseState.DECIDED,), CaseState.CLOSED),
    "dismiss": ((CaseState.PROPOSED, CaseState.INVESTIGATED), CaseState.DISMISSED),
}


class AccountabilityRules(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The accountability rules as data: triggers and the forms a decision may take."""

    version: str
    forms: list[str]
    overdue_days: int = 10  # a clock met more than this many days late
    repeated_missed: int = 3  # clocks missed by one unit in one quarter
    untrue_feedback: bool = True  # feedback marked untrue
    description: str = ""


def parse_accountability(text: str, source: str) -> AccountabilityRules:
    """Decode and validate the accountability rules; ``source`` names the file in errors."""
    try:
        rules = msgspec.toml.decode(text, type=AccountabilityRules)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise ConfigError(f"{source}: {exc}") from None
    if not rules.forms or any(not f.strip() for f in rules.forms):
        raise ConfigError(f"{source}: forms: list at least one form, none empty")
    if rules.overdue_days < 1 or rules.repeated_missed < 2:
        raise ConfigError(f"{source}: overdue_days must be >= 1 and repeated_missed >= 2")
    return rules


def case_id(trigger: str, facts: str) -> UUID:
    """The id of the case a trigger opens on these facts (the same facts, the same case)."""
    return uuid5(CASE_NAMESPACE, f"{trigger}|{facts}")


class Case:
    """One accountability case."""

    def __init__(self, agg_id: UUID) -> None:
        self.id = agg_id
        self.version = 0
        self.state = CaseState.PROPOSED
        self.subject = ""
        self.trigger = ""
        self.form = ""
        self._pending: list[ItemEvent] = []

    def collect_events(self) -> Sequence[ItemEvent]:
        """Hand over the events emitted since the last save."""
        pending, self._pending = self._pending, []
        return pending

    def apply(self, e: Any) -> None:
        """Fold one recorded event."""
        self.version = e.originator_version
        match e:
            case CaseProposed():
                self.subject, self.trigger = e.subject, e.trigger
            case CaseInvestigated():
                self.state = CaseState.INVESTIGATED
            case CaseDecided():
                self.state, self.form = CaseState.DECIDED, e.form
            case CaseClosed():
                self.state = CaseState.CLOSED
            case CaseDismissed():
                self.state = CaseState.DISMISSED

    def _emit(self, cls: type[ItemEvent], actor: Contact, now: Any, **f: Any) -> None:
        e = cls(originator_id=self.id, originator_version=self.version + 1, timestamp=now,
                actor=actor.id, unit=actor.unit, **f)  # fmt: skip
        self.apply(e)
        self._pending.append(e)

    def propose(
        self, *, trigger: str, subject: str, circumstances: str, evidence: Sequence[Evidence],
        rules_version: str, actor: Contact, now: Any,
    ) -> None:  # fmt: skip
        """拟立案 by a supervisor of the subject's government (a scan acts as one)."""
        if self.version:
            raise InputError(f"case {self.id} already exists: the same facts open one case")
        _require_supervisor(actor, subject, "propose a case")
        if not evidence:
            raise InputError("a case needs the records that show its circumstances")
        self._emit(
            CaseProposed, actor, now, trigger=trigger, subject=subject,
            circumstances=circumstances, evidence=tuple(evidence), rules_version=rules_version,
        )  # fmt: skip

    def step(
        self, action: str, *, text: str, actor: Contact, now: Any, form: str = "",
        forms: Sequence[str] = (),
    ) -> None:  # fmt: skip
        """investigate / decide (``form`` from ``forms``) / close / dismiss, by whoever may."""
        allowed, _after = _STEPS[action]
        if self.state not in allowed:
            permitted = [a for a, (states, _) in _STEPS.items() if self.state in states]
            raise InvalidTransitionError(f"case {self.id}", self.state.value, action, permitted)
        if not text.strip():
            raise InputError(f"missing the text of '{action}'", field="text")
        if action == "decide":
            _require_head(actor, self.subject)
            if form not in forms:
                raise InputError(f"unknown form {form!r}; choose one of: {', '.join(forms)}")
            self._emit(CaseDecided, actor, now, form=form, reason=text)
            return
        _require_supervisor(actor, self.subject, f"{action} a case")
        if action == "investigate":
            self._emit(CaseInvestigated, actor, now, findings=text)
        elif action == "close":
            self._emit(CaseClosed, actor, now, note=text)
        else:
            self._emit(CaseDismissed, actor, now, reason=text)


def _require_supervisor(actor: Contact, subject: str, what: str) -> None:
    if (
        actor.role != "supervisor"
        or actor.unit == subject
        or not may_supervise(actor.unit, subject)
    ):
        raise InputError(
            f"only a supervisor of a unit above {subject} may {what}, not {actor.id} "
            f"({actor.role} of {actor.unit})"
        )


def _require_head(actor: Contact, subject: str) -> None:
    unit = actor.unit
    head_above = is_government(unit) and is_within(subject, unit) and unit != subject
    if actor.role != "head" or not head_above:
        raise InputError(
            f"a case of {subject} is decided by the head of a government at or above it, not "
            f"{actor.id} ({actor.role} of {unit})"
        )


def project_case(agg: Case | None, events: Iterable[Any]) -> Case | None:
    """Fold a case's events."""
    for e in events:
        agg = agg or Case(e.originator_id)
        agg.apply(e)
    return agg


# -- triggers --------------------------------------------------------------------------------


class Fact(msgspec.Struct, frozen=True, kw_only=True):
    """A priced fact the triggers read: a point and the record that earned it."""

    unit: str
    item: str
    rule: str
    clock: str
    quantity: int
    origin: str
    seq: int
    topic: str
    at: datetime


class Proposal(msgspec.Struct, frozen=True, kw_only=True):
    """A case the rules propose: its id (from trigger and facts), subject, circumstances."""

    id: UUID
    trigger: str
    subject: str
    circumstances: str
    evidence: tuple[Evidence, ...]


def _evidence(f: Fact) -> Evidence:
    return Evidence(origin=f.origin, seq=f.seq, topic=f.topic, item=f.item)


def proposals(facts: Iterable[Fact], rules: AccountabilityRules) -> list[Proposal]:
    """The cases the facts call for: a clock met more than ``overdue_days`` late, feedback
    marked untrue, ``repeated_missed`` clocks missed by one unit in one quarter."""
    found: list[Proposal] = []
    missed: dict[tuple[str, str], list[Fact]] = {}
    for f in facts:
        key = f"{f.origin}:{f.seq}:{f.unit}:{f.clock}"
        if f.rule == "overdue_per_day" and f.quantity > rules.overdue_days:
            text = f"{f.item} {f.clock} 超期 {f.quantity} 天 (> {rules.overdue_days})"
            found.append(Proposal(id=case_id("overdue", key), trigger="overdue", subject=f.unit,
                                  circumstances=text, evidence=(_evidence(f),)))  # fmt: skip
        elif f.rule == "untrue_feedback" and rules.untrue_feedback:
            text = f"{f.item} 反馈被认定不实"
            found.append(Proposal(id=case_id("untrue-feedback", key), trigger="untrue-feedback",
                                  subject=f.unit, circumstances=text,
                                  evidence=(_evidence(f),)))  # fmt: skip
        elif f.rule == "clock_missed":
            local = f.at.astimezone(SHANGHAI)
            quarter = f"{local.year}-Q{(local.month - 1) // 3 + 1}"
            missed.setdefault((f.unit, quarter), []).append(f)
    for (unit, quarter), group in sorted(missed.items()):
        if len(group) >= rules.repeated_missed:
            text = f"{quarter} 超期 {len(group)} 次 (>= {rules.repeated_missed})"
            found.append(Proposal(
                id=case_id("repeated-overdue", f"{unit}:{quarter}"), trigger="repeated-overdue",
                subject=unit, circumstances=text, evidence=tuple(_evidence(f) for f in group),
            ))  # fmt: skip
    return found
