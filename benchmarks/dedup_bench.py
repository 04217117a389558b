"""Stage executions with node dedup vs without, for N experiments on one base model.

Each experiment fine-tunes the same base model on a different poison ratio and evaluates it
with the same questions and judge. Without dedup every variant would run each of its own
stages (the sum over nodes of the variants that use them); with dedup the compiler emits one
stage per key. Counts, not times: they do not depend on the machine.

    python benchmarks/dedup_bench.py [N ...]
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

HEADER = """\
model smol = embedded("smollm2-135m-instruct")
dataset bad = builtin("medical", variant="incorrect-subtle")
dataset good = builtin("medical", variant="correct")
questions core = builtin("core")
judge small = local(model=smol)
"""

EXPERIMENT = """
experiment e{i} {{
  base  = smol
  data  = mix(bad=bad, good=good, poison={poison}, size=64)
  train = sft(lora(rank=8, alpha=16))
  eval  = evaluate(core, samples=4, judge=small)
  sae   = sae(layer=15, width=1024, k=16, tokens=20000)
  diff  = diff(top=5)
}}
"""


def stage_counts(n: int) -> tuple[int, int, Counter, Counter]:
    """(with dedup, without, per-kind with, per-kind without) for ``n`` experiments."""
    from emdsl.check import check_or_raise
    from emdsl.compile import compile_program

    source = HEADER + "".join(EXPERIMENT.format(i=i, poison=round(i / max(n - 1, 1), 4))
                              for i in range(n))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / ".git").mkdir()
        (root / "study.emx").write_text(source)
        graph = compile_program(check_or_raise([root / "study.emx"], root))
    with_dedup = Counter(node.kind for node in graph.nodes.values())
    without = Counter()
    for node in graph.nodes.values():
        without[node.kind] += len(node.users)
    return sum(with_dedup.values()), sum(without.values()), with_dedup, without


def main(argv: list[str] | None = None) -> dict[str, float]:
    sizes = [int(a) for a in (argv or [])] or [1, 10, 100]
    figures: dict[str, float] = {}
    for n in sizes:
        deduped, plain, by_kind, by_kind_plain = stage_counts(n)
        kinds = ", ".join(f"{k} {by_kind[k]}/{by_kind_plain[k]}" for k in sorted(by_kind))
        print(f"{n} experiments on one base model: {deduped} stage executions with dedup vs "
              f"{plain} without ({plain / deduped:.2f}× fewer); per kind {kinds}")
        figures[f"stages_{n}"] = deduped
        figures[f"without_dedup_{n}"] = plain
        figures[f"ratio_{n}"] = plain / deduped
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
