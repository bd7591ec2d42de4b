"""Wiring a node's reminder engine from its directory and ``[reminders]`` config."""

from __future__ import annotations

from pathlib import Path

from ledger13710.application.node import Node
from ledger13710.config.directory_store import DirectoryStore
from ledger13710.config.node import RemindersSection
from ledger13710.domain.clock import Clock
from ledger13710.domain.directory import Directory
from ledger13710.domain.errors import ConfigError
from ledger13710.domain.policy import parse_duration
from ledger13710.reminders.alerts import REMINDERS_DB
from ledger13710.reminders.engine import ReminderEngine
from ledger13710.reminders.gateways.base import Gateway
from ledger13710.reminders.gateways.outbox import OutboxGateway
from ledger13710.reminders.index import ReminderIndex
from ledger13710.reminders.settings import EngineSettings


class FreshDirectory:
    """Reads the directory file anew at each call, from whichever thread calls."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def directory(self) -> Directory:
        """The directory as stored now (so a corrected phone is used at once)."""
        with DirectoryStore(self.path) as store:
            return store.directory()


def settings_of(section: RemindersSection, source: str = "node.toml") -> EngineSettings:
    """Engine settings from ``[reminders]``; bad values are a ConfigError naming the field."""
    try:
        late, retry = parse_duration(section.late_after), parse_duration(section.retry_after)
    except ValueError as e:
        raise ConfigError(f"{source}: [reminders]: {e}") from None
    for name, value in (("alert_after", section.alert_after), ("max_parts", section.max_parts),
                        ("batch", section.batch)):  # fmt: skip
        if value < 1:
            raise ConfigError(f"{source}: [reminders].{name}: must be at least 1, got {value}")
    return EngineSettings(
        late_after_s=late,
        retry_after_s=max(retry, 1),
        alert_after=section.alert_after,
        max_parts=section.max_parts,
        batch=section.batch,
    )


def make_gateway(section: RemindersSection, node_dir: Path) -> Gateway:
    """The gateway ``[reminders].gateway`` names."""
    if section.gateway == "http":
        # each gateway's client library (httpx, smpplib) is imported only by a node that uses it
        from ledger13710.reminders.gateways.http import HttpGateway  # noqa: PLC0415

        return HttpGateway(section.http)
    if section.gateway == "smpp":
        from ledger13710.reminders.gateways.smpp import SmppGateway  # noqa: PLC0415

        return SmppGateway(section.smpp)
    return OutboxGateway(node_dir / REMINDERS_DB)


def engine_for(
    node: Node, clock: Clock | None = None, gateway: Gateway | None = None
) -> ReminderEngine:
    """The reminder engine of ``node`` (its index lives in ``reminders.sqlite``)."""
    section = node.config.reminders
    settings = settings_of(section, str(node.dir / "node.toml"))
    index = ReminderIndex(node.dir / REMINDERS_DB, node.app.policy)
    return ReminderEngine(
        node.app,
        FreshDirectory(node.directory_store.path),
        gateway or make_gateway(section, node.dir),
        clock or node.app.clock,
        index=index,
        settings=settings,
    )


def close_engine(engine: ReminderEngine) -> None:
    """Close the engine's gateway and index."""
    engine.gateway.close()
    engine.index.close()
