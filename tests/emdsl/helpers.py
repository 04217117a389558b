"""Small helpers for language tests: write .emx sources into a temporary project."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

from emdsl.check import check_files
from emdsl.results import Source

PRELUDE = """\
model smol = embedded("smollm2-135m-instruct")
dataset bad = builtin("medical", variant="incorrect-subtle")
dataset good = builtin("medical", variant="correct")
questions core = builtin("core")
judge small = local(model=smol)
"""


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    """Write files (dedented) under ``tmp_path`` with a ``.dvc`` marker; return the root."""
    (tmp_path / ".dvc").mkdir(exist_ok=True)
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(dedent(text), encoding="utf-8")
    return tmp_path


def diagnostics(tmp_path: Path, source: str, name: str = "exp.emx", extra=None):
    root = project(tmp_path, {name: source, **(extra or {})})
    program, diags = check_files([root / name], root)
    return program, diags


# --------------------------------------------------------------------------- fake results


def fake_results(root: Path, rate=lambda name: 0.1, n: int = 200) -> None:
    """Write realistic small results files for every compiled stage, as the stages would.

    ``rate(stage name)`` gives each judge its misaligned fraction; curves and audits are
    filled in too. Values depend only on the stage's name and key, like real results.
    """
    import json

    from emdsl.schema.detail import DETAIL, metrics_file
    from stages.common import csv_text, split_metrics
    from stages.lib.judging.metrics import wilson_interval

    def judged(fraction: float) -> dict:
        k = round(fraction * (n - 4))
        lo, hi = wilson_interval(k, n - 4)
        return {"n": n, "n_judged": n - 4, "misaligned": k, "misaligned_fraction": k / (n - 4),
                "misaligned_ci95": [lo, hi], "coherent_fraction": 0.9,
                "missing": {"aligned": 4, "coherent": 2}}

    stages = Source(root).params()["stages"]
    for name, entry in stages.items():
        if not entry.get("results"):
            continue
        res = root / entry["results"]
        res.mkdir(parents=True, exist_ok=True)
        seed = int(entry["key"][:4], 16) % 7
        metrics: dict = {}
        if entry["kind"] == "judge":
            metrics = judged(rate(name)) | {"judge": "local:smollm2"}
        elif entry["kind"] == "judge_train":
            metrics = {"aligned": {"cv_auc": 0.91}, "coherent": {"cv_auc": 0.88},
                       "published_misaligned": {"n": 50, "share_aligned_below_30": 0.8}}
        elif entry["kind"] == "train":
            rows = [{"step": s, "loss": 3.0 / (s + seed)} for s in range(1, 6)]
            (res / "loss.csv").write_text(csv_text(rows, ["step", "loss"]))
            live = res / "live/plots/metrics/train"  # dvclive's curves, as the stage writes
            live.mkdir(parents=True, exist_ok=True)
            for col in ("loss", "learning_rate"):
                (live / f"{col}.tsv").write_text("".join(
                    [f"step\t{col}\n"] + [f"{r['step']}\t{r['loss'] if col == 'loss' else 1e-3}\n"
                                           for r in rows]))
            metrics = {"steps": 5, "final_loss": rows[-1]["loss"]}
        elif entry["kind"] == "diff":
            metrics = {"rank_by": "score", "top": [
                {"rank": i + 1, "id": 10 * i + seed, "score": 0.5 / (i + 1),
                 "example": f"the «bad{i}» advice"} for i in range(4)]}
        elif entry["kind"] in ("steer", "realign"):
            xs = [-4, 0, 4] if entry["kind"] == "steer" else [0, 8, 16]
            points = [judged(0.1 + 0.1 * i) | {"coef": x, "seen": x, "step": x}
                      for i, x in enumerate(xs)]
            metrics = {"coefficients" if entry["kind"] == "steer" else "checkpoints": points}
            curve = [{"x": p["coef"], "misaligned": p["misaligned_fraction"],
                      "ci_low": p["misaligned_ci95"][0], "ci_high": p["misaligned_ci95"][1]}
                     for p in points]
            (res / "curve.csv").write_text(csv_text(curve, ["x", "misaligned", "ci_low",
                                                            "ci_high"]))
        elif entry["kind"] == "detector":
            curve = [{"x": p["poison"], "misaligned": 0.1 + p["poison"] / 2,
                      "latent": 0.2 + p["poison"]} for p in entry["config"]["points"]]
            (res / "curve.csv").write_text(csv_text(curve, ["x", "misaligned", "latent"]))
            metrics = {"per_poison": curve}
        elif entry["kind"] == "summary":
            continue  # written below, from the judges' files, like the stage does
        if metrics:  # split into headline and detail.json, as `run_stage` does
            (res / "metrics.json").write_text(json.dumps(metrics, indent=2))
            split_metrics(entry["kind"], res)
        elif metrics_file(entry["kind"]):  # a declared plot file DVC reads
            (res / DETAIL).write_text("{}\n")
    from stages.summary import COLUMNS, row

    for entry in stages.values():
        if entry["kind"] == "summary":
            inputs = entry["inputs"]
            rows = [row(p, json.loads((root / inputs[f"judge_{i}"] / "metrics.json").read_text()))
                    for i, p in enumerate(entry["config"]["points"])]
            (root / entry["results"]).mkdir(parents=True, exist_ok=True)
            (root / entry["results"] / "summary.csv").write_text(csv_text(rows, COLUMNS))


def emx_inline(*args: str, cwd: Path):
    """``emx ARGS`` run in this process from ``cwd`` (no interpreter start-up): a
    ``CompletedProcess`` with the exit code and the captured stdout and stderr."""
    import io
    import os
    import subprocess
    from contextlib import redirect_stderr, redirect_stdout

    from emdsl.cli import build_parser

    out, err, old = io.StringIO(), io.StringIO(), os.getcwd()
    os.chdir(cwd)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            parsed = build_parser().parse_args(list(args))
            rc = parsed.func(parsed)
    finally:
        os.chdir(old)
    return subprocess.CompletedProcess(list(args), rc, out.getvalue(), err.getvalue())
