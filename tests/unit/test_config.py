"""Node configuration files: the shipped Shanxi set loads, and each kind of mistake is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger13710.config.dump import dump_node_config
from ledger13710.config.node import (
    load_node_config,
    load_node_configs,
)
from ledger13710.domain.errors import ConfigError
from ledger13710.domain.types import Tier

NODES = Path(__file__).resolve().parents[2] / "nodes"

GOOD = """
[node]
id = "sx.xinzhou"
name = "忻州市人民政府"
tier = "city"
parent = "sx"
policy = "policy.toml"
calendar_overrides = "holidays.toml"

[store]
kind = "sqlite"

[[units]]
id = "sx.xinzhou"
name = "忻州市人民政府"
kind = "government"
head = "xz-head"
operators = ["xz-op1"]

[[units]]
id = "sx.xinzhou/transport"
name = "忻州市交通运输局"
kind = "department"
head = "xz-tr-head"

[[contacts]]
id = "xz-head"
name = "张三"
phone = "13900000001"
role = "head"
unit = "sx.xinzhou"

[[contacts]]
id = "xz-op1"
name = "李四"
phone = "13900000002"
role = "operator"
unit = "sx.xinzhou"

[[contacts]]
id = "xz-tr-head"
name = "王五"
phone = "13900000003"
role = "head"
unit = "sx.xinzhou/transport"
"""


def _write(tmp_path: Path, text: str, name: str = "sx.xinzhou.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_shipped_node_file_loads() -> None:
    """All of nodes/*.toml load, each node id equals its file stem, and parents exist."""
    configs = load_node_configs(NODES)
    expected = {
        "sx",
        "sx.taiyuan", "sx.datong", "sx.yangquan", "sx.changzhi", "sx.jincheng", "sx.shuozhou",
        "sx.jinzhong", "sx.yuncheng", "sx.xinzhou", "sx.linfen", "sx.lvliang",
        "sx.xinzhou.dingxiang",
        "sx.xinzhou.dingxiang.jinchang",
    }  # fmt: skip
    assert set(configs) == expected
    for node_id, cfg in configs.items():
        assert cfg.node.id == node_id
        assert cfg.directory().has_unit(node_id)


def test_province_file_lists_cities_departments_and_supervisors() -> None:
    """sx.toml holds the 11 city governments, ~25 departments and the 督查 supervisors."""
    directory = load_node_config(NODES / "sx.toml").directory()
    children = directory.children("sx")
    assert len([u for u in children if u.kind == "government"]) == 11
    assert len([u for u in children if u.kind == "department"]) >= 25
    assert directory.unit("sx/transport").name == "山西省交通运输厅"
    supervisors = directory.supervisors("sx/public-security")
    assert supervisors
    assert {c.unit for c in supervisors} == {"sx/general-office"}
    xinzhou = directory.reminder_contacts("sx.xinzhou")
    assert len(xinzhou) >= 2


def test_shared_contacts_agree_between_node_files() -> None:
    """A contact listed by two nodes (a city in sx.toml and in its own file) is the same."""
    seen: dict[str, object] = {}
    for cfg in load_node_configs(NODES).values():
        for contact in cfg.contacts:
            assert seen.setdefault(contact.id, contact) == contact


def test_good_file_resolves_paths_relative_to_itself(tmp_path: Path) -> None:
    """policy and calendar_overrides paths are relative to the TOML file; defaults apply."""
    cfg = load_node_config(_write(tmp_path, GOOD))
    assert cfg.node.tier == Tier.CITY
    assert cfg.policy_ref() == str((tmp_path / "policy.toml").resolve())
    assert cfg.calendar_overrides_path() == (tmp_path / "holidays.toml").resolve()
    assert cfg.node.nats_url == "nats://127.0.0.1:4222"
    assert cfg.store.kind == "sqlite"


def test_dump_round_trips(tmp_path: Path) -> None:
    """dump_node_config writes TOML that loads back to the same configuration."""
    cfg = load_node_config(_write(tmp_path, GOOD))
    again = load_node_config(_write(tmp_path, dump_node_config(cfg), "copy.toml"))
    assert (again.node, again.store, again.units, again.contacts) == (
        cfg.node,
        cfg.store,
        cfg.units,
        cfg.contacts,
    )


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ('name = "忻州市人民政府"\ntier', "tier", "$.node"),  # missing node.name
        ('phone = "13900000002"', 'phone = "0351-1234567"', "$.contacts[1].phone"),
        ('phone = "13900000002"', "phone = 13900000002", "$.contacts[1].phone"),
        ('head = "xz-tr-head"', 'head = "nobody"', "$.units[1].head"),
        ('operators = ["xz-op1"]', 'operators = ["xz-tr-head"]', "$.units[0].operators[0]"),
        ('id = "sx.xinzhou/transport"', 'id = "sx.xinzhou/Transport"', "$.units[1].id"),
        ('tier = "city"', 'tier = "county"', "$.node.tier"),
        ('tier = "city"', 'tier = "town"', "$.node.tier"),
        ('parent = "sx"', 'parent = "sx.taiyuan"', "$.node.parent"),
        ('parent = "sx"', 'parent = ""', "$.node.parent"),
        ('kind = "sqlite"', 'kind = "mysql"', "$.store.kind"),
        ('kind = "department"', 'kind = "government"', "$.units[1].kind"),
        ('unit = "sx.xinzhou/transport"', 'unit = "sx.xinzhou/water"', "$.contacts[2].unit"),
        ('role = "operator"', 'role = "clerk"', "$.contacts[1].role"),
        ('policy = "policy.toml"', 'polcy = "policy.toml"', "$.node"),
        ('id = "sx.xinzhou/transport"', 'id = "sx.taiyuan/transport"', "$.units[1].id"),
    ],
)
def test_bad_file_names_file_and_field(tmp_path: Path, old: str, new: str, field: str) -> None:
    """Each mistake gives a ConfigError naming the file and the field path of the mistake."""
    assert old in GOOD
    path = _write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ConfigError) as err:
        load_node_config(path)
    message = str(err.value)
    assert message.startswith(f"{path}: ")
    assert f"{field}:" in message or f"`{field}`" in message or f"{field}." in message


def test_node_must_be_listed_as_a_unit(tmp_path: Path) -> None:
    """node.id must also appear in [[units]] as a government."""
    text = (
        GOOD.replace('id = "sx.xinzhou"\nname', 'id = "sx.xinzhou.xinfu"\nname', 1)
        .replace('tier = "city"', 'tier = "county"')
        .replace('parent = "sx"', 'parent = "sx.xinzhou"')
    )
    with pytest.raises(ConfigError, match=r"\$\.node\.id: government 'sx.xinzhou.xinfu'"):
        load_node_config(_write(tmp_path, text, "sx.xinzhou.xinfu.toml"))


def test_unreadable_and_malformed_files_are_config_errors(tmp_path: Path) -> None:
    """A missing file or broken TOML is a ConfigError naming the file, not a traceback."""
    missing = tmp_path / "absent.toml"
    with pytest.raises(ConfigError, match="cannot read"):
        load_node_config(missing)
    broken = _write(tmp_path, "[node\nid = ", "broken.toml")
    with pytest.raises(ConfigError, match="not valid TOML") as err:
        load_node_config(broken)
    assert str(broken) in str(err.value)


def test_directory_loader_checks_stems_and_parents(tmp_path: Path) -> None:
    """load_node_configs wants node id == file stem, and every parent node present."""
    _write(tmp_path, GOOD, "xinzhou.toml")
    with pytest.raises(ConfigError, match="file name stem"):
        load_node_configs(tmp_path)
    (tmp_path / "xinzhou.toml").unlink()
    _write(tmp_path, GOOD)
    with pytest.raises(ConfigError, match=r"\$\.node\.parent: node 'sx' has no file"):
        load_node_configs(tmp_path)
