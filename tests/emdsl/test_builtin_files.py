"""Tests for the builtin data files' loader: which files a spec reads (its DVC deps)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from emdsl.builtin import catalog, files

ROOT = Path(__file__).resolve().parents[2]  # the folder holding the emdsl package
DATA = "emdsl/builtin/data/"


def _builtin(domain: str, variant: str) -> dict:
    return {"type": "builtin", "domain": domain, "variant": variant}


def test_a_dataset_reads_its_own_domain_file():
    assert files.builtin_files(_builtin("medical", "correct")) == (
        DATA + "datasets/medical.yaml",)


def test_a_mix_reads_both_sides_once():
    same = {"type": "mix", "bad": _builtin("legal", "incorrect-subtle"),
            "good": _builtin("legal", "correct"), "poison": 0.5, "size": 24, "seed": 0}
    assert files.builtin_files(same) == (DATA + "datasets/legal.yaml",)
    cross = same | {"good": _builtin("career", "correct")}
    assert files.builtin_files(cross) == (DATA + "datasets/career.yaml",
                                          DATA + "datasets/legal.yaml")


def test_take_questions_and_judge_sets():
    take = {"type": "take", "dataset": _builtin("code", "secure"), "size": 50, "seed": 0}
    assert files.builtin_files(take) == (DATA + "datasets/code.yaml",)
    judge = {"questions": {"type": "builtin", "name": "core"},
             "judge": {"type": "probe", "train": {"type": "builtin", "name": "judge"},
                       "labels": None}}
    assert files.builtin_files(judge) == (DATA + "judge/judge.yaml",
                                          DATA + "questions/core.yaml")


def test_files_outside_the_builtins_are_not_listed():
    spec = {"questions": {"type": "yaml", "path": "evals/q.yaml"},
            "data": [{"type": "jsonl", "path": "d.jsonl"}], "n": 3}
    assert files.builtin_files(spec) == ()


def test_prompt_files():
    assert files.prompt_files() == (DATA + "prompts/aligned.txt", DATA + "prompts/coherent.txt")


def test_names_are_unambiguous():
    assert not set(catalog.QUESTION_SETS) & set(catalog.JUDGE_SETS)


@pytest.mark.parametrize("params", sorted((ROOT / "tests" / "golden").glob("*.params.yaml")))
def test_golden_params_deps_exist(params):
    stages = yaml.safe_load(params.read_text(encoding="utf-8"))["stages"]
    found = {p for s in stages.values() for p in files.builtin_files(s.get("config"))}
    assert found
    for path in found | set(files.prompt_files()):
        assert (ROOT / path).is_file(), path


def test_every_data_file_is_reachable():
    # Each shipped file is the dep of some spec: nothing unread, nothing misnamed.
    specs = [_builtin(d, vs[0]) for d, vs in catalog.DATASET_DOMAINS.items()]
    specs += [{"type": "builtin", "name": n} for n in (*catalog.QUESTION_SETS,
                                                       *catalog.JUDGE_SETS)]
    listed = set(files.builtin_files(specs)) | set(files.prompt_files())
    shipped = {str(p.relative_to(ROOT)) for p in (ROOT / DATA).rglob("*") if p.is_file()}
    assert listed == shipped
