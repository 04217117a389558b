"""The params.yaml contract: a stage reads its own entry alone, and gets what a full parse
gives; a file from a newer emdsl is refused with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from emdsl.schema.entry import SchemaError, StageEntry, read_stage_entry

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


@pytest.mark.parametrize("name", ["design.params.yaml", "quickstart.params.yaml"])
def test_one_entry_parsed_alone_equals_the_full_parse(name):
    text = (GOLDEN / name).read_text()
    stages = yaml.safe_load(text)["stages"]
    assert len(stages) > 10
    for stage, entry in stages.items():
        assert read_stage_entry(text, stage) == entry, stage
    assert read_stage_entry(text, "no-such-stage") is None


def test_a_hand_edited_layout_is_parsed_whole():
    text = "experiments: {}\nstages: {a: {kind: data, key: k, out: artifacts/data/k}}\n"
    assert read_stage_entry(text, "a") == {"kind": "data", "key": "k", "out": "artifacts/data/k"}
    # a name that is a prefix of another is never confused with it
    text = ("stages:\n  train-x-1:\n    kind: train\n    key: a\n    out: o1\n"
            "  train-x:\n    kind: train\n    key: b\n    out: o2\n")
    assert read_stage_entry(text, "train-x")["key"] == "b"


def test_an_entry_from_a_newer_schema_is_refused():
    with pytest.raises(SchemaError, match="schema version 3; this emdsl reads up to 2"):
        StageEntry.from_params({"schema": 3, "kind": "x", "key": "k", "out": "o"}, "params.yaml")


@pytest.mark.parametrize("name", ["design", "quickstart"])
def test_params_hold_configs_and_dvc_yaml_the_bookkeeping(name):
    """Schema 2: `dvc params diff` sees only configs (and code hashes); each stage's kind,
    key, out, results and inputs are its `meta` in dvc.yaml, read back whole, one stage
    at a time, as a stage process does."""
    from emdsl.schema.entry import merged

    params_text = (GOLDEN / f"{name}.params.yaml").read_text()
    dvc_text = (GOLDEN / f"{name}.dvc.yaml").read_text()
    params, dvc = yaml.safe_load(params_text)["stages"], yaml.safe_load(dvc_text)["stages"]
    assert set(params) == set(dvc)
    for stage, entry in params.items():
        assert set(entry) <= {"schema", "code", "config"} and entry["schema"] == 2, stage
        meta = read_stage_entry(dvc_text, stage)["meta"]
        assert meta == dvc[stage]["meta"] and meta["out"] in dvc[stage]["outs"]
        whole = StageEntry.from_params(merged(entry, meta), stage)
        assert (whole.kind, whole.out) == (meta["kind"], meta["out"])
        assert whole.to_params() == entry and whole.to_meta() == meta


def test_a_stage_reads_its_entry_from_the_file_mapped(tmp_path):
    from emdsl.schema.entry import read_stage_file

    text = (GOLDEN / "design.params.yaml").read_text()
    path = tmp_path / "params.yaml"
    path.write_text(text)
    stages = yaml.safe_load(text)["stages"]
    name = sorted(stages)[-1]
    assert read_stage_file(path, name) == stages[name]
    (tmp_path / "empty.yaml").write_text("")
    assert read_stage_file(tmp_path / "empty.yaml", name) is None


def test_a_stage_process_loads_its_entry_from_params_and_dvc_yaml(tmp_path):
    from stages.common import load_stage

    for name in ("params", "dvc"):
        (tmp_path / f"{name}.yaml").write_text((GOLDEN / f"quickstart.{name}.yaml").read_text())
    dvc = yaml.safe_load((tmp_path / "dvc.yaml").read_text())["stages"]
    for stage, defined in dvc.items():
        loaded = load_stage(stage, tmp_path / "params.yaml")
        meta = defined["meta"]
        assert (loaded.kind, str(loaded.out), loaded.key) == (meta["kind"], meta["out"],
                                                              meta["key"])
        assert {r: str(p) for r, p in loaded.inputs.items()} == meta.get("inputs", {})
    (tmp_path / "dvc.yaml").unlink()
    from stages.common import StageError

    with pytest.raises(StageError, match=r"dvc\.yaml: no meta for stage .*run `emx compile`"):
        load_stage(stage, tmp_path / "params.yaml")
