"""The node-local directory database: import, correct, erase, and survive a reopen."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger13710.config.directory_store import ERASED_NAME, DirectoryStore
from ledger13710.config.node import load_node_config
from ledger13710.domain.directory import Contact, Unit
from ledger13710.domain.errors import InputError, NotFoundError
from ledger13710.domain.types import Tier

NODES = Path(__file__).resolve().parents[2] / "nodes"
HEAD = "sx-xinzhou-dingxiang-transport-head"


def test_import_is_idempotent_and_matches_the_file(tmp_path: Path) -> None:
    """Importing a node file twice gives exactly the file's directory."""
    cfg = load_node_config(NODES / "sx.xinzhou.dingxiang.toml")
    with DirectoryStore(tmp_path / "directory.sqlite") as store:
        store.import_config(cfg)
        store.import_config(cfg)
        stored = store.directory()
    expected = cfg.directory()
    assert stored.units() == expected.units()
    assert stored.contacts() == expected.contacts()


def test_set_phone_and_erase_persist_and_survive_reimport(tmp_path: Path) -> None:
    """Corrections and erasures are on disk after reopening, and a re-import keeps them."""
    cfg = load_node_config(NODES / "sx.xinzhou.dingxiang.toml")
    path = tmp_path / "directory.sqlite"
    operator = cfg.directory().reminder_contacts("sx.xinzhou.dingxiang/transport")[1]
    with DirectoryStore(path) as store:
        store.import_config(cfg)
        store.set_phone(HEAD, "13811112222")
        store.erase_contact(operator.id)
    with DirectoryStore(path) as store:
        store.import_config(cfg)
        directory = store.directory()
    assert directory.contact(HEAD).phone == "13811112222"
    erased = directory.contact(operator.id)
    assert (erased.name, erased.phone, erased.unit) == (ERASED_NAME, "", operator.unit)
    ids = [c.id for c in directory.reminder_contacts("sx.xinzhou.dingxiang/transport")]
    assert operator.id in ids


def test_bad_phone_and_unknown_contact_are_refused(tmp_path: Path) -> None:
    """set_phone validates the number; unknown contact ids are NotFoundError."""
    with DirectoryStore(tmp_path / "directory.sqlite") as store:
        store.import_config(load_node_config(NODES / "sx.xinzhou.dingxiang.toml"))
        with pytest.raises(InputError, match="11-digit"):
            store.set_phone(HEAD, "12345")
        with pytest.raises(NotFoundError, match="unknown contact 'nobody'"):
            store.erase_contact("nobody")
        assert store.directory().contact(HEAD).phone.startswith("139")


def test_add_units_from_federation(tmp_path: Path) -> None:
    """Units learnt from other nodes can be added, with or without their contacts."""
    with DirectoryStore(tmp_path / "directory.sqlite") as store:
        store.add_units(
            [
                Unit(id="sx.taiyuan", name="太原市人民政府", kind="government", tier=Tier.CITY,
                     head="ty-head", operators=("ty-op1",)),
                Unit(id="sx.taiyuan/transport", name="太原市交通运输局", kind="department",
                     tier=Tier.CITY),
            ],
            [Contact(id="ty-head", name="赵六", phone="13900000009", role="head",
                     unit="sx.taiyuan")],
        )  # fmt: skip
        directory = store.directory()
    assert [u.id for u in directory.children("sx.taiyuan")] == ["sx.taiyuan/transport"]
    assert [c.id for c in directory.reminder_contacts("sx.taiyuan")] == ["ty-head"]
