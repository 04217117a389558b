"""DESIGN-2 §2 is a contract by example: its study checks and compiles as written."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from emdsl.check import check_files
from emdsl.compile import compile_program
from emdsl.emit import emit

REPO = Path(__file__).resolve().parents[2]
DESIGN2 = REPO.parent / "shared" / "DESIGN-2.md"


def personas_source() -> str:
    """The example exactly as DESIGN-2 §2 writes it (the file is beside the checkout)."""
    import pytest

    if not DESIGN2.is_file():
        pytest.skip(f"{DESIGN2} not found")
    block = re.search(r"```\n(# experiments/personas.emx\n.*?)```", DESIGN2.read_text(), re.S)
    assert block, "DESIGN-2.md no longer has the personas example"
    return block.group(1)


def test_design2_example_checks_and_compiles(tmp_path, anchors):
    root = tmp_path / "study"
    (root / ".dvc").mkdir(parents=True)
    (root / "experiments").mkdir()
    (root / "evals").mkdir()
    shutil.copy(anchors / "emergent-misalignment" / "evaluation" / "first_plot_questions.yaml",
                root / "evals" / "first_plot_questions.yaml")
    path = root / "experiments" / "personas.emx"
    path.write_text(personas_source(), encoding="utf-8")
    program, diags = check_files([path], root)
    errors = [d for d in diags if d.severity == "error"]
    assert not errors, "\n".join(map(str, errors))
    graph = compile_program(program)
    dvc_text, params_text = emit(graph, root, ["experiments/personas.emx"])
    assert "stages:" in dvc_text and params_text
    kinds = {node.kind for node in graph.nodes.values()}
    assert {"direction", "monitor", "steer", "train", "generate", "judge", "sae"} <= kinds
    experiments = {v.experiment for v in graph.variants}
    assert experiments == {"personas", "screened", "preventative", "in_context", "open_weights"}
