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
    with pytest.raises(SchemaError, match="schema version 2; this emdsl reads up to 1"):
        StageEntry.from_params({"schema": 2, "kind": "x", "key": "k", "out": "o"}, "params.yaml")


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
