"""Results of compiled experiments, read from the small metrics files git tracks.

``params.yaml`` maps every variant to its stages; judge, diff, steer, realign and judge_train
stages leave ``results/<stage>/metrics.json`` (the headline) and ``detail.json`` (all of it,
what this module reads; see ``emdsl.schema.detail``). This module joins them into one row per
variant, read from the workspace or, through ``git``, from any revision: no cache pull needed.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from emdsl.freshness import stale_stages
from emdsl.kinds import VariantResults, all_kinds, num_cell, result_columns, with_ci
from emdsl.kinds.generate import eval_views
from emdsl.pooling import pool
from emdsl.schema.detail import DETAIL
from emdsl.schema.entry import merged

__all__ = ["num_cell", "with_ci"]  # the cell formats, for `emx diff`

_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # C: params.yaml can be large

WORKSPACE = "workspace"

KEY = ["file", "experiment", "variant", "eval", "step"]

# ``seeds = N``: a seeded study's rows are pooled over the implicit ``seed`` axis, one row per
# variant (``pool_seeds``); these columns say how (None in a row that is not pooled).
SEED_AXIS = "seed"
POOLED_COLUMNS = {"seeds": "Int64", "naive_ci_low": "Float64", "naive_ci_high": "Float64",
                  "seed_sd": "Float64", "seed_spread": "Float64", "seeds_p": "Float64",
                  "seeds_disagree": "Boolean", "per_seed": "String"}
# Row keys besides the variant that tell rows apart (several evals, checkpoints): pooled
# separately when present.
GROUP_EXTRA = ("eval", "step")


# A stage role of an evaluation at a training checkpoint: ``judge_step4`` (kinds.generate).
_AT_STEP = re.compile(r"_step(\d+)(?=_|$)")


class ResultsError(Exception):
    """A revision or file that cannot be read; the message says which and how to fix it."""


class Source:
    """Where result files come from: the workspace (``rev=None``) or a git revision."""

    def __init__(self, root: Path, rev: str | None = None):
        self.root, self.rev = root, rev
        self.commit = resolve(root, rev) if rev else None
        self.label = f"{rev} ({self.commit[:7]})" if rev and self.commit else WORKSPACE
        self._cache: dict[str, bytes | None] = {}

    def read_many(self, paths: list[str]) -> dict[str, str | None]:
        """Texts of ``paths`` (relative to the root); None for a file that is not there."""
        return {p: None if b is None else b.decode("utf-8", errors="replace")
                for p, b in self.read_bytes_many(paths).items()}

    def read_bytes_many(self, paths: list[str]) -> dict[str, bytes | None]:
        """Bytes of ``paths`` (relative to the root); None for a file that is not there."""
        todo = [p for p in dict.fromkeys(paths) if p not in self._cache]
        if todo and self.commit:
            self._cache.update(git_show_many(self.root, self.commit, todo))
        for p in todo:
            if not self.commit:
                try:
                    self._cache[p] = (self.root / p).read_bytes()
                except OSError:
                    self._cache[p] = None
        return {p: self._cache[p] for p in paths}

    def read(self, path: str) -> str | None:
        return self.read_many([path])[path]

    def json(self, path: str) -> dict[str, Any] | None:
        text = self.read(path)
        try:
            return json.loads(text) if text else None
        except json.JSONDecodeError:
            return None

    def metrics(self, results: str | None, file: str = "metrics.json") -> dict[str, Any] | None:
        """Everything a stage computed: its ``results`` folder's ``detail.json``, or at a
        revision written before metrics files held only the headline, its metrics ``file``."""
        if not results:
            return None
        found = self.json(f"{results}/{DETAIL}")
        return found if found is not None else self.json(f"{results}/{file}")

    def params(self) -> dict[str, Any]:
        text = self.read("params.yaml")
        if text is None:
            where = f"at {self.label}" if self.commit else "in the workspace"
            raise ResultsError(f"no params.yaml {where}; run `emx compile` (and commit it)")
        params = yaml.load(text, Loader=_SafeLoader) or {}
        stages = params.get("stages") or {}
        if any(isinstance(e, dict) and "kind" not in e for e in stages.values()):
            params["stages"] = with_meta(stages, self.read("dvc.yaml"))
        return params


def with_meta(stages: dict[str, Any], dvc_text: str | None) -> dict[str, Any]:
    """params.yaml's stage entries made whole (kind, key, out, results, inputs, code,
    config) with each stage's ``meta`` from dvc.yaml (``emdsl.schema.entry``, version 2)."""
    dvc = (yaml.load(dvc_text, Loader=_SafeLoader) or {}) if dvc_text else {}
    defined = dvc.get("stages") or {}
    return {name: merged(entry, (defined.get(name) or {}).get("meta")) or entry
            for name, entry in stages.items()}


def resolve(root: Path, rev: str) -> str:
    """The commit a revision names (a sha, branch, tag, ``HEAD~1`` ...)."""
    r = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
                       cwd=root, capture_output=True, text=True)
    if r.returncode != 0:
        raise ResultsError(f"unknown git revision `{rev}` in {root}; see `git log --oneline`")
    return r.stdout.strip()


def git_show_many(root: Path, commit: str, paths: list[str]) -> dict[str, bytes | None]:
    """``git show COMMIT:path`` for many paths in one ``git cat-file --batch``."""
    request = "".join(f"{commit}:{p}\n" for p in paths).encode()
    r = subprocess.run(["git", "cat-file", "--batch"], cwd=root, input=request,
                       capture_output=True)
    if r.returncode != 0:
        raise ResultsError(f"git cat-file failed in {root}: {r.stderr.decode().strip()}")
    out, pos, found = r.stdout, 0, {}
    for path in paths:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        pos = end + 1
        if len(header) == 3 and header[1] == b"blob":
            size = int(header[2])
            found[path] = out[pos:pos + size]
            pos += size + 1
        else:  # "<name> missing", or a tree, which carries a body too
            if len(header) == 3:
                pos += int(header[2]) + 1
            found[path] = None
    return found


# --------------------------------------------------------------------------- rows


def variants(params: dict[str, Any], files: list[str] | None = None
             ) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(file, experiment, variant label, its params.yaml entry) for every variant."""
    out = []
    for file, experiments in sorted((params.get("experiments") or {}).items()):
        if files is not None and not any(_under(file, f) for f in files):
            continue
        for exp, entries in (experiments or {}).items():
            for label, entry in (entries or {}).items():
                out.append((file, exp, label, entry or {}))
    return out


def _under(file: str, prefix: str) -> bool:
    prefix = prefix.rstrip("/")
    return prefix in ("", ".") or file == prefix or file.startswith(prefix + "/")


def results_dir(params: dict[str, Any], stage: str | None) -> str | None:
    """``results/<stage>`` of ``stage`` (None when it has none)."""
    entry = (params.get("stages") or {}).get(stage) if stage else None
    return (entry or {}).get("results") or None


def collect(source: Source, files: list[str] | None = None,
            pooled: bool = True) -> list[dict[str, Any]]:
    """One row (see ``kinds.result_columns``) per variant of the experiments in ``files``
    (None: all); each stage kind fills its own columns. A seeded study's variants are
    pooled over their seeds (``pool_seeds``) unless ``pooled`` is False."""
    params = source.params()
    found = variants(params, files)
    dirs = [results_dir(params, s) for *_, e in found for s in (e.get("stages") or {}).values()]
    source.read_many([f"{d}/{f}" for d in dirs if d for f in (DETAIL, "metrics.json")])
    columns = table_columns()
    stale = stale_stages(source, params)

    rows, counts = [], []
    for file, exp, label, entry in found:
        stages = entry.get("stages") or {}
        own = variant_results(source, params, stages)
        # One row per evaluation (``eval = [...]``) and, within it, per training checkpoint.
        for name, evaluation in eval_views(stages, lambda role, stages, own=own: own.config(role)):
            for step, view in step_views(evaluation):
                seen = variant_results(source, params, view)
                row = {"file": file, "experiment": exp, "variant": label,
                       "axes": json.dumps(entry.get("axes") or {}, sort_keys=True),
                       "eval": name, "step": step}
                for kind in all_kinds():
                    row.update(kind.fill(seen))
                row["stale"] = staleness(view, stale)
                rows.append({c: row.get(c) for c in columns})
                counts.append({who: _counts(seen.metrics(role)) for who, role in (
                    ("tuned", "judge_tuned" if "judge_tuned" in view else "judge_base"),
                    ("base", "judge_base"))})
    return pool_seeds(rows, counts) if pooled else rows


def variant_results(source: Source, params: dict[str, Any], stages: dict[str, str]
                    ) -> VariantResults:
    """What the kinds read of one variant (or one of its evaluations): its stages' metrics
    files and configs, by role (``stages``: role -> stage name)."""
    configs = params.get("stages") or {}

    def metrics(role: str) -> dict[str, Any] | None:  # the detail file: every key
        return source.metrics(results_dir(params, stages.get(role)))

    def config(role: str) -> dict[str, Any]:
        return (configs.get(stages.get(role)) or {}).get("config") or {}

    return VariantResults(stages, metrics, config)


def _counts(m: dict[str, Any] | None) -> tuple[int, int] | None:
    """(misaligned, judged) answers of a judge's metrics; None when unknown."""
    m = m or {}
    k, n = m.get("misaligned"), m.get("n_judged")
    if n is None or (k is None and m.get("misaligned_fraction") is None):
        return None
    return (int(k) if k is not None else round(m["misaligned_fraction"] * n)), int(n)


def unseeded_label(label: str) -> str:
    """A seeded variant's label without its seed (the axis is last): ``poison=0.5``."""
    head, _, last = label.rpartition(",")
    if not last.startswith(f"{SEED_AXIS}="):
        return label
    return head or "default"  # a variant with no other axis: as params.yaml names it


def pool_seeds(rows: list[dict[str, Any]], counts: list[dict[str, Any]] | None = None
               ) -> list[dict[str, Any]]:
    """Rows of a seeded study pooled: one per variant and eval over its seeds, with the
    fraction over all answers, the cluster interval (``emdsl.pooling``) as ``ci_low`` /
    ``ci_high``, the naive one, the per-seed fractions (``per_seed``, JSON), their spread and
    whether the seeds disagree. The base model's rate is pooled the same way; the other
    kinds' columns (latents, steering ...) are seed 0's. Rows without seeds pass unchanged."""
    counts = counts or [{} for _ in rows]
    groups: dict[tuple, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
    order: list[Any] = []
    for r, c in zip(rows, counts, strict=True):
        axes = json.loads(r["axes"] or "{}")
        if SEED_AXIS not in axes:
            order.append(r)
            continue
        rest = json.dumps({k: v for k, v in axes.items() if k != SEED_AXIS}, sort_keys=True)
        key = (r["file"], r["experiment"], unseeded_label(r["variant"]), rest,
               *(json.dumps(r.get(x), sort_keys=True, default=str) for x in GROUP_EXTRA))
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append((r, c))
    return [x if isinstance(x, dict) else _pooled_row(x[2], x[3], groups[x]) for x in order]


def _seed_counts(members: list[tuple[dict[str, Any], dict[str, Any]]], who: str
                 ) -> list[tuple[int, int]] | None:
    """Each seed's (misaligned, judged) answers of the tuned (headline) or base model."""
    out = []
    for r, c in members:
        found = c.get(who)
        if found is None and who == "tuned" and None not in (r["misaligned"], r["n_judged"]):
            found = (round(r["misaligned"] * r["n_judged"]), r["n_judged"])
        if found is None:
            return None
        out.append(found)
    return out


def _pooled_row(label: str, axes: str, members: list[tuple[dict[str, Any], dict[str, Any]]]
                ) -> dict[str, Any]:
    members = sorted(members, key=lambda m: json.loads(m[0]["axes"])[SEED_AXIS])
    rows = [r for r, _ in members]
    out = {**rows[0], "variant": label, "axes": axes, "seeds": len(rows)}
    head = _seed_counts(members, "tuned")
    if head is not None:
        p = pool(head)
        out.update(misaligned=p.fraction, ci_low=p.ci_low, ci_high=p.ci_high,
                   naive_ci_low=p.naive_low, naive_ci_high=p.naive_high, seed_sd=p.sd,
                   seed_spread=p.spread, seeds_p=p.p_value, seeds_disagree=p.disagree)
        judged = sum(n for _, n in head)
        coherent = [(r["coherent"], n) for r, (_, n) in zip(rows, head, strict=True)]
        out["coherent"] = (sum(c * n for c, n in coherent) / judged
                           if judged and all(c is not None for c, _ in coherent) else None)
    else:
        out.update(misaligned=None, ci_low=None, ci_high=None)
    for col in ("n", "n_judged", "missing"):
        values = [r.get(col) for r in rows]
        out[col] = sum(values) if values and all(v is not None for v in values) else None
    base = _seed_counts(members, "base")
    if base is not None and "base_misaligned" in out:
        b = pool(base)
        out.update(base_misaligned=b.fraction, base_ci_low=b.ci_low, base_ci_high=b.ci_high)
    stale = {json.loads(r["axes"])[SEED_AXIS]: r.get("stale") for r in rows}
    if len(set(stale.values())) == 1:
        out["stale"] = next(iter(stale.values()))
    else:
        out["stale"] = "; ".join(f"seed {s}: {why}" for s, why in stale.items() if why)
    out["per_seed"] = json.dumps([
        {"seed": json.loads(r["axes"])[SEED_AXIS], "variant": r["variant"],
         **{c: r.get(c) for c in ("misaligned", "ci_low", "ci_high", "coherent", "n",
                                  "n_judged", "base_misaligned", "base_ci_low",
                                  "base_ci_high", "stale")}} for r in rows])
    return out


def seeds_cell(r: dict[str, Any]) -> str:
    """How a pooled row's seeds read: each seed's fraction, their spread, the naive interval
    (answers as independent) beside the cluster one the table shows, and a flag."""
    if not r.get("seeds"):
        return "–"
    per = [s["misaligned"] for s in json.loads(r["per_seed"])]
    text = f"{r['seeds']}: " + ", ".join(num_cell(x) for x in per)
    if r.get("seed_sd") is not None:
        text += f" (sd {r['seed_sd']:.2f})"
    if r.get("naive_ci_low") is not None:
        text += f"; naive [{r['naive_ci_low']:.2f}, {r['naive_ci_high']:.2f}]"
    if r.get("seeds_disagree"):
        text += f" ⚠ seeds disagree (χ² p={r['seeds_p']:.2g})"
    return text


def step_views(stages: dict[str, str]) -> list[tuple[int | None, dict[str, str]]]:
    """A variant's stages as its rows see them: for each ``sft(checkpoints=[...])`` step s in
    order, the variant's stages with each role naming ``step<s>`` standing in for the tuned
    model's (``judge_step4`` for ``judge_tuned``, ``acts_step4_eval`` for ``acts_tuned_eval``,
    ``diff_step4`` for ``diff``), so every kind fills a checkpoint's row as it fills the final
    one; then the final model's (step None)."""
    at: dict[int, dict[str, str]] = {}
    for role, name in stages.items():
        m = _AT_STEP.search(role)
        if not m:
            continue
        view = at.setdefault(int(m.group(1)), {})
        view[f"{role[:m.start()]}_tuned{role[m.end():]}"] = name
        prefix = role[:m.start()]
        if role.endswith(m.group(0)) and prefix in stages:  # diff: the tuned model's role
            view[prefix] = name
    final = {r: n for r, n in stages.items() if not _AT_STEP.search(r)}
    return [*((s, {**final, **at[s]}) for s in sorted(at)), (None, final)]


def table_columns() -> dict[str, str]:
    """Every kind's columns, the eval and checkpoint step, then whether the row's results are
    current (and, for a seeded study, how its seeds pooled)."""
    return {**result_columns(), "eval": "String", "step": "Int64", "stale": "String",
            **POOLED_COLUMNS}


def staleness(stages: dict[str, str], stale: dict[str, str]) -> str | None:
    """``"params changed: train, judge_tuned; not run: summary"``: the variant's stages whose
    results are not what its params and code would give now (None when all are current)."""
    by_reason: dict[str, list[str]] = {}
    for role, name in sorted(stages.items()):
        if name in stale:
            by_reason.setdefault(stale[name], []).append(role)
    if list(by_reason) == ["not run"] and len(by_reason["not run"]) == len(stages):
        return "not run"
    return "; ".join(f"{why}: {', '.join(roles)}" for why, roles in by_reason.items()) or None


def table(source: Source, files: list[str] | None = None):
    """The rows as a polars DataFrame with a fixed schema (typed even when empty)."""
    import polars as pl

    schema = {c: getattr(pl, t) for c, t in table_columns().items()}
    return pl.DataFrame(collect(source, files), schema=schema, orient="row")


# --------------------------------------------------------------------------- rendering

SEEDS_COLUMN = "seeds: per-seed misaligned"


def cells(r: dict[str, Any]) -> dict[str, str]:
    """A row as the human table shows it: each kind's cells, in kind order."""
    out = {"experiment": r["experiment"], "variant": r["variant"], "eval": r.get("eval") or "–"}
    for kind in all_kinds():
        out.update(kind.cells(r))
    out[SEEDS_COLUMN] = seeds_cell(r)
    out["⚠ not current"] = r.get("stale") or "–"
    return out


def columns(rows: list[dict[str, str]]) -> list[str]:
    """The columns worth showing: a kind's optional ones empty in every row are left out."""
    optional = {"⚠ not current", SEEDS_COLUMN, *(c for k in all_kinds() for c in k.optional)}
    several = "eval" in rows[0] and len({r["eval"] for r in rows}) > 1  # else the eval is known
    return [c for c in rows[0] if (c not in optional or any(r[c] != "–" for r in rows))
            and (c != "eval" or several)]


def markdown(rows: list[dict[str, str]], empty: str = "(no experiments)") -> str:
    """A GitHub-flavoured Markdown table of ``rows`` (see ``columns``)."""
    if not rows:
        return f"| {empty} |\n|---|"
    cols = columns(rows)

    def line(values: list[str]) -> str:
        return "| " + " | ".join(v.replace("|", "\\|").replace("\n", " ") for v in values) + " |"

    return "\n".join([line(cols), "|" + "---|" * len(cols),
                      *(line([r[c] for c in cols]) for r in rows)])


def render(df: Any, fmt: str, human: list[dict[str, str]]) -> str:
    """``md``: the human table; ``csv`` / ``json``: every raw column, one record per row."""
    if fmt == "csv":
        return df.write_csv()
    if fmt == "json":
        records = [{**r, "axes": json.loads(r["axes"]),
                    "per_seed": json.loads(r["per_seed"]) if r.get("per_seed") else None}
                   for r in df.to_dicts()]
        return json.dumps(records, indent=2, ensure_ascii=False) + "\n"
    return markdown(human) + "\n"


def show(source: Source, files: list[str] | None = None, fmt: str = "md") -> str:
    df = table(source, files)
    return render(df, fmt, [cells(r) for r in df.to_dicts()])


def results_table(root: Path, files: list[str] | None = None) -> str:
    """The Markdown results table of the workspace (``emx run`` prints it at the end)."""
    return show(Source(root), files).rstrip("\n")
