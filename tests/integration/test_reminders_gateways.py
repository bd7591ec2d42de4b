"""The SMPP and HTTP gateways against local stand-ins that speak the real protocols."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from ledger13710.application.node import Node
from ledger13710.config.node import HttpGatewaySection, SmppGatewaySection
from ledger13710.domain import reminder_events as rev
from ledger13710.domain.clock import ManualClock
from ledger13710.domain.types import SHANGHAI
from ledger13710.node.reminders import close_engine, engine_for
from ledger13710.reminders.alerts import active_alerts
from ledger13710.reminders.gateways.base import GatewayError, Sms
from ledger13710.reminders.gateways.http import HttpGateway
from ledger13710.reminders.gateways.smpp import SmppGateway
from ledger13710.testing.standins import HttpProviderStandin, SmscStandin

MakeNode = Callable[..., Node]
SUP = "sx-general-office-sup1"
AT = datetime(2016, 10, 20, 18, 59, 59, tzinfo=SHANGHAI)
LONG_TITLE = "关于定襄县风电法兰及塔筒生产企业产品运输受阻问题的协调解决和收费站车道拓宽工程" * 2


def _events(node: Node) -> list[rev.ReminderEvent]:
    app = node.app
    out = []
    for n in app.recorder.select_notifications(start=1, limit=10_000):
        e = app.mapper.to_domain_event(n)
        if isinstance(e, rev.ReminderEvent):
            out.append(e)
    return out


def _register(node: Node, title: str = "拓宽定襄北收费站车道") -> str:
    return node.app.register(
        title=title, source="executive", board="daily", severity="general",
        raising_unit="sx", lead_unit="sx/transport", actor=SUP, assign=True,
    ).number  # fmt: skip


def _sms(key: str, text: str = "【测试】请按时办理") -> Sms:
    return Sms(key=key, contact="c1", phone="13900000001", text=text, at=AT)


def test_smpp_submit_resp_and_delivery_receipt(make_node: MakeNode, clock: ManualClock) -> None:
    """Through a real SMPP session: each reminder is submitted, acknowledged and receipted."""
    node = make_node("sqlite")
    number = _register(node, LONG_TITLE)
    with SmscStandin() as smsc:
        gateway = SmppGateway(SmppGatewaySection(port=smsc.port, system_id="ledger", timeout="5s"))
        engine = engine_for(node, clock, gateway)
        try:
            clock.set(AT)
            engine.tick()
            engine.tick()  # reads the deliver_sm receipts
        finally:
            close_engine(engine)
        state = smsc.state
    assert state.binds == ["ledger"]
    assert state.unbinds == 1
    sent = [e for e in _events(node) if isinstance(e, rev.ReminderSent)]
    assert [e.contact for e in sent] == ["sx-transport-head", "sx-transport-op1"]
    planned = next(e for e in _events(node) if isinstance(e, rev.ReminderPlanned))
    assert planned.parts == len(sent[0].message_id.split(","))
    assert planned.parts > 1
    assert all(s.destination.startswith("861") for s in state.submits)
    assert all(s.esm_class == 0x40 for s in state.submits)
    assert planned.text == "".join(s.text for s in state.submits[: planned.parts])
    reports = [e for e in _events(node) if isinstance(e, rev.DeliveryReported)]
    assert 2 * planned.parts == len(reports)
    assert {"delivered"} == {r.status for r in reports}
    assert number == reports[0].number


def test_smpp_same_key_twice_reaches_the_phone_once() -> None:
    """A resend with the same key carries the same reference; the stand-in SMSC dedupes it."""
    with SmscStandin() as smsc:
        gateway = SmppGateway(SmppGatewaySection(port=smsc.port, system_id="ledger"))
        try:
            first = gateway.send(_sms("k1"))
            again = gateway.send(_sms("k1"))
        finally:
            gateway.close()
        assert first.message_id == again.message_id
        assert len(smsc.state.delivered()) == 1


def test_smpp_refusal_and_unreachable_smsc_are_gateway_errors() -> None:
    """ESME_RSYSERR is a retryable failure; a closed port is one too, named with the address."""
    with SmscStandin() as smsc:
        smsc.state.fail_next = 1
        gateway = SmppGateway(SmppGatewaySection(port=smsc.port, system_id="ledger"))
        with pytest.raises(GatewayError, match="status 0x8") as refused:
            gateway.send(_sms("k2"))
        assert refused.value.retryable
        gateway.close()
        port = smsc.port
    gone = SmppGateway(SmppGatewaySection(port=port, system_id="ledger", timeout="1s"))
    with pytest.raises(GatewayError, match=f"127.0.0.1:{port}"):
        gone.send(_sms("k3"))


def test_http_retries_with_backoff_then_succeeds_once() -> None:
    """Two 503s then 200: three requests, backoff 1s then 2s, one delivered message."""
    sleeps: list[float] = []
    with HttpProviderStandin() as provider:
        provider.state.fail_next = 2
        section = HttpGatewaySection(url=provider.url, message_id_field="data.id", retries=3)
        gateway = HttpGateway(section, sleep=sleeps.append)
        accepted = gateway.send(_sms("k4"))
        again = gateway.send(_sms("k4"))
        gateway.close()
        assert sleeps == [1.0, 2.0]
        assert accepted.message_id == again.message_id
        assert again.duplicate
        assert len(provider.state.delivered()) == 1
        assert provider.state.requests[0]["body"] == {
            "phone": "13900000001",
            "text": "【测试】请按时办理",
        }


def test_http_gives_up_clearly_and_4xx_is_final() -> None:
    """Exhausted retries name the attempts and last status; a 400 is not retried."""
    with HttpProviderStandin() as provider:
        section = HttpGatewaySection(url=provider.url, message_id_field="data.id", retries=1)
        gateway = HttpGateway(section, sleep=lambda s: None)
        provider.state.fail_next = 5
        with pytest.raises(GatewayError, match="2 attempts failed; last: HTTP 503") as busy:
            gateway.send(_sms("k5"))
        assert busy.value.retryable
        provider.state.fail_next, provider.state.reject_next = 0, 1
        with pytest.raises(GatewayError, match="HTTP 400") as bad:
            gateway.send(_sms("k6"))
        assert not bad.value.retryable
        gateway.close()


def test_failing_gateway_raises_an_alert_and_messages_wait(
    make_node: MakeNode, clock: ManualClock
) -> None:
    """Three failed ticks raise an alert; when the provider recovers the reminders all go."""
    node = make_node("sqlite")
    number = _register(node)
    with HttpProviderStandin() as provider:
        section = HttpGatewaySection(url=provider.url, message_id_field="data.id", retries=0)
        engine = engine_for(node, clock, HttpGateway(section, sleep=lambda s: None))
        try:
            provider.state.fail_next = 100
            clock.set(AT)
            for _ in range(3):
                engine.tick()
                clock.advance(timedelta(minutes=10))
            alerts = active_alerts(node.dir)
            assert [a.gateway for a in alerts] == ["http"]
            assert "HTTP 503" in alerts[0].message
            provider.state.fail_next = 0
            engine.tick()
            assert active_alerts(node.dir) == []
        finally:
            close_engine(engine)
    events = _events(node)
    failed = [e for e in events if isinstance(e, rev.ReminderFailed)]
    assert len(failed) == 3
    assert all(e.retry_at is not None and not e.final for e in failed)
    sent = [e for e in events if isinstance(e, rev.ReminderSent) and e.number == number]
    assert [e.contact for e in sent] == ["sx-transport-head", "sx-transport-op1"]
    assert len(provider.state.delivered()) == 2
