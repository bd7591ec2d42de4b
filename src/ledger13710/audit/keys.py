"""The node's Ed25519 signing key, and key rotation as a signed event in the node's log.

The private key (PKCS#8 PEM, mode 0600) lives where ``[node] key_file`` in the node TOML says —
the production setting: a path outside the data directory, so that whoever holds a copy of the
data (a backup, a replica of the disk) cannot sign a rewritten log — else in
``<node dir>/keys/node.ed25519``. A key file that group or others may read is refused. Its
public key (hex, 32 bytes) is ``node.public_key`` in the node directory's ``node.toml``.

A rotation is a :class:`KeyRotated` event (kind ``audit``) that names the old and the new public
key, signed by the old key (authority) and by the new one (possession). Whoever trusts any key
of the history can follow it to the current one.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger13710.domain.errors import ConfigError, InputError
from ledger13710.domain.key_events import KeyRotated, rotation_message

KEY_FILE = Path("keys") / "node.ed25519"


def public_hex(key: Ed25519PrivateKey) -> str:
    """The raw public key, hex."""
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return raw.hex()


def sign(key: Ed25519PrivateKey, message: bytes) -> str:
    """An Ed25519 signature, hex."""
    return key.sign(message).hex()


def signature_ok(public_key: str, message: bytes, signature: str) -> bool:
    """Whether ``signature`` (hex) is ``public_key``'s (hex) over ``message``."""
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key)).verify(
            bytes.fromhex(signature), message
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def rotation_ok(r: KeyRotated) -> bool:
    """Both signatures of a rotation verify."""
    message = rotation_message(r.node, r.originator_version, r.old_public_key, r.new_public_key)
    return signature_ok(r.old_public_key, message, r.signature) and signature_ok(
        r.new_public_key, message, r.proof
    )


def key_path(node_dir: Path, key_file: Path | None = None) -> Path:
    """The node's signing key file: ``key_file`` (``[node] key_file``) if set, else
    ``keys/node.ed25519`` in the node directory."""
    return key_file or node_dir / KEY_FILE


def _pending(path: Path) -> Path:
    return path.with_name(f"{path.name}.next")


def _write_key(path: Path, key: Ed25519PrivateKey) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)


def create_node_key(path: Path) -> str:
    """Create the signing key file ``path`` (:func:`key_path`); return its public key (hex)."""
    if path.exists():
        raise InputError(f"{path} exists already; rotate it with: ledger13710 audit rotate-key")
    key = Ed25519PrivateKey.generate()
    _write_key(path, key)
    return public_hex(key)


def _read_key(path: Path) -> Ed25519PrivateKey:
    try:
        mode = path.stat().st_mode
        if mode & 0o077:
            raise ConfigError(
                f"{path}: the node's signing key may be read by group or others (mode "
                f"{mode & 0o777:o}); restrict it with: chmod 600 {path}"
            )
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as e:
        raise ConfigError(f"{path}: cannot read the node's signing key: {e}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path}: not an Ed25519 key")
    return key


def signing_key(path: Path, public_key: str) -> Ed25519PrivateKey:
    """The node's private key in ``path`` whose public key is ``public_key`` (finishing a
    rotation that stopped between writing the event and replacing the key file)."""
    if not path.exists():
        raise ConfigError(f"{path}: the node has no signing key (made by ledger13710 node init)")
    key = _read_key(path)
    if public_hex(key) == public_key:
        return key
    pending = _pending(path)
    if pending.exists() and public_hex(nxt := _read_key(pending)) == public_key:
        pending.replace(path)
        return nxt
    raise ConfigError(
        f"{path}: its public key is not the node's current key {public_key[:16]}…; "
        "restore the key file, or audit the node's key history with: ledger13710 audit verify"
    )


def new_pending_key(path: Path) -> Ed25519PrivateKey:
    """A fresh key beside the key file ``path`` (``<name>.next``; it becomes current once its
    rotation is recorded)."""
    path = _pending(path)
    path.unlink(missing_ok=True)
    key = Ed25519PrivateKey.generate()
    _write_key(path, key)
    return key


def promote_pending_key(path: Path) -> None:
    """Make the pending key the node's key in ``path`` (the old private key is destroyed)."""
    _pending(path).replace(path)
