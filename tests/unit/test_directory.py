"""The organisation directory: unit ids, the government tree, and who to contact."""

from __future__ import annotations

import pytest

from ledger13710.domain.directory import (
    Contact,
    Directory,
    Unit,
    government_of,
    host_node,
    is_within,
    parent_government,
    tier_of,
    validate_unit_id,
)
from ledger13710.domain.errors import InputError, NotFoundError
from ledger13710.domain.types import Tier


def _directory() -> Directory:
    units = [
        Unit(
            id="sx",
            name="山西省人民政府",
            kind="government",
            tier=Tier.PROVINCE,
            head="sx-head",
            supervisors=("sx-go-sup1",),
        ),
        Unit(
            id="sx/general-office",
            name="山西省人民政府办公厅",
            kind="department",
            tier=Tier.PROVINCE,
            head="sx-go-head",
        ),
        Unit(
            id="sx/transport",
            name="山西省交通运输厅",
            kind="department",
            tier=Tier.PROVINCE,
            head="sx-tr-head",
            operators=("sx-tr-op1", "sx-tr-op2"),
        ),
        Unit(
            id="sx.xinzhou",
            name="忻州市人民政府",
            kind="government",
            tier=Tier.CITY,
            head="sx-xz-head",
            operators=("sx-xz-op1",),
        ),
        Unit(
            id="sx.xinzhou.dingxiang",
            name="定襄县人民政府",
            kind="government",
            tier=Tier.COUNTY,
            head="unknown-contact",
        ),
    ]
    contacts = [
        Contact(id="sx-head", name="甲", phone="13900000001", role="head", unit="sx"),
        Contact(
            id="sx-go-sup1",
            name="乙",
            phone="13900000002",
            role="supervisor",
            unit="sx/general-office",
        ),
        Contact(id="sx-tr-head", name="丙", phone="13900000003", role="head", unit="sx/transport"),
        Contact(
            id="sx-tr-op1", name="丁", phone="13900000004", role="operator", unit="sx/transport"
        ),
        Contact(
            id="sx-tr-op2", name="戊", phone="13900000005", role="operator", unit="sx/transport"
        ),
    ]
    return Directory(units, contacts)


@pytest.mark.parametrize(
    "uid",
    [
        "sx",
        "sx.xinzhou",
        "sx.xinzhou.dingxiang",
        "sx.xinzhou.dingxiang.jinchang",
        "sx/public-security",
        "sx.c01.k001.t0001/office",
    ],
)
def test_valid_unit_ids_pass_unchanged(uid: str) -> None:
    """Governments of every tier and their departments are accepted as given."""
    assert uid == validate_unit_id(uid)


@pytest.mark.parametrize(
    "uid",
    [
        "",
        "SX",
        "sx.",
        ".sx",
        "sx..a",
        "a.b.c.d.e",
        "sx/",
        "sx/a/b",
        "sx/-a",
        "sx/a-",
        "sx/a--b",
        "省",
        "sx /a",
    ],
)
def test_bad_unit_ids_name_the_id_and_the_shape(uid: str) -> None:
    """A malformed id raises InputError quoting the id and describing the expected shape."""
    with pytest.raises(InputError) as err:
        validate_unit_id(uid)
    assert repr(uid) in str(err.value)
    assert "sx.xinzhou.dingxiang" in str(err.value)


def test_tree_functions_follow_the_dotted_path() -> None:
    """government_of, parent_government and tier_of read the tree from the id alone."""
    assert government_of("sx.xinzhou/transport") == "sx.xinzhou"
    assert government_of("sx.xinzhou") == "sx.xinzhou"
    assert parent_government("sx.xinzhou/transport") == "sx.xinzhou"
    assert parent_government("sx.xinzhou") == "sx"
    assert parent_government("sx") is None
    assert tier_of("sx/transport") == Tier.PROVINCE
    assert tier_of("sx.xinzhou.dingxiang.jinchang") == Tier.TOWNSHIP
    assert tier_of("sx.xinzhou/public-security") == Tier.CITY


def test_is_within_is_a_subtree_test_not_a_prefix_test() -> None:
    """Departments and sub-governments are within their ancestors; look-alike ids are not."""
    assert is_within("sx.xinzhou/transport", "sx.xinzhou")
    assert is_within("sx.xinzhou/transport", "sx")
    assert is_within("sx.xinzhou", "sx.xinzhou")
    assert not is_within("sx.xinzhouabc", "sx.xinzhou")
    assert not is_within("sx.xinzhou", "sx.xinzhou/transport")
    assert not is_within("sx", "sx.xinzhou")
    assert not is_within("sx/transport-x", "sx/transport")


def test_host_node_is_the_nearest_government_running_a_node() -> None:
    """A unit is hosted by itself or the nearest ancestor government that runs a node."""
    nodes = {"sx", "sx.xinzhou", "sx.xinzhou.dingxiang"}
    assert host_node("sx.xinzhou/transport", nodes) == "sx.xinzhou"
    assert host_node("sx.xinzhou.dingxiang.hebian", nodes) == "sx.xinzhou.dingxiang"
    assert host_node("sx.taiyuan.xiaodian", nodes) == "sx"
    with pytest.raises(NotFoundError, match="no node hosts"):
        host_node("sx.taiyuan", {"sx.xinzhou"})


def test_unknown_unit_lists_known_units_nearby() -> None:
    """Looking up a missing unit names it and lists units under its nearest known government."""
    directory = _directory()
    with pytest.raises(NotFoundError) as err:
        directory.unit("sx.xinzhou/transport")
    message = str(err.value)
    assert "unknown unit 'sx.xinzhou/transport'" in message
    assert "known units under sx.xinzhou: sx.xinzhou, sx.xinzhou.dingxiang" in message
    with pytest.raises(NotFoundError, match="not a unit id"):
        directory.unit("Bad Id")


def test_children_are_direct_sub_governments_and_departments() -> None:
    """children() gives one level of the tree: departments and sub-governments, not deeper."""
    directory = _directory()
    expected = ["sx.xinzhou", "sx/general-office", "sx/transport"]
    assert expected == [u.id for u in directory.children("sx")]
    assert [u.id for u in directory.children("sx.xinzhou")] == ["sx.xinzhou.dingxiang"]
    assert directory.has_unit("sx/transport")
    assert not directory.has_unit("sx/water")
    assert len(directory.units()) == 5


def test_reminder_contacts_are_head_then_operators() -> None:
    """Reminders go to the head and each operator; unknown contact ids are skipped."""
    directory = _directory()
    expected = ["sx-tr-head", "sx-tr-op1", "sx-tr-op2"]
    assert expected == [c.id for c in directory.reminder_contacts("sx/transport")]
    assert directory.reminder_contacts("sx.xinzhou.dingxiang") == []
    assert directory.contact("sx-tr-head").name == "丙"
    with pytest.raises(NotFoundError, match="unknown contact 'nobody'"):
        directory.contact("nobody")


def test_supervisors_fall_back_to_the_government_above() -> None:
    """A unit without its own supervisors is supervised by its nearest government's."""
    directory = _directory()
    assert [c.id for c in directory.supervisors("sx/transport")] == ["sx-go-sup1"]
    assert [c.id for c in directory.supervisors("sx.xinzhou.dingxiang")] == ["sx-go-sup1"]
    assert [c.id for c in directory.supervisors("sx")] == ["sx-go-sup1"]
