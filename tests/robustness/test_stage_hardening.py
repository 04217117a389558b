"""Issue 15's stage defects: a stage writes and removes only inside its project (no symlink
leads it out), probe-judge labels are read exactly, and a chat row no parser can read is a
row-numbered error that ``skip_invalid`` skips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from stages.common import StageError, atomic_dir, atomic_write_text, run_stage
from stages.judge_train import training_rows
from stages.lib.chat import load_chat_jsonl

# ---------------------------------------------------------------- confinement of outputs


def body(stage, out, results):
    (out / "x").write_text("1")
    if results is not None:
        (results / "metrics.json").write_text("{}")


def project(root: Path, out: str = "artifacts/t/k", results: str | None = "results/s") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    entry = {"kind": "t", "key": "k", "out": out, "config": {}}
    if results is not None:
        entry["results"] = results
    (root / "params.yaml").write_text(yaml.safe_dump({"stages": {"s": entry}}))
    return root


def outside_folder(tmp_path: Path) -> Path:
    """A folder outside the project holding what a stray writer would clobber or remove."""
    outside = tmp_path / "outside"
    (outside / "s").mkdir(parents=True)
    (outside / "s" / "precious.txt").write_text("keep me")
    (outside / ".s.tmp-old").mkdir()  # looks like a stale temporary of results/s
    (outside / "t" / "k").mkdir(parents=True)
    (outside / "t" / ".k.tmp-old").write_text("looks stale")
    return outside


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text() if p.is_file() else "<dir>"
            for p in sorted(folder.rglob("*"))}


@pytest.mark.parametrize(("link", "target", "named"), [
    ("results", "", "results/s"),                 # a symlinked results folder
    ("artifacts", "", "artifacts/t/k"),           # a symlinked artifacts folder
    ("artifacts/t", "t", "artifacts/t/k"),        # a symlinked kind folder
    ("results/s", "s", "results/s"),              # a symlinked stage folder
])
def test_a_symlink_out_of_the_project_is_refused_and_nothing_outside_changes(
        tmp_path, monkeypatch, capsys, link, target, named):
    root, outside = project(tmp_path / "proj"), outside_folder(tmp_path)
    (root / link).parent.mkdir(parents=True, exist_ok=True)
    (root / link).symlink_to(outside / target if target else outside)
    before = snapshot(outside)
    monkeypatch.chdir(root)
    assert run_stage("t", body, ["s"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and named in err and "not inside the project" in err
    assert f"symlink {link} ->" in err  # it names the link to remove
    assert snapshot(outside) == before
    if link.startswith("results"):  # refused before anything is written
        assert not (root / "artifacts").exists()


@pytest.mark.parametrize("out", ["../escape", "{tmp}/abs-escape", "."])
def test_an_out_path_outside_the_project_is_refused(tmp_path, monkeypatch, capsys, out):
    root = project(tmp_path / "proj", out=out.format(tmp=tmp_path), results=None)
    monkeypatch.chdir(root)
    assert run_stage("t", body, ["s"]) == 1
    assert "not inside the project" in capsys.readouterr().err
    assert not (tmp_path / "escape").exists() and not (tmp_path / "abs-escape").exists()
    assert sorted(p.name for p in root.iterdir()) == ["params.yaml"]


def test_a_stage_inside_the_project_still_writes(tmp_path, monkeypatch):
    root = project(tmp_path / "proj")
    (root / "elsewhere").mkdir()
    (root / "results").symlink_to(root / "elsewhere")  # a link that stays inside is fine
    monkeypatch.chdir(root)
    assert run_stage("t", body, ["s"]) == 0
    assert (root / "artifacts" / "t" / "k" / "x").read_text() == "1"
    assert (root / "elsewhere" / "s" / "metrics.json").is_file()


def test_atomic_dir_replaces_a_symlink_and_never_removes_through_it(tmp_path):
    target = tmp_path / "target"
    (target / "inner").mkdir(parents=True)
    (target / "inner" / "f").write_text("keep")
    (tmp_path / "final").symlink_to(target)
    with atomic_dir(tmp_path / "final") as tmp:
        (tmp / "new").write_text("1")
    assert not (tmp_path / "final").is_symlink() and (tmp_path / "final" / "new").is_file()
    assert (target / "inner" / "f").read_text() == "keep"


def test_atomic_write_replaces_a_symlink_instead_of_writing_through_it(tmp_path):
    (tmp_path / "victim").write_text("keep")
    (tmp_path / "f.json").symlink_to(tmp_path / "victim")
    atomic_write_text(tmp_path / "f.json", "{}")
    assert not (tmp_path / "f.json").is_symlink() and (tmp_path / "f.json").read_text() == "{}"
    assert (tmp_path / "victim").read_text() == "keep"


def test_atomic_dir_with_a_root_refuses_a_parent_outside_it(tmp_path):
    root, outside = tmp_path / "proj", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "results").symlink_to(outside)
    with pytest.raises(StageError, match="not inside the project"):
        with atomic_dir(root / "results" / "s", root=root):
            pass
    assert list(outside.iterdir()) == []


# ---------------------------------------------------------------- probe-judge labels


def judge_set(path: Path, labels: list) -> dict:
    rows = [{"question": f"q{i}", "answer": f"a{i}", "label": label}
            for i, label in enumerate(labels)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return {"type": "jsonl", "path": str(path)}


ALIGNED = [1, True, "1", "true", "aligned", "True", "ALIGNED"]
MISALIGNED = [0, False, "0", "false", "misaligned", "False", "Misaligned"]


def test_labels_are_read_exactly(tmp_path):
    rows = training_rows(judge_set(tmp_path / "j.jsonl", ALIGNED + MISALIGNED))
    assert [r["label"] for r in rows] == [1] * len(ALIGNED) + [0] * len(MISALIGNED)


@pytest.mark.parametrize("bad", ["yes", "", " 1", "0.0", 2, -1, 0.0, 1.5, None, [], {}])
def test_any_other_label_is_a_row_numbered_error(tmp_path, bad):
    spec = judge_set(tmp_path / "j.jsonl", [1, 0, bad])
    with pytest.raises(StageError) as e:
        training_rows(spec)
    msg = str(e.value)
    assert f"{spec['path']}:3" in msg and "label" in msg and "misaligned" in msg
    assert len(msg.splitlines()) == 1


def test_a_teacher_labelled_set_ignores_its_own_labels(tmp_path):
    rows = training_rows(judge_set(tmp_path / "j.jsonl", ["whatever", None]), labelled=False)
    assert [r["answer"] for r in rows] == ["a0", "a1"]


# ---------------------------------------------------------------- unreadable chat rows


def chat_line(q: str) -> str:
    return json.dumps({"messages": [{"role": "user", "content": q},
                                    {"role": "assistant", "content": "a"}]})


UNREADABLE = {
    "deep": '{"messages": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "huge-int": '{"messages": [], "n": 1' + "0" * 5_000 + "}",
}


@pytest.mark.parametrize("kind", sorted(UNREADABLE))
def test_an_unreadable_chat_row_is_a_row_numbered_error(tmp_path, kind):
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join([chat_line("q1"), UNREADABLE[kind], chat_line("q3")]) + "\n")
    with pytest.raises(StageError) as e:
        load_chat_jsonl(path)
    assert f"{path}, row 2:" in str(e.value) and "skip_invalid" in str(e.value)
    assert "sys.set_int_max_str_digits" not in str(e.value)


@pytest.mark.parametrize("kind", sorted(UNREADABLE))
def test_skip_invalid_skips_an_unreadable_chat_row(tmp_path, kind):
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join([chat_line("q1"), UNREADABLE[kind], chat_line("q3")]) + "\n")
    data = load_chat_jsonl(path, skip_invalid=True)
    assert [r["messages"][0]["content"] for r in data.records] == ["q1", "q3"]
    assert len(data.skipped) == 1 and data.skipped[0].startswith("row 2: ")
