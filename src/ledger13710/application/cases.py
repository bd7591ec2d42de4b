"""Commands on accountability cases: propose (from the triggers' proposals), step, list."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from ledger13710.domain.cases import Case, CaseProposed, Proposal, project_case
from ledger13710.domain.errors import ConflictError, NotFoundError

if TYPE_CHECKING:
    from ledger13710.application.ledger import LedgerApp


def load_case(app: LedgerApp, case: UUID) -> Case:
    """The case ``case`` of this node's log."""
    try:
        agg: Case = app.repository.get(case, projector_func=project_case)
    except AggregateNotFoundError:
        raise NotFoundError(f"no case {case} on node {app.node_id}") from None
    return agg


def _save(app: LedgerApp, case: Case) -> None:
    try:
        app.save(case)
    except IntegrityError:
        raise ConflictError(f"case {case.id} was changed by someone else; retry") from None


def propose_cases(
    app: LedgerApp, found: Sequence[Proposal], *, rules_version: str, actor: str
) -> list[Case]:
    """Open a case for each proposal not opened before; returns the new cases."""
    contact = app.directory.contact(actor)
    opened: list[Case] = []
    for p in found:
        if app.recorder.select_events(p.id, limit=1):
            continue  # the same facts opened this case before
        case = Case(p.id)
        case.propose(
            trigger=p.trigger, subject=p.subject, circumstances=p.circumstances,
            evidence=p.evidence, rules_version=rules_version, actor=contact,
            now=app.clock.now(),
        )  # fmt: skip
        _save(app, case)
        opened.append(case)
    return opened


def step_case(
    app: LedgerApp, case: UUID, action: str, *, text: str, actor: str, form: str = "",
    forms: Sequence[str] = (),
) -> Case:  # fmt: skip
    """investigate / decide / close / dismiss a case."""
    agg = load_case(app, case)
    agg.step(action, text=text, actor=app.directory.contact(actor), now=app.clock.now(),
             form=form, forms=forms)  # fmt: skip
    _save(app, agg)
    return agg


def case_ids(app: LedgerApp) -> Iterator[UUID]:
    """Ids of every case proposed in this node's log, oldest first."""
    start = 1
    while True:
        batch = app.recorder.select_notifications(
            start=start, limit=500, topics=[CaseProposed.TOPIC]
        )
        for n in batch:
            yield UUID(str(n.originator_id))
        if len(batch) < 500:
            return
        start = batch[-1].id + 1


def case_events(app: LedgerApp, case: UUID) -> list[object]:
    """Every recorded event of ``case``, oldest first."""
    return list(app.events.get(case))


def case_rows(app: LedgerApp) -> list[dict[str, str]]:
    """Every case of this node's log, where it stands: id, state, subject, trigger, form and
    the circumstances it was proposed for."""
    rows: list[dict[str, str]] = []
    for cid in case_ids(app):
        case = load_case(app, cid)
        first = case_events(app, cid)[0]
        circumstances = first.circumstances if isinstance(first, CaseProposed) else ""
        rows.append({"id": str(cid), "state": case.state.value, "subject": case.subject,
                     "trigger": case.trigger, "form": case.form,
                     "circumstances": circumstances})  # fmt: skip
    return rows
