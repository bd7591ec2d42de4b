"""The undertaking side's commands: 研究部署, 反馈, 进展, 落实解决, 方案, 延期申请.

Command bodies of :class:`~ledger13710.application.ledger.LedgerApp`, bound there as methods
(``deploy = undertaking.deploy``); each takes the application as its first parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import msgspec

from ledger13710.application.attachments import evidence
from ledger13710.domain import events as ev
from ledger13710.domain.item import Item
from ledger13710.domain.lifecycle import Action
from ledger13710.domain.state import (
    PLAN_TARGET,
    REVIEW_FEEDBACK,
    REVIEW_RESOLUTION,
    ItemState,
    review_extension_clock,
)

if TYPE_CHECKING:
    from ledger13710.application.ledger import LedgerApp


def deploy(
    app: LedgerApp, number: str, *, actor: str, note: str = "", attach: Sequence[Path] = ()
) -> ItemState:
    """研究部署; ``attach``: evidence files (so for every command below)."""
    now, staged = app.clock.now(), app.stage(attach)
    atts = evidence(staged)
    return app._act(
        number,
        actor,
        Action.DEPLOY,
        lambda it, u: it.deploy(note=note, now=now, actor=actor, unit=u, attachments=atts),
        staged,
    )


def feedback(
    app: LedgerApp, number: str, *, actor: str, content: str, attach: Sequence[Path] = ()
) -> ItemState:
    """反馈 (the raising side's review clock starts, when the policy times reviews)."""
    return _report(app, number, actor, Action.FEEDBACK, content, attach)


def progress(
    app: LedgerApp,
    number: str,
    *,
    actor: str,
    content: str,
    milestone: int = 0,
    attach: Sequence[Path] = (),
) -> ItemState:
    """进展, optionally meeting plan milestone ``milestone``."""
    now, staged = app.clock.now(), app.stage(attach)
    atts = evidence(staged)
    return app._act(
        number,
        actor,
        Action.PROGRESS,
        lambda it, u: it.progress(
            content=content,
            now=now,
            actor=actor,
            unit=u,
            milestone=milestone,
            attachments=atts,
        ),
        staged,
    )


def resolve(
    app: LedgerApp, number: str, *, actor: str, content: str, attach: Sequence[Path] = ()
) -> ItemState:
    """落实解决 (the raising side's review clock starts, when the policy times reviews)."""
    return _report(app, number, actor, Action.RESOLVE, content, attach)


def _report(
    app: LedgerApp,
    number: str,
    actor: str,
    action: Literal[Action.FEEDBACK, Action.RESOLVE],
    content: str,
    attach: Sequence[Path],
) -> ItemState:
    """反馈 or 落实解决: the two reports the raising side reviews, on its own clock."""
    now, staged = app.clock.now(), app.stage(attach)
    atts = evidence(staged)
    clock = REVIEW_FEEDBACK if action == Action.FEEDBACK else REVIEW_RESOLUTION
    review = app.policy.review_deadline(clock, now, app.calendar)
    report = Item.feedback if action == Action.FEEDBACK else Item.resolve
    return app._act(
        number,
        actor,
        action,
        lambda it, u: report(
            it, content=content, now=now, actor=actor, unit=u, review=review, attachments=atts
        ),
        staged,
    )


def plan(
    app: LedgerApp,
    number: str,
    *,
    actor: str,
    reason: str,
    milestones: Sequence[tuple[str, datetime]],
    target_at: datetime,
    attach: Sequence[Path] = (),
) -> ItemState:
    """时间节点和方案: each milestone becomes a tracked deadline, and so does the target."""
    now, staged = app.clock.now(), app.stage(attach)
    atts = evidence(staged)
    steps = [ev.PlanMilestone(title=t, due_at=d) for t, d in milestones]
    deadlines = [
        app.policy.milestone_deadline(i, now, m.due_at, app.calendar)
        for i, m in enumerate(steps, 1)
    ]
    if deadlines:
        target = app.policy.milestone_deadline(len(steps) + 1, now, target_at, app.calendar)
        deadlines.append(msgspec.structs.replace(target, clock=PLAN_TARGET))
    return app._act(
        number,
        actor,
        Action.PLAN,
        lambda it, u: it.plan(
            reason=reason,
            target_at=target_at,
            milestones=steps,
            deadlines=deadlines,
            now=now,
            actor=actor,
            unit=u,
            attachments=atts,
        ),
        staged,
    )


def request_extension(
    app: LedgerApp,
    number: str,
    *,
    actor: str,
    clock: str,
    until: datetime,
    reason: str,
    attach: Sequence[Path] = (),
) -> ItemState:
    """延期申请 for one clock (and the raising side's clock to decide it, if timed)."""
    now, staged = app.clock.now(), app.stage(attach)
    atts = evidence(staged)
    review = app.policy.review_deadline(review_extension_clock(clock), now, app.calendar)
    return app._act(
        number,
        actor,
        Action.EXTEND,
        lambda it, u: it.request_extension(
            clock=clock,
            requested_due=until,
            reason=reason,
            now=now,
            actor=actor,
            unit=u,
            review=review,
            attachments=atts,
        ),
        staged,
    )


__all__ = ["deploy", "feedback", "plan", "progress", "request_extension", "resolve"]
