"""An HTML audit report per item or per unit: the log's verification and each item's history.

Self-contained HTML with print CSS (A4, no backgrounds needed): print it to PDF from any
browser. A PDF writer would need a new dependency, so there is none here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from html import escape

from ledger13710.application.mapper import decode_event
from ledger13710.audit.attachments import EvidenceReport, Found
from ledger13710.audit.store import AuditStore
from ledger13710.audit.verify import Report
from ledger13710.domain.events import event_fields
from ledger13710.domain.item import item_id
from ledger13710.domain.state import ItemState

_CSS = """
body { font-family: "Noto Sans CJK SC", "PingFang SC", sans-serif; margin: 2em; color: #111; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; width: 100%; font-size: 0.85em; }
th, td { border: 1px solid #999; padding: 0.25em 0.4em; text-align: left; vertical-align: top; }
code { font-size: 0.85em; word-break: break-all; }
.ok { color: #075; font-weight: bold; } .bad { color: #b00; font-weight: bold; }
@media print {
  @page { size: A4; margin: 15mm; }
  body { margin: 0; } h2 { break-after: avoid; } tr { break-inside: avoid; }
}
"""


def _verdict(report: Report) -> list[str]:
    if report.ok:
        lines = [
            f'<p class="ok">验证通过 verified: {report.records} records, '
            f"{report.checkpoints} signed checkpoints, {report.rotations} key rotations.</p>"
        ]
    else:
        first = report.first
        lines = [
            f'<p class="bad">验证未通过 NOT verified: first bad record: {escape(str(first))}</p>'
        ]
        lines += ["<ul>", *(f"<li>{escape(str(i))}</li>" for i in report.issues[:50]), "</ul>"]
    lines += [f"<p>Not checked: {escape(u)}</p>" for u in report.unchecked]
    return lines


def _item_section(store: AuditStore, item: ItemState, covered_upto: int) -> list[str]:
    lines = [
        f"<h2>{escape(item.number)} {escape(item.title)}</h2>",
        f"<p>state {escape(item.state)} · lead {escape(item.lead_unit)} · "
        f"registered {item.registered_at.isoformat()}</p>",
        "<table><tr><th>seq</th><th>event</th><th>time</th><th>actor</th><th>unit</th>"
        "<th>record hash</th><th>signed</th></tr>",
    ]
    for seq, topic, _, _, state in store.originator_rows(item_id(item.number)):
        e = decode_event(topic, state)
        fields = event_fields(e)
        link = next(store.chain_rows(after=seq - 1), None)
        rh = (
            link.record_hash.hex()[:16] if link is not None and link.seq == seq else "(not chained)"
        )
        lines.append(
            f"<tr><td>{seq}</td><td>{escape(topic.split('.')[2])}</td>"
            f"<td>{e.timestamp.isoformat()}</td><td>{escape(str(fields.get('actor', '')))}</td>"
            f"<td>{escape(str(fields.get('unit', '')))}</td><td><code>{rh}</code></td>"
            f"<td>{'yes' if seq <= covered_upto else 'not yet'}</td></tr>"
        )
    lines.append("</table>")
    return lines


def _evidence_section(evidence: EvidenceReport, number: str) -> list[str]:
    """The item's attachments: which record named each, its hash, and what the audit found."""
    rows = [e for e in evidence.evidence if e.item == number]
    if not rows:
        return ["<p>附件 evidence: none</p>"]
    lines = [
        "<table><tr><th>seq</th><th>附件 evidence</th><th>type</th><th>bytes</th>"
        "<th>SHA-256</th><th>found</th></tr>"
    ]
    for e in rows:
        found = f"erased by decision {e.decision}" if e.found is Found.ERASED else str(e.found)
        cls = "ok" if e.found in (Found.OK, Found.ERASED) else "bad"
        lines.append(
            f"<tr><td>{e.seq}</td><td>{escape(e.name)}</td><td>{escape(e.media_type)}</td>"
            f"<td>{e.size}</td><td><code>{e.sha256}</code></td>"
            f'<td class="{cls}">{escape(found)}</td></tr>'
        )
    lines.append("</table>")
    return lines


def render_report(
    title: str,
    report: Report,
    store: AuditStore,
    items: Iterable[ItemState],
    now: datetime,
    evidence: EvidenceReport,
) -> str:
    """The whole HTML document."""
    checkpoints = store.checkpoints()
    covered = checkpoints[-1].last_seq if checkpoints else 0
    body = [f"<h1>{escape(title)}</h1>", f"<p>node {escape(store.origin)} · {now.isoformat()}</p>"]
    body += _verdict(report)
    if checkpoints:
        cp = checkpoints[-1]
        body.append(
            f"<p>Latest checkpoint: {cp.tree_size} records up to {cp.last_seq}, root "
            f"<code>{cp.root_hash}</code>, signed {escape(cp.timestamp)} by "
            f"<code>{cp.public_key}</code></p>"
        )
    for item in items:
        body += _item_section(store, item, covered)
        body += _evidence_section(evidence, item.number)
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )
