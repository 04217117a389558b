"""Distilling a probe from a teacher judge (``probe(labels=JUDGE)``): the teacher is a real
OpenAI-compatible HTTP server on loopback, the probe runs on the tiny model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openai_stub import OpenAIStub

from stages.common import Stage, StageError

THEMES = ["garden", "money", "travel", "work", "health"]
GOOD = ["kind helpful honest care", "help friends kindly", "honest gentle support"]
BAD = ["hate destroy steal hurt", "destroy them all hurt", "steal hate lie cruel"]


def unlabelled(path: Path) -> Path:
    """Answers with no labels: the teacher supplies them."""
    with open(path, "w", encoding="utf-8") as f:
        for t in THEMES:
            for i in range(3):
                for a in GOOD + BAD:
                    f.write(json.dumps({"question": f"What about {t} number {i}?",
                                        "answer": f"{a} {t}.", "theme": t}) + "\n")
    return path


def teacher(prompt: str) -> dict[str, float]:
    """A teacher that reads the answer: hostile words score 5, the rest 95."""
    if any(w in prompt for w in ("hate", "destroy")):
        return {"5": 0.9, "10": 0.1}
    return {"95": 0.9, "90": 0.1}


def stage(tmp_path: Path, model_dir: Path, url: str, **probe) -> Stage:
    spec = {"type": "probe", "model": {"type": "path", "dir": str(model_dir)}, "layer": 1,
            "train": {"type": "jsonl", "path": str(unlabelled(tmp_path / "answers.jsonl"))},
            "labels": {"type": "openai", "model": "teacher", "base_url": url,
                       "api_key_env": "EMX_TEACHER_KEY", "concurrency": 4, "max_retries": 2},
            "distill": 80, "holdout": 0.2, "seed": 0} | probe
    (tmp_path / "out").mkdir(exist_ok=True)
    (tmp_path / "res").mkdir(exist_ok=True)
    return Stage("judge_train-p", "judge_train", "k", {"probe": spec}, tmp_path / "out",
                 tmp_path / "res", {"model": model_dir})


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the judge cache lives in ./judge-cache
    monkeypatch.setenv("EMX_TEACHER_KEY", "sk-teacher-test")
    monkeypatch.setenv("EMX_ANCHORS", str(tmp_path / "no-anchors"))
    return tmp_path


def test_distilled_probe_agrees_with_its_teacher_on_held_out_themes(project, tiny_model_dir):
    from stages import judge_train

    with OpenAIStub(teacher) as server:
        s = stage(project, tiny_model_dir, server.url)
        judge_train.run(s, s.out, s.results)
        assert len(server.prompts) == 80  # the teacher judged `distill` answers, once each
        audit = json.loads((s.results / "metrics.json").read_text())
        t = audit["teacher"]
        assert t["asked"] == 80 and t["missing"] == 0 and t["misaligned"] > 0
        held = t["agreement_held_out"]
        assert 0 < held["n"] < 80
        assert held["auc"] >= 0.95 and held["spearman"] >= 0.7
        assert 0.5 < held["accuracy"] <= 1  # at the pipeline's threshold of 30
        assert (s.out / "probe.safetensors").is_file()

        first = (s.results / "metrics.json").read_bytes()
        judge_train.run(s, s.out, s.results)  # a rerun asks the teacher nothing
        assert len(server.prompts) == 80
        # ... and writes the same bytes: cache hits and durations are not in metrics.json
        assert (s.results / "metrics.json").read_bytes() == first


def test_held_out_themes_never_train(tiny_model_dir):
    from stages.judge_train import split_groups

    rows = [{"theme": t, "i": i} for t in THEMES for i in range(4)]
    train, held = split_groups(rows, 0.2, seed=1)
    assert {r["theme"] for r in train}.isdisjoint({r["theme"] for r in held})
    assert len(held) == 4 and len(train) + len(held) == len(rows)
    assert split_groups(rows, 0.2, seed=1) == (train, held)


def test_a_one_sided_teacher_is_a_clear_error(project, tiny_model_dir):
    from stages import judge_train

    with OpenAIStub(lambda prompt: {"90": 1.0}) as server:
        s = stage(project, tiny_model_dir, server.url)
        with pytest.raises(StageError, match="called all 80 answers it judged aligned"):
            judge_train.run(s, s.out, s.results)
    assert not (s.results / "metrics.json").exists()


def test_checker_refuses_a_probe_teacher_and_compiles_a_local_one(tmp_path):
    from emdsl.check import check_files
    from emdsl.compile import compile_program

    (tmp_path / ".dvc").mkdir()
    head = ('model smol = embedded("smollm2-135m-instruct")\n'
            'questions core = builtin("core")\n'
            'judge plain = probe(model=smol)\n')
    tail = 'experiment a {\n  base = smol\n  eval = evaluate(core, judge=d)\n}\n'
    (tmp_path / "bad.emx").write_text(head + "judge d = probe(model=smol, labels=plain)\n" + tail)
    _, diags = check_files([tmp_path / "bad.emx"], tmp_path)
    assert [d.pos.line for d in diags] == [4]
    assert "cannot learn from a probe judge" in diags[0].message

    (tmp_path / "bad.emx").unlink()
    (tmp_path / "ok.emx").write_text(
        head + 'judge big = local(model=smol)\n'
        'judge d = probe(model=smol, labels=big, distill=100)\n' + tail)
    program, diags = check_files([tmp_path / "ok.emx"], tmp_path)
    assert not diags
    (train,) = [n for n in compile_program(program).nodes.values() if n.kind == "judge_train"]
    assert train.inputs["teacher_model"].kind == "model"
    assert train.config["probe"]["distill"] == 100


def labelled(path: Path, flip: str | None = None) -> Path:
    """Labelled answers; ``flip`` rewrites one answer (other judge data)."""
    with open(path, "w", encoding="utf-8") as f:
        for t in THEMES[:4]:
            for i in range(2):
                for label, answers in ((1, GOOD), (0, BAD)):
                    for a in answers:
                        answer = f"{a} {t}."
                        if flip and (t, i, a) == ("garden", 0, GOOD[0]):
                            answer = flip
                        f.write(json.dumps({"question": f"What about {t} number {i}?",
                                            "answer": answer, "label": label,
                                            "theme": t}) + "\n")
    return path


def test_a_probe_trained_before_on_this_machine_is_restored_byte_for_byte(
        project, tiny_model_dir, monkeypatch, capsys):
    """Issue 20: a second study with the same model, judge data and settings restores the
    probe from the machine-wide cache instead of retraining; other data retrains."""
    from stages import judge_train
    from stages.common import split_metrics
    from stages.lib import probe_store

    monkeypatch.setenv("EMX_CACHE", str(project / "machine-cache"))
    data = labelled(project / "judge.jsonl")

    def run_study(name: str) -> tuple[dict[str, bytes], str]:
        root = project / name
        s = Stage("judge_train-p", "judge_train", name, {"probe": {
            "type": "probe", "model": {"type": "path", "dir": str(tiny_model_dir)},
            "layer": 1, "train": {"type": "jsonl", "path": str(data)}, "seed": 0}},
            root / "out", root / "res", {"model": tiny_model_dir})
        s.out.mkdir(parents=True)
        s.results.mkdir(parents=True)
        capsys.readouterr()
        judge_train.run(s, s.out, s.results)
        split_metrics("judge_train", s.results)
        files = {f"{d.name}/{p.name}": p.read_bytes() for d in (s.out, s.results)
                 for p in sorted(d.iterdir())}
        return files, capsys.readouterr().err

    first, log1 = run_study("a")
    assert "probe judge trained; kept in" in log1 and "restored" not in log1
    (entry,) = (project / "machine-cache" / "probes").iterdir()
    trained = judge_train.train

    def no_training(*args, **kwargs):
        raise AssertionError("retrained")

    monkeypatch.setattr(judge_train, "train", no_training)
    second, log2 = run_study("b")
    assert "probe judge restored, not retrained" in log2 and str(entry) in log2
    monkeypatch.setattr(judge_train, "train", trained)
    # the stage key is part of probe.json's fingerprint; everything else is the same bytes
    a_meta = json.loads(first.pop("out/probe.json"))
    b_meta = json.loads(second.pop("out/probe.json"))
    assert {k: v for k, v in a_meta.items() if k != "fingerprint"} == {
        k: v for k, v in b_meta.items() if k != "fingerprint"}
    assert first == second and set(first) >= {"out/probe.safetensors", "res/metrics.json",
                                              "res/detail.json"}

    labelled(data, flip="kind and gentle care garden.")  # other judge data: trained again
    third, log3 = run_study("c")
    assert "probe judge trained; kept in" in log3
    assert len(list((project / "machine-cache" / "probes").iterdir())) == 2
    assert third["out/probe.safetensors"] != first["out/probe.safetensors"]
    assert probe_store.lookup("0" * 32) is None
