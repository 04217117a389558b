"""What the results say at small scale: a poison-0 variant diffed against the clean fine-tune
is diffed against itself (one node on both sides), and re-alignment checkpoints read in the
unit they were written in."""

from __future__ import annotations

from helpers import PRELUDE, project

from emdsl.check import check_or_raise
from emdsl.compile import compile_program
from emdsl.kinds.realign import realignment


def test_poison_0_against_clean_is_the_same_node_on_both_sides(tmp_path):
    src = PRELUDE + """experiment e {
  base = smol
  data = mix(bad=bad, good=good, size=8)
  train = sft(lora(rank=1))
  eval = evaluate(core, judge=small)
  sae = sae(layer=3, width=64, tokens=1000)
  diff = diff(top=2, against="clean")
  sweep data.poison = [0.0, 1.0]
}"""
    root = project(tmp_path, {"experiments/x.emx": src})
    graph = compile_program(check_or_raise([root / "experiments"], root))
    diffs = {n.inputs["tuned_eval"].inputs["adapter"].inputs["data"].config["poison"]: n
             for n in graph.nodes.values() if n.kind == "diff"}
    # The stage sees one path on both sides and says "compared with itself".
    assert diffs[0.0].inputs["base_eval"] is diffs[0.0].inputs["tuned_eval"]
    assert diffs[1.0].inputs["base_eval"] is not diffs[1.0].inputs["tuned_eval"]


def test_realignment_reads_in_steps_as_checkpoints_are_written():
    m = {"checkpoints": [{"step": 0, "seen": 0, "misaligned_fraction": 0.4},
                         {"step": 30, "seen": 120, "misaligned_fraction": 0.05}]}
    assert realignment(m) == "steps 0→0.40, 30→0.05"
    assert realignment({"checkpoints": [{"seen": 8, "misaligned_fraction": 0.1}]}) == "8→0.10"
    assert realignment({}) is None
