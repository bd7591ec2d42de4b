"""The import contract in pyproject.toml holds, and it breaks on an import that points up."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(project: Path) -> subprocess.CompletedProcess[str]:
    """Run ``lint-imports`` on the package under ``project/src`` with its pyproject.toml."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=project,
        env={"PYTHONPATH": str(project / "src"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_the_layers_contract_holds_for_the_code() -> None:
    """Every import in src/ledger13710 points down the layers (what scripts/test.sh checks)."""
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "planted", "reported"),
    [
        (
            "domain/errors.py",
            "ledger13710.cli.main",
            "ledger13710.domain.errors -> ledger13710.cli.main",
        ),
        ("log/chain.py", "sqlite3", "ledger13710.log.chain -> sqlite3"),
        (
            "projections/importer.py",
            "ledger13710.application.ledger",
            "ledger13710.projections.importer -> ledger13710.application.ledger",
        ),
    ],
)
def test_a_wrong_way_import_breaks_the_contract(
    tmp_path: Path, module: str, planted: str, reported: str
) -> None:
    """A copy of the code with one import planted against a contract (the domain importing the
    CLI; the pure log importing SQLite; a view importing the whole application) fails
    ``lint-imports``, which names that import."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("*.egg-info"))
    target = tmp_path / "src/ledger13710" / module
    target.write_text(target.read_text() + f"\nimport {planted}  # planted\n")

    result = lint_imports(tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert reported in result.stdout
