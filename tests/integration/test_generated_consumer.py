"""A consumer generated from ``schemas/`` alone, as docs/integrators.md shows, decodes every
golden sample (datamodel-code-generator to pydantic models; nothing of ledger13710 imported)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from types import ModuleType

import pydantic
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas"
GOLDEN = ROOT / "tests" / "golden"
PACKAGE = "l13710_models"


def codegen_command(out: Path) -> list[str]:
    """The command of docs/integrators.md (run from the repository), writing to ``out``."""
    doc = (ROOT / "docs" / "integrators.md").read_text("utf-8")
    start = doc.index("datamodel-codegen --input")
    options = doc[start : doc.index("\n```", start)].replace("\\\n", " ").split()[1:]
    return [sys.executable, "-m", "datamodel_code_generator",
            *(str(out) if o == f"{PACKAGE}/" else o for o in options)]  # fmt: skip


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The generated package, imported."""
    work = tmp_path_factory.mktemp("consumer")
    done = subprocess.run(
        codegen_command(work / PACKAGE),
        capture_output=True, text=True, check=False, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    sys.path.insert(0, str(work))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(work))
        for name in [m for m in sys.modules if m.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def event_model(models: ModuleType, topic: str) -> type[pydantic.BaseModel]:
    """The generated model of a topic's event (named as the schema's root, e.g. Registered)."""
    module = importlib.import_module(f"{models.__name__}.{topic.replace('.', '_')}")
    schema = json.loads((SCHEMAS / f"{topic}.json").read_text("utf-8"))
    found: type[pydantic.BaseModel] = getattr(module, schema["$ref"].rsplit("/", 1)[-1])
    assert issubclass(found, pydantic.BaseModel)
    return found


def test_every_golden_sample_decodes_with_the_generated_models(models: ModuleType) -> None:
    """Each published topic's golden sample decodes into its generated, typed model."""
    topics = [p.stem for p in SCHEMAS.glob("ledger13710.*.json")]
    assert len(topics) >= 24
    for topic in topics:
        sample = (GOLDEN / f"{topic}.json").read_bytes()
        event = event_model(models, topic).model_validate_json(sample)
        assert str(vars(event)["originator_id"]) == json.loads(sample)["originator_id"]


def test_known_values_are_typed_and_unknown_ones_are_kept(models: ModuleType) -> None:
    """A known enum value decodes to its member; the golden sample's placeholder (a value
    these models do not know) decodes to UNKNOWN with the raw value kept; a wrong type fails."""
    model = event_model(models, "ledger13710.item.Registered.v1")
    golden = json.loads((GOLDEN / "ledger13710.item.Registered.v1.json").read_bytes())
    known = vars(model.model_validate({**golden, "source": "key_work"}))["source"]
    assert isinstance(known, Enum)
    assert (known.name, known.value) == ("key_work", "key_work")
    unknown = vars(model.model_validate(golden))["source"]
    assert (unknown.name, unknown.value) == ("UNKNOWN", "source")
    with pytest.raises(pydantic.ValidationError):
        model.model_validate({**golden, "timestamp": "2016-10-20T09:00:00"})  # no UTC offset
