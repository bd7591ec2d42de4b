"""Policy adapter: loads 13710 policies from the package's data or from an operator's file.

Built-in policies live in ``ledger13710/data/policy-<name>.toml`` and are named
``builtin:<name>`` (``builtin:13710-v1``, ``builtin:13710-v1-working``).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ledger13710.domain.errors import ConfigError
from ledger13710.domain.policy import Policy, parse_policy

BUILTIN_PREFIX = "builtin:"
DEFAULT_POLICY = "builtin:13710-v1"

_PACKAGE = "ledger13710"
_FILE_PREFIX = "policy-"
_FILE_SUFFIX = ".toml"


def builtin_policy_names() -> list[str]:
    """The built-in policies, as ``builtin:<name>`` names, sorted."""
    data = resources.files(_PACKAGE).joinpath("data")
    names = [
        entry.name[len(_FILE_PREFIX) : -len(_FILE_SUFFIX)]
        for entry in data.iterdir()
        if entry.name.startswith(_FILE_PREFIX) and entry.name.endswith(_FILE_SUFFIX)
    ]
    return sorted(BUILTIN_PREFIX + name for name in names)


def load_builtin_policy(name: str) -> Policy:
    """Load a built-in policy by name, ``builtin:13710-v1`` or just ``13710-v1``."""
    short = name.removeprefix(BUILTIN_PREFIX)
    available = builtin_policy_names()
    if BUILTIN_PREFIX + short not in available:
        raise ConfigError(f"unknown built-in policy {name!r}; available: {', '.join(available)}")
    filename = f"{_FILE_PREFIX}{short}{_FILE_SUFFIX}"
    text = resources.files(_PACKAGE).joinpath("data").joinpath(filename).read_text(encoding="utf-8")
    return parse_policy(text, f"{BUILTIN_PREFIX}{short} ({filename})")


def load_policy_file(path: Path) -> Policy:
    """Load and validate a policy TOML file; errors name the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the policy file: {exc}") from exc
    return parse_policy(text, str(path))


def load_policy(spec: str) -> Policy:
    """``builtin:<name>`` loads a built-in policy; anything else is a path to a TOML file."""
    if spec.startswith(BUILTIN_PREFIX):
        return load_builtin_policy(spec)
    return load_policy_file(Path(spec))
