"""Confinement: an .emx reads only inside its project unless it says `allow outside`, and
nothing in it can make the toolchain run code (no eval, safe YAML both ways)."""

from __future__ import annotations

import ast as pyast
import os
from pathlib import Path

import pytest
import yaml

from emdsl.check import check_files
from emdsl.compile import compile_program
from emdsl.emit import emit

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "fixtures" / "design" / "data" / "insecure.jsonl"


def layout(tmp_path: Path) -> tuple[Path, Path]:
    """``tmp/proj`` (the project, a .dvc marker) next to ``tmp/shared`` (outside it)."""
    root, shared = tmp_path / "proj", tmp_path / "shared"
    (root / ".dvc").mkdir(parents=True)
    shared.mkdir()
    (shared / "x.jsonl").write_bytes(DATA.read_bytes())
    (shared / "common.emx").write_text('allow outside "../shared"\n'
                                       'dataset far = jsonl("../shared/x.jsonl")\n')
    return root, shared


def check(root: Path, source: str):
    (root / "exp.emx").write_text(source)
    return check_files([root / "exp.emx"], root)


def only(diags):
    assert len(diags) == 1, "\n".join(d.render() for d in diags)
    d = diags[0]
    assert d.pos.path.name == "exp.emx" and d.pos.line >= 1 and d.pos.column >= 1
    return d


@pytest.mark.parametrize("path", ["../shared/x.jsonl", "{shared}/x.jsonl",
                                  "data/../../shared/x.jsonl", "link/x.jsonl"])
def test_paths_leaving_the_root_are_refused_with_the_marker_as_hint(tmp_path, path):
    root, shared = layout(tmp_path)
    (root / "link").symlink_to(shared)  # a symlink inside the project pointing out of it
    (root / "data").mkdir()
    d = only(check(root, f'dataset x = jsonl("{path.format(shared=shared)}")\n')[1])
    assert "is outside the project root" in d.message and d.pos.line == 1
    assert d.hint.endswith('add `allow outside "../shared"` at the top of this file')


@pytest.mark.parametrize("call", ['questions q = yaml("../shared/x.jsonl")',
                                  'model m = path("../shared")',
                                  'judge j = local(model=path("../shared"))'])
def test_every_path_taking_call_is_confined(tmp_path, call):
    root, _ = layout(tmp_path)
    assert "outside the project root" in only(check(root, call + "\n")[1]).message


def test_import_escaping_the_root_is_refused(tmp_path):
    root, _ = layout(tmp_path)
    d = only(check(root, 'import "../shared/common.emx"\n')[1])
    assert d.message.startswith("import `../shared/common.emx` is outside the project root")


def test_allow_outside_marks_a_folder_readable(tmp_path):
    root, shared = layout(tmp_path)
    (root / "link").symlink_to(shared)
    for folder in ("../shared", str(shared)):
        src = (f'allow outside "{folder}"\nimport "../shared/common.emx"\n'
               'dataset x = jsonl("link/x.jsonl")\ndataset y = jsonl("../shared/x.jsonl")\n')
        assert check(root, src)[1] == []


def test_allow_outside_covers_only_its_own_folder_and_file(tmp_path):
    root, _ = layout(tmp_path)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x.jsonl").write_bytes(DATA.read_bytes())
    src = 'allow outside "../shared"\ndataset x = jsonl("../other/x.jsonl")\n'
    assert "outside the project root" in only(check(root, src)[1]).message
    # an imported file does not inherit the importer's permission
    (root / "inner.emx").write_text('dataset far = jsonl("../shared/x.jsonl")\n')
    d = check(root, 'allow outside "../shared"\nimport "inner.emx"\n')[1]
    assert len(d) == 1 and d[0].pos.path.name == "inner.emx"


def test_allow_outside_a_missing_folder_is_located(tmp_path):
    root, _ = layout(tmp_path)
    d = only(check(root, 'allow outside "../nowhere"\n')[1])
    assert d.message == "`allow outside` folder `../nowhere` does not exist"
    assert (d.pos.line, d.pos.column) == (1, 15)


def test_allowed_outside_data_compiles_to_an_external_dep(tmp_path):
    root, _ = layout(tmp_path)
    src = ('allow outside "../shared"\nmodel smol = embedded("smollm2-135m-instruct")\n'
           'dataset far = jsonl("../shared/x.jsonl")\n'
           "experiment e {\n  base = smol\n  data = mix(bad=far, good=far, size=2)\n"
           "  train = sft()\n}\n")
    program, diags = check(root, src)
    assert diags == []
    dvc_text, _ = emit(compile_program(program), root, ["exp.emx"])
    assert "../shared/x.jsonl" in dvc_text


# ---------------------------------------------------------------------- no code execution

PACKAGE = [p for d in ("emdsl", "stages") for p in sorted((REPO / d).rglob("*.py"))]


def _calls(tree: pyast.AST):
    for node in pyast.walk(tree):
        if isinstance(node, pyast.Call):
            f = node.func
            name = f.id if isinstance(f, pyast.Name) else \
                f"{getattr(f.value, 'id', '?')}.{f.attr}" if isinstance(f, pyast.Attribute) \
                else "?"
            yield name, node


def _kw(node: pyast.Call, name: str):
    for k in node.keywords:
        if k.arg == name:
            return pyast.unparse(k.value)
    return None


def test_the_package_never_evaluates_or_unpickles():
    """AST-based, so code inside the builtin datasets' strings does not count."""
    problems = []
    for path in PACKAGE:
        for name, node in _calls(pyast.parse(path.read_text(encoding="utf-8"))):
            where = f"{path.relative_to(REPO)}:{node.lineno}"
            if name in ("eval", "exec", "compile", "__import__", "os.system", "pickle.load",
                        "pickle.loads", "yaml.unsafe_load", "yaml.full_load", "marshal.loads"):
                problems.append(f"{where}: {name}(...)")
            if name in ("yaml.load", "yaml.load_all") and "Safe" not in (_kw(node, "Loader")
                                                                         or ""):
                problems.append(f"{where}: {name} without a safe loader")
            if name == "torch.load" and _kw(node, "weights_only") != "True":
                problems.append(f"{where}: torch.load without weights_only=True")
            if _kw(node, "trust_remote_code") not in (None, "False"):
                problems.append(f"{where}: trust_remote_code")
            if _kw(node, "shell") not in (None, "False"):
                problems.append(f"{where}: subprocess with shell=True")
    assert not problems, "\n".join(problems)


def test_a_yaml_tag_in_an_emx_string_stays_an_inert_string(tmp_path):
    canary = tmp_path / "PWNED"
    tag = f'!!python/object/apply:os.system ["touch {canary}"]'
    quoted = tag.replace('"', '\\"')
    root = tmp_path / "proj"
    (root / ".dvc").mkdir(parents=True)
    (root / "exp.emx").write_text(f"""\
model m = hf("{quoted}", revision="&a *a")
judge j = openai(model="{quoted}", base_url="!!python/name:os.system")
questions core = builtin("core")
experiment e {{
  base = m
  eval = evaluate(core, judge=j)
}}
""")
    program, diags = check_files([root / "exp.emx"], root)
    assert diags == [], "\n".join(d.render() for d in diags)
    dvc_text, params_text = emit(compile_program(program), root, ["exp.emx"])
    for text in (dvc_text, params_text):
        # even a careless consumer's full loader must see plain strings
        loaded = yaml.load(text, Loader=yaml.UnsafeLoader)  # the point of the test
        assert loaded and not canary.exists()
    stages = yaml.safe_load(params_text)["stages"]
    configs = [s["config"] for s in stages.values()]
    assert {"type": "hf", "name": tag, "revision": "&a *a", "dtype": "auto"} in configs
    judge = next(c["judge"] for c in configs if "judge" in c)
    assert judge["model"] == tag and judge["base_url"] == "!!python/name:os.system"
    assert not os.path.exists(canary)


def test_allow_outside_formats_with_the_imports():
    from emdsl.fmt import format_module
    from emdsl.parse import parse

    src = 'model m = path("x")\nallow   outside "../shared"  # why\nimport "a.emx"\n'
    module, diags = parse(src, Path("f.emx"))
    assert diags == []
    text = format_module(module)
    assert '\n\nallow outside "../shared"  # why\nimport "a.emx"\n' in text
    assert parse(text, Path("f.emx"))[0] == module
