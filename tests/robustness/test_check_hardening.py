"""Issue 15, the checker/compiler/CLI part: each defect a red-team pass found, as a test.

Output integrity (planted temp-file symlinks, newlines in file names), tracebacks instead of
located diagnostics, names YAML cannot key on, exact poison rounding, and the problems that
used to surface only at compile or run time but are knowable when checking.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path

import pytest
import yaml

from emdsl import cli
from emdsl.check import check_files
from emdsl.cli.common import parse_overrides
from emdsl.compile import CompileError
from emdsl.emit import emit, write_if_changed
from emdsl.mixing import bad_count

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = (REPO / "experiments" / "quickstart.emx").read_text()


@pytest.fixture
def root(tmp_path, monkeypatch) -> Path:
    """An empty project (its own root), the working directory."""
    (tmp_path / ".dvc").mkdir()
    (tmp_path / "experiments").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def errors(root: Path, text: str, name: str = "t.emx") -> list[str]:
    """The rendered diagnostics of checking ``text`` as experiments/NAME."""
    path = root / "experiments" / name
    path.write_text(text, encoding="utf-8")
    program, diags = check_files([path], root)
    assert (program is None) == bool(diags)
    return [d.render() for d in diags]


def one_error(root: Path, text: str, *needles: str) -> str:
    found = errors(root, text)
    assert len(found) == 1, found
    for needle in needles:
        assert needle in found[0], found[0]
    return found[0]


# --------------------------------------------------------------------------- output integrity


def test_write_if_changed_never_follows_a_planted_temp_symlink(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("precious\n")
    project = tmp_path / "p"
    project.mkdir()
    (project / ".dvc.yaml.tmp").symlink_to(outside)
    assert write_if_changed(project / "dvc.yaml", "stages: {}\n")
    assert outside.read_text() == "precious\n"
    assert not (project / "dvc.yaml").is_symlink()
    assert (project / "dvc.yaml").read_text() == "stages: {}\n"
    assert sorted(p.name for p in project.iterdir()) == [".dvc.yaml.tmp", "dvc.yaml"]


def test_write_if_changed_replaces_a_symlinked_target_not_what_it_points_at(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("precious\n")
    project = tmp_path / "p"
    project.mkdir()
    (project / "params.yaml").symlink_to(outside)
    assert write_if_changed(project / "params.yaml", "a: 1\n")
    assert outside.read_text() == "precious\n"
    assert not (project / "params.yaml").is_symlink()
    assert (project / "params.yaml").read_text() == "a: 1\n"
    assert not write_if_changed(project / "params.yaml", "a: 1\n")


def test_fmt_never_follows_a_planted_temp_symlink(root, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("precious\n")
    path = root / "experiments" / "q.emx"
    path.write_text(QUICKSTART.replace("  base  = smol", "  base = smol"))
    (path.parent / ".q.emx.tmp").symlink_to(outside)
    assert cli.main(["fmt", str(path)]) == 0
    assert outside.read_text() == "precious\n"
    assert not path.is_symlink() and "base  = smol" in path.read_text()


def test_a_newline_in_a_file_name_cannot_inject_yaml(root):
    name = "a\nvars:\n- x.emx"
    path = root / "experiments" / name
    path.write_text(QUICKSTART)
    program, diags = check_files([path], root)
    assert not diags
    from emdsl.compile import compile_program

    dvc_text, params_text = emit(compile_program(program), root, [f"experiments/{name}"])
    for text in (dvc_text, params_text):
        header = text.split("\n")[:2]
        assert all(line.startswith("# ") for line in header), header
        assert "vars" not in yaml.safe_load(text)
    assert "a\\nvars:\\n- x.emx" in dvc_text.split("\n")[0]


# --------------------------------------------------------------------------- located errors


def test_deeply_nested_lists_are_a_located_error(root):
    text = QUICKSTART.replace("[0.0, 0.5, 1.0]", "[" * 600 + "0.5" + "]" * 600)
    one_error(root, text, "t.emx:19:", "nested too deeply")


def test_a_huge_integer_in_a_float_field_is_a_located_error(root):
    text = QUICKSTART.replace("lr=1e-3", "lr=" + "9" * 400)
    one_error(root, text, "t.emx:17:", "too large")
    (root / "experiments" / "t.emx").write_text(QUICKSTART)
    program, diags = check_files([root / "experiments" / "t.emx"], root, {
        root / "experiments" / "t.emx": parse_overrides(["train.lr=" + "9" * 400])})
    assert program is None and len(diags) == 1 and "too large" in diags[0].message, diags


def test_a_sweep_value_its_call_rejects_is_a_located_error(root):
    text = QUICKSTART.replace("sweep data.poison = [0.0, 0.5, 1.0]",
                              'sweep base.name = ["smollm2-135m-instruct", "nope"]')
    one_error(root, text, "t.emx:19:", "unknown embedded model 'nope'")


def test_nul_in_a_path_is_a_located_error(root):
    text = QUICKSTART.replace('builtin("medical", variant="correct")', 'jsonl("a\x00b.jsonl")')
    one_error(root, text, "t.emx:8:", "control character")


def test_a_path_component_over_255_bytes_is_a_located_error(root):
    text = QUICKSTART.replace('builtin("medical", variant="correct")',
                              f'jsonl("data/{"é" * 200}.jsonl")')
    one_error(root, text, "t.emx:8:", "longer than 255 bytes")


@pytest.mark.parametrize("statement", ['import "{}"', 'allow outside "{}"'])
@pytest.mark.parametrize("bad", ["a\x00b.emx", "é" * 200 + ".emx", "a/" * 3000 + "b.emx"])
def test_unusable_import_and_allow_paths_are_located_errors(root, statement, bad):
    one_error(root, statement.format(bad) + "\n" + QUICKSTART, "t.emx:1:", "path")


@pytest.mark.parametrize("command", ["check", "fmt", "compile"])
def test_a_path_argument_the_os_refuses_is_one_line(root, capsys, command):
    assert cli.main([command, "a" * 300]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "File name too long" in err, err


def test_a_long_hf_name_is_a_located_error_not_a_compile_crash(root):
    text = QUICKSTART.replace('embedded("smollm2-135m-instruct")', f'hf("{"x" * 300}")')
    found = errors(root, text)
    assert found and all("longer than 255 bytes" in e for e in found), found


def test_an_over_long_name_is_a_located_error(root):
    text = QUICKSTART.replace("experiment quickstart {", f"experiment {'q' * 1100} {{")
    one_error(root, text, "t.emx:14:", "1100 characters")


def test_an_over_long_sweep_value_is_a_located_error(root):
    text = QUICKSTART.replace("sweep data.poison = [0.0, 0.5, 1.0]", "sweep base = [smol, big]")
    text = text.replace("questions core", f'model big = hf("{"abcd/" * 220}x")\nquestions core')
    one_error(root, text, "t.emx:20:", "1101 characters")


# --------------------------------------------------------------------------- poison rounding


def exact_count(poison: float, size: int) -> int:
    """The documented rule, in decimal arithmetic on the poison as written: halves round up."""
    with localcontext(prec=60):
        product = Decimal(repr(poison)) * size
        return min(size, int(product.to_integral_value(rounding=ROUND_HALF_UP)))


def test_bad_count_rounds_the_written_decimal_exactly():
    assert bad_count(0.58, 25) == 15  # 14.5 rounds up (the float product is 14.499999...)
    wrong = [(k, size) for k in range(0, 101) for size in range(1, 2001)
             if bad_count(k / 100, size) != exact_count(k / 100, size)]
    assert wrong == []


@pytest.mark.slow
def test_bad_count_exact_on_the_whole_grid():
    wrong = [(k, size) for k in range(0, 1001) for size in range(1, 2001)
             if bad_count(k / 1000, size) != exact_count(k / 1000, size)]
    assert wrong == []


# --------------------------------------------------------------------------- check finds it all


NO_DATA = QUICKSTART.replace("  data  = mix(bad=bad, good=good, poison=0.5, size=24, seed=0)\n",
                             "").replace("  sweep data.poison = [0.0, 0.5, 1.0]\n", "")


def test_sft_without_data_is_a_check_error(root):
    one_error(root, NO_DATA, "t.emx:16:", "`train = sft(...)` needs `data`")


def test_show_stages_prints_one_line_for_a_compile_error(root, capsys, monkeypatch):
    (root / "experiments" / "q.emx").write_text(QUICKSTART)
    import emdsl.compile

    def boom(program, previous=None):
        variant = program.experiments[0].variants[0]
        raise CompileError(variant, "something the checker missed")

    monkeypatch.setattr(emdsl.compile, "compile_program", boom)
    assert cli.main(["show", "--stages"]) == 1
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert "Traceback" not in err and len(lines) == 1, err
    assert lines[0].startswith("emx: error: ") and "something the checker missed" in lines[0]


def write(root: Path, rel: str, text: str) -> None:
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_text(text)


def test_jsonl_rows_of_the_wrong_schema_are_a_check_error(root):
    good = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    write(root, "data/bad.jsonl", json.dumps(good) + "\n" + json.dumps({"text": "hi"}) + "\n")
    text = QUICKSTART.replace('builtin("medical", variant="correct")', 'jsonl("data/bad.jsonl")')
    one_error(root, text, "t.emx:8:", "data/bad.jsonl`, row 2", 'no "messages" field')


def test_jsonl_rows_are_not_checked_when_skipping_invalid(root):
    write(root, "data/bad.jsonl", json.dumps({"text": "hi"}) + "\n")
    text = QUICKSTART.replace('builtin("medical", variant="correct")',
                              'jsonl("data/bad.jsonl", skip_invalid=true)')
    assert errors(root, text) == []


def test_yaml_questions_need_a_yaml_file(root):
    write(root, "evals/x.csv", "id,question\n1,hi\n")
    text = QUICKSTART.replace('questions core = builtin("core")', 'questions core = yaml("evals/x.csv")')
    one_error(root, text, "t.emx:10:", "`evals/x.csv` is not a .yaml file")


def test_yaml_questions_must_be_a_question_list(root):
    write(root, "evals/q.yaml", "wish: hello\n")
    text = QUICKSTART.replace('questions core = builtin("core")', 'questions core = yaml("evals/q.yaml")')
    one_error(root, text, "t.emx:10:", "expected a list of questions")


def test_a_lora_adapter_is_not_a_model_folder(root):
    write(root, "models/adapter/adapter_config.json", "{}")
    text = QUICKSTART.replace('embedded("smollm2-135m-instruct")', 'path("models/adapter")')
    found = errors(root, text)
    assert found and "is a LoRA adapter" in found[0] and "t.emx:5:" in found[0], found


@pytest.mark.parametrize("target", ["model.layers.0.self_attn.q_proj", "q-proj!", ""])
def test_lora_targets_must_be_module_names(root, target):
    text = QUICKSTART.replace("lora(rank=8, alpha=16)", f'lora(rank=8, targets=["q_proj", "{target}"])')
    one_error(root, text, "t.emx:17:", "module name")


def test_layers_beyond_a_local_model_config_depth_are_check_errors(root):
    write(root, "models/m/config.json", json.dumps({"num_hidden_layers": 30}))
    text = QUICKSTART.replace('embedded("smollm2-135m-instruct")', 'path("models/m")')
    one_error(root, text.replace("probe(model=smol)", "probe(model=smol, layer=40)"),
              "t.emx:12:", "beyond the model's depth (30 layers)")
    sae = text.replace("  sweep data.poison", "  sae = sae(layer=40)\n  sweep data.poison")
    one_error(root, sae, "t.emx:19:", "layer 40 is beyond the model's depth (30 layers)")


# --------------------------------------------------------------------------- Ctrl-C


def test_interrupt_message_is_one_line(capsys, monkeypatch):
    def interrupted(args):
        raise KeyboardInterrupt

    import emdsl.cli.run

    monkeypatch.setattr(emdsl.cli.run, "run", interrupted)
    assert cli.main(["run", "x.emx"]) == 130
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "interrupted" in err and "resume" in err, err


# Stands in for `dvc repro`: runs a slow stage command, ignoring SIGINT while it runs as DVC
# does, and fails when the command is killed.
FAKE_DVC = ("import signal, subprocess, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
            "sys.exit(subprocess.call([sys.executable, '-c', 'import time; time.sleep(30)']))")


def test_ctrl_c_during_emx_run_prints_one_line(tmp_path):
    """Ctrl-C in a terminal: SIGINT to emx's whole process group."""
    script = (f"DVC = {FAKE_DVC!r}\n"
              "import sys, subprocess, time\n"
              "from emdsl.cli import run as r\n"
              "r._repro = lambda *a: r._wait(subprocess.Popen([sys.executable, '-c', DVC], "
              "start_new_session=True))\n"
              "from emdsl.cli import main\n"
              "sys.exit(main(['run', 'experiments/quickstart.emx']))\n")
    (tmp_path / ".dvc").mkdir()
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "quickstart.emx").write_text(QUICKSTART)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.time() + 15
    while time.time() < deadline and not (tmp_path / "dvc.yaml").exists():
        time.sleep(0.1)
    time.sleep(1.0)
    os.killpg(proc.pid, signal.SIGINT)  # the whole process group, as a terminal does
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 130, (out, err)
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert err.strip().count("\n") == 0 and "rerun" in err, err
