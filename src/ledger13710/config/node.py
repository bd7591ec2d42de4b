"""Node configuration: one TOML file per node, loaded into typed structs and cross-checked.

Every problem becomes a :class:`ConfigError` naming the file and the field path
(``$.units[3].head``), so an operator can fix the file without reading code.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Literal

import msgspec

from ledger13710.domain.directory import (
    Contact,
    ContactRole,
    Directory,
    Unit,
    UnitKind,
    is_government,
    is_within,
    tier_of,
    validate_unit_id,
)
from ledger13710.domain.errors import ConfigError, InputError
from ledger13710.domain.types import Tier

#: Mainland mobile numbers: 11 digits starting 13-19.
PHONE_RE = re.compile(r"1[3-9]\d{9}")
#: An Ed25519 public key as written in node files (lower-case hex, 32 bytes).
_HEX_KEY = re.compile(r"[0-9a-f]{64}")
BUILTIN_PREFIX = "builtin:"
#: How many cross-reference problems one ConfigError lists.
_PROBLEMS_SHOWN = 5


def validate_phone(phone: str) -> str:
    """Return ``phone`` if it is an 11-digit mainland mobile number, else raise InputError."""
    if PHONE_RE.fullmatch(phone) is None:
        raise InputError(
            f"bad phone number {phone!r}: expected an 11-digit mainland mobile number "
            "such as 13900000001"
        )
    return phone


class NodeSection(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[node]``: which government this node runs and how it talks to the others."""

    id: str
    name: str
    tier: Tier
    parent: str = ""
    nats_url: str = "nats://127.0.0.1:4222"
    policy: str = "builtin:13710-v1"
    calendar_overrides: str = ""
    public_key: str = ""
    #: the signing key's file (relative to this file); production: outside the data directory
    key_file: str = ""


class StoreSection(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[store]``: where the node's event store lives."""

    kind: Literal["sqlite", "postgres"] = "sqlite"
    dsn: str = ""
    schema: str = ""


class UnitEntry(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[[units]]``: one government or department; its tier follows from its id."""

    id: str
    name: str
    kind: UnitKind
    head: str = ""
    operators: list[str] = msgspec.field(default_factory=list)
    supervisors: list[str] = msgspec.field(default_factory=list)
    tier: Tier | None = None  # optional; when given it must match the id's depth

    def to_unit(self) -> Unit:
        """The domain value of this entry."""
        return Unit(
            id=self.id,
            name=self.name,
            kind=self.kind,
            tier=tier_of(self.id),
            head=self.head,
            operators=tuple(self.operators),
            supervisors=tuple(self.supervisors),
        )


class ContactEntry(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[[contacts]]``: a head, operator or supervisor of one unit."""

    id: str
    name: str
    phone: str
    role: ContactRole
    unit: str

    def to_contact(self) -> Contact:
        """The domain value of this entry."""
        return Contact(id=self.id, name=self.name, phone=self.phone, role=self.role, unit=self.unit)


class HttpGatewaySection(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[reminders.http]``: a provider's SMS API as a templated JSON request.

    String values of ``body`` and ``headers`` may use ``${phone}``, ``${text}``, ``${key}``
    (the idempotency key) and ``${contact}``; ``message_id_field`` names the response's
    JSON field holding the provider's message id.
    """

    url: str = ""
    method: str = "POST"
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    body: dict[str, str] = msgspec.field(
        default_factory=lambda: {"phone": "${phone}", "text": "${text}"}
    )
    idempotency_header: str = "Idempotency-Key"
    message_id_field: str = "message_id"
    timeout: str = "10s"
    retries: int = 3
    backoff: str = "1s"


class SmppGatewaySection(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[reminders.smpp]``: an SMSC reached over SMPP 3.4 (bind_transceiver)."""

    host: str = "127.0.0.1"
    port: int = 2775
    system_id: str = ""
    password: str = ""
    system_type: str = ""
    source_addr: str = "10613710"
    timeout: str = "10s"


class RemindersSection(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[reminders]`` (optional): how this node sends its SMS reminders."""

    gateway: Literal["outbox", "http", "smpp"] = "outbox"
    late_after: str = "5m"  # sent later than this after the planned instant: marked late
    retry_after: str = "1m"  # first wait after a failed send; doubles up to 1h
    alert_after: int = 3  # consecutive gateway failures that raise an alert
    max_parts: int = 3  # longest SMS, in concatenated parts; longer text is shortened
    batch: int = 500  # reminders handled per tick at most
    http: HttpGatewaySection = msgspec.field(default_factory=HttpGatewaySection)
    smpp: SmppGatewaySection = msgspec.field(default_factory=SmppGatewaySection)


class NodeConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A whole node file. ``source`` is the file it was read from (not part of the TOML)."""

    node: NodeSection
    store: StoreSection = msgspec.field(default_factory=StoreSection)
    reminders: RemindersSection = msgspec.field(default_factory=RemindersSection)
    units: list[UnitEntry] = msgspec.field(default_factory=list)
    contacts: list[ContactEntry] = msgspec.field(default_factory=list)
    source: str = ""

    @property
    def id(self) -> str:
        """The node id: the government it runs (also the file stem)."""
        return self.node.id

    def directory(self) -> Directory:
        """The organisation directory this file describes."""
        return Directory([u.to_unit() for u in self.units], [c.to_contact() for c in self.contacts])

    def policy_ref(self) -> str:
        """``builtin:<name>``, or the policy file's absolute path (relative to this file)."""
        if self.node.policy.startswith(BUILTIN_PREFIX):
            return self.node.policy
        return str(self._relative(self.node.policy))

    def calendar_overrides_path(self) -> Path | None:
        """The calendar overrides file (relative to this file), or None when not set."""
        return (
            self._relative(self.node.calendar_overrides) if self.node.calendar_overrides else None
        )

    def key_file_path(self) -> Path | None:
        """The signing key file set by ``[node] key_file`` (relative to this file), or None
        (then it is ``keys/node.ed25519`` in the node directory)."""
        return self._relative(self.node.key_file) if self.node.key_file else None

    def _relative(self, name: str) -> Path:
        base = Path(self.source).parent if self.source else Path()
        return (base / name).resolve()


def load_node_config(path: str | Path) -> NodeConfig:
    """Read and check one node TOML file; any problem is a ConfigError naming file and field."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"{path}: cannot read the file: {err.strerror or err}") from err
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from err
    if "source" in raw:
        raise ConfigError(f"{path}: $.source: unknown field (set by the loader, not the file)")
    try:
        cfg = msgspec.convert(raw, NodeConfig, strict=True)
    except msgspec.ValidationError as err:
        raise ConfigError(f"{path}: {_path_first(str(err))}") from err
    problems = check_node_config(cfg)
    if problems:
        shown = "; ".join(problems[:_PROBLEMS_SHOWN])
        more = (
            f" (and {len(problems) - _PROBLEMS_SHOWN} more)"
            if len(problems) > _PROBLEMS_SHOWN
            else ""
        )
        raise ConfigError(f"{path}: {shown}{more}")
    return msgspec.structs.replace(cfg, source=str(path))


def load_node_configs(directory: str | Path) -> dict[str, NodeConfig]:
    """Load every ``*.toml`` in ``directory``, keyed by node id (which must equal the stem)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ConfigError(f"{directory}: not a directory of node files")
    configs: dict[str, NodeConfig] = {}
    for file in sorted(directory.glob("*.toml")):
        cfg = load_node_config(file)
        if cfg.node.id != file.stem:
            raise ConfigError(
                f"{file}: $.node.id: {cfg.node.id!r} must equal the file name stem {file.stem!r}"
            )
        configs[cfg.node.id] = cfg
    for cfg in configs.values():
        if cfg.node.parent and cfg.node.parent not in configs:
            raise ConfigError(
                f"{cfg.source}: $.node.parent: node {cfg.node.parent!r} has no file in {directory}"
            )
    return configs


def check_node_config(cfg: NodeConfig) -> list[str]:
    """Every cross-reference problem of a decoded file, as ``$.path: message`` strings."""
    problems: list[str] = []
    node = cfg.node
    problems += _check_node_section(node)
    unit_ids = _check_units(cfg, problems)
    contacts: dict[str, ContactEntry] = {}
    for i, contact in enumerate(cfg.contacts):
        where = f"$.contacts[{i}]"
        if contact.id in contacts:
            problems.append(f"{where}.id: contact {contact.id!r} is listed twice")
        contacts[contact.id] = contact
        if not contact.id or not contact.name:
            problems.append(f"{where}: id and name must not be empty")
        if PHONE_RE.fullmatch(contact.phone) is None:
            problems.append(
                f"{where}.phone: {contact.phone!r} is not an 11-digit mainland mobile number"
            )
        if contact.unit not in unit_ids:
            problems.append(f"{where}.unit: {contact.unit!r} is not one of the units listed")
    for i, unit in enumerate(cfg.units):
        problems += _check_unit_contacts(f"$.units[{i}]", unit, contacts)
    if _valid(node.id) and node.id not in unit_ids:
        problems.append(f"$.node.id: government {node.id!r} must also be listed in [[units]]")
    return problems


def _check_units(cfg: NodeConfig, problems: list[str]) -> dict[str, int]:
    """Check each unit entry on its own; return the valid unit ids and their positions."""
    node_id = cfg.node.id
    unit_ids: dict[str, int] = {}
    for i, unit in enumerate(cfg.units):
        where = f"$.units[{i}]"
        if _bad_id(unit.id, f"{where}.id", problems):
            continue
        if unit.id in unit_ids:
            problems.append(f"{where}.id: unit {unit.id!r} is listed twice")
        unit_ids[unit.id] = i
        want_kind = "government" if is_government(unit.id) else "department"
        if unit.kind != want_kind:
            problems.append(f"{where}.kind: {unit.id!r} is a {want_kind}, not a {unit.kind}")
        if unit.tier is not None and unit.tier != tier_of(unit.id):
            problems.append(
                f"{where}.tier: {unit.id!r} is at tier {tier_of(unit.id)}, not {unit.tier}"
            )
        if _valid(node_id) and not is_within(unit.id, node_id):
            problems.append(f"{where}.id: {unit.id!r} is outside node {node_id!r}'s subtree")
    return unit_ids


def _check_node_section(node: NodeSection) -> list[str]:
    problems: list[str] = []
    if _bad_id(node.id, "$.node.id", problems):
        return problems
    if not is_government(node.id):
        problems.append(f"$.node.id: {node.id!r} is a department; a node runs a government")
        return problems
    if node.tier != tier_of(node.id):
        problems.append(f"$.node.tier: {node.id!r} is at tier {tier_of(node.id)}, not {node.tier}")
    if node.tier == Tier.PROVINCE and node.parent:
        problems.append('$.node.parent: a province node has no parent; use ""')
    elif node.tier != Tier.PROVINCE and not node.parent:
        problems.append(f"$.node.parent: node {node.id!r} needs the id of the node above it")
    elif node.parent and (
        not _valid(node.parent)
        or not is_government(node.parent)
        or node.parent == node.id
        or not is_within(node.id, node.parent)
    ):
        problems.append(f"$.node.parent: {node.parent!r} is not a government above {node.id!r}")
    if node.public_key and not _HEX_KEY.fullmatch(node.public_key):
        problems.append(
            "$.node.public_key: must be the node's Ed25519 public key as 64 hex digits "
            '(from "ledger13710 node show"), or "" before the node is initialised'
        )
    return problems


def _check_unit_contacts(
    where: str, unit: UnitEntry, contacts: dict[str, ContactEntry]
) -> list[str]:
    problems: list[str] = []
    refs: list[tuple[str, str, ContactRole]] = []
    if unit.head:
        refs.append((f"{where}.head", unit.head, "head"))
    refs += [(f"{where}.operators[{j}]", c, "operator") for j, c in enumerate(unit.operators)]
    for path, cid, role in refs:
        contact = contacts.get(cid)
        if contact is None:
            problems.append(f"{path}: contact {cid!r} is not listed in [[contacts]]")
        elif contact.unit != unit.id:
            problems.append(f"{path}: contact {cid!r} belongs to {contact.unit!r}, not {unit.id!r}")
        elif contact.role != role:
            problems.append(f"{path}: contact {cid!r} has role {contact.role!r}, not {role!r}")
    for j, cid in enumerate(unit.supervisors):
        contact = contacts.get(cid)
        if contact is None:
            problems.append(f"{where}.supervisors[{j}]: contact {cid!r} is not listed")
        elif contact.role != "supervisor":
            problems.append(
                f"{where}.supervisors[{j}]: contact {cid!r} has role {contact.role!r}, "
                "not 'supervisor'"
            )
    return problems


def _valid(uid: str) -> bool:
    try:
        validate_unit_id(uid)
    except InputError:
        return False
    return True


def _bad_id(uid: str, path: str, problems: list[str]) -> bool:
    try:
        validate_unit_id(uid)
    except InputError as err:
        problems.append(f"{path}: {err}")
        return True
    return False


def _path_first(message: str) -> str:
    """Turn msgspec's ``Expected X - at `$.a.b``` into ``$.a.b: Expected X``."""
    text, sep, path = message.rpartition(" - at ")
    if sep and path.startswith("`") and path.endswith("`"):
        return f"{path.strip('`')}: {text}"
    return message
