"""The synthetic province generator: right counts, deterministic, and every file loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger13710.config.node import check_node_config, load_node_configs
from ledger13710.domain.errors import InputError
from ledger13710.testing.synthetic import generate, plan, summarise


def test_small_province_counts_and_loads(tmp_path: Path) -> None:
    """A small generation writes one file per government, and every file loads back."""
    summary = generate(tmp_path, cities=3, counties=7, townships=20, departments=30, seed=5)
    configs = load_node_configs(tmp_path)
    assert (summary.nodes, summary.cities, summary.counties, summary.townships) == (31, 3, 7, 20)
    assert summary.provincial_departments == 30
    assert len(configs) == 31
    assert "sx.c01" in configs
    assert any(node_id.endswith(".t0020") for node_id in configs)
    province = configs["sx"].directory()
    assert len([u for u in province.children("sx") if u.kind == "department"]) == 30


def test_same_seed_same_output_different_seed_different_output(tmp_path: Path) -> None:
    """Generation is a pure function of its arguments, seed included."""
    first = generate(tmp_path / "a", cities=2, counties=4, townships=9, departments=5, seed=1)
    second = generate(tmp_path / "b", cities=2, counties=4, townships=9, departments=5, seed=1)
    assert first == second
    for path in sorted((tmp_path / "a").iterdir()):
        assert (tmp_path / "b" / path.name).read_bytes() == path.read_bytes()
    other = plan(cities=2, counties=4, townships=9, departments=5, seed=2)
    assert other != plan(cities=2, counties=4, townships=9, departments=5, seed=1)


def test_too_few_children_is_an_input_error() -> None:
    """Each city needs a county and each county a township."""
    with pytest.raises(InputError, match="counties"):
        plan(cities=5, counties=3, townships=10)


def test_full_size_plan_counts_without_writing() -> None:
    """The default plan is Shanxi's scale: 11 cities, 117 counties, 1,200 townships."""
    configs = plan()
    summary = summarise(configs)
    expected = (1329, 11, 117, 1200, 106)
    actual = (
        summary.nodes,
        summary.cities,
        summary.counties,
        summary.townships,
        summary.provincial_departments,
    )
    assert actual == expected
    assert check_node_config(configs[0]) == []


@pytest.mark.slow
def test_full_size_generation_loads(tmp_path: Path) -> None:
    """Every file of the full-size province loads and checks."""
    summary = generate(tmp_path)
    assert len(load_node_configs(tmp_path)) == summary.nodes
