"""Results of compiled experiments, read from the small metrics files git tracks.

``params.yaml`` maps every variant to its stages; judge, diff, steer, realign and judge_train
stages leave ``results/<stage>/metrics.json``. This module joins them into one row per
variant, read from the workspace or, through ``git``, from any revision: no cache pull needed.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import yaml

WORKSPACE = "workspace"

# The table's columns, in order, with their polars dtypes (names of the dtype attributes).
COLUMNS: dict[str, str] = {
    "file": "String", "experiment": "String", "variant": "String", "axes": "String",
    "judge": "String", "model": "String",  # which model the headline columns are about
    "misaligned": "Float64", "ci_low": "Float64", "ci_high": "Float64",
    "coherent": "Float64", "n": "Int64", "n_judged": "Int64", "missing": "Int64",
    "base_misaligned": "Float64", "base_ci_low": "Float64", "base_ci_high": "Float64",
    "top_latents": "String", "steering": "String", "realignment": "String",
    "judge_auc_aligned": "Float64", "judge_auc_coherent": "Float64",
    "judge_published_below_30": "Float64", "audit_kappa": "Float64",
}
KEY = ["file", "experiment", "variant"]


class ResultsError(Exception):
    """A revision or file that cannot be read; the message says which and how to fix it."""


class Source:
    """Where result files come from: the workspace (``rev=None``) or a git revision."""

    def __init__(self, root: Path, rev: str | None = None):
        self.root, self.rev = root, rev
        self.commit = resolve(root, rev) if rev else None
        self.label = f"{rev} ({self.commit[:7]})" if rev and self.commit else WORKSPACE
        self._cache: dict[str, str | None] = {}

    def read_many(self, paths: list[str]) -> dict[str, str | None]:
        """Texts of ``paths`` (relative to the root); None for a file that is not there."""
        todo = [p for p in dict.fromkeys(paths) if p not in self._cache]
        if todo and self.commit:
            self._cache.update(git_show_many(self.root, self.commit, todo))
        for p in todo:
            if not self.commit:
                try:
                    self._cache[p] = (self.root / p).read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError):
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

    def params(self) -> dict[str, Any]:
        text = self.read("params.yaml")
        if text is None:
            where = f"at {self.label}" if self.commit else "in the workspace"
            raise ResultsError(f"no params.yaml {where}; run `emx compile` (and commit it)")
        return yaml.safe_load(text) or {}


def resolve(root: Path, rev: str) -> str:
    """The commit a revision names (a sha, branch, tag, ``HEAD~1`` ...)."""
    r = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
                       cwd=root, capture_output=True, text=True)
    if r.returncode != 0:
        raise ResultsError(f"unknown git revision `{rev}` in {root}; see `git log --oneline`")
    return r.stdout.strip()


def git_show_many(root: Path, commit: str, paths: list[str]) -> dict[str, str | None]:
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
            found[path] = out[pos:pos + size].decode("utf-8", errors="replace")
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


def metrics_path(params: dict[str, Any], stage: str | None) -> str | None:
    entry = (params.get("stages") or {}).get(stage) if stage else None
    if not entry or not entry.get("results"):
        return None
    return f"{entry['results']}/metrics.json"


def collect(source: Source, files: list[str] | None = None) -> list[dict[str, Any]]:
    """One row (see ``COLUMNS``) per variant of the experiments in ``files`` (None: all)."""
    params = source.params()
    found = variants(params, files)
    wanted = [metrics_path(params, s) for *_, e in found for s in (e.get("stages") or {}).values()]
    source.read_many([p for p in wanted if p])

    def metrics(stages: dict[str, str], role: str) -> dict[str, Any] | None:
        path = metrics_path(params, stages.get(role))
        return source.json(path) if path else None

    rows = []
    for file, exp, label, entry in found:
        stages = entry.get("stages") or {}
        base, tuned = metrics(stages, "judge_base"), metrics(stages, "judge_tuned")
        head = tuned if "judge_tuned" in stages else base
        row = {"file": file, "experiment": exp, "variant": label,
               "axes": json.dumps(entry.get("axes") or {}, sort_keys=True),
               "model": "tuned" if "judge_tuned" in stages else "base",
               **fraction(head, ""), **fraction(base, "base_")}
        row.pop("base_coherent")
        head = head or {}
        judge_stage = (params.get("stages") or {}).get(stages.get("judge_tuned")
                                                        or stages.get("judge_base")) or {}
        spec = (judge_stage.get("config") or {}).get("judge")
        row["judge"] = judge_name(spec) if spec else head.get("judge")
        row["n"], row["n_judged"] = head.get("n"), head.get("n_judged")
        row["missing"] = row["n"] - row["n_judged"] if head.get("n_judged") is not None else None
        row["audit_kappa"] = ((head.get("audit") or {}).get("misaligned_label") or {}).get("kappa")
        row["top_latents"] = top_latents(metrics(stages, "diff"))
        row["steering"] = steering({who: metrics(stages, f"steer_{who}")
                                    for who in ("tuned", "base")})
        row["realignment"] = realignment(metrics(stages, "realign"))
        row.update(judge_audit(metrics(stages, "judge_train")))
        rows.append({c: row.get(c) for c in COLUMNS})
    return rows


def fraction(m: dict[str, Any] | None, prefix: str) -> dict[str, Any]:
    m = m or {}
    lo, hi = m.get("misaligned_ci95") or (None, None)
    return {f"{prefix}misaligned": m.get("misaligned_fraction"), f"{prefix}ci_low": lo,
            f"{prefix}ci_high": hi, f"{prefix}coherent": m.get("coherent_fraction")}


def top_latents(m: dict[str, Any] | None, k: int = 3) -> str | None:
    """``"12 (+0.41), 7 (+0.30)"``: the diff's highest-ranked latents and their scores."""
    top = (m or {}).get("top") or []
    return ", ".join(f"{t['id']} ({t['score']:+.3g})" for t in top[:k]) or None


def steering(by_target: dict[str, dict[str, Any] | None]) -> str | None:
    """``"tuned -8→0.10, 8→0.52"``: misaligned fraction per steering coefficient."""
    parts = []
    for who, m in by_target.items():
        points = [f"{p['coef']:g}→{num_cell(p.get('misaligned_fraction'))}"
                  for p in (m or {}).get("coefficients") or []]
        if points:
            parts.append(f"{who} " + ", ".join(points))
    return "; ".join(parts) or None


def realignment(m: dict[str, Any] | None) -> str | None:
    """``"0→0.40, 120→0.05"``: misaligned fraction by good examples seen."""
    points = [f"{p['seen']}→{num_cell(p.get('misaligned_fraction'))}"
              for p in (m or {}).get("checkpoints") or []]
    return ", ".join(points) or None


def judge_name(spec: dict[str, Any]) -> str:
    """A judge as a reader knows it: ``probe(smollm2-135m-instruct, layer 8)``."""
    def model(m: Any) -> str:
        return str(m.get("name") or m.get("dir") or m.get("type")) if isinstance(m, dict) else m

    kind = spec.get("type", "judge")
    args = [model(spec.get("model"))] if spec.get("model") else []
    if kind == "probe":
        args.append(f"layer {spec.get('layer')}")
        if spec.get("labels"):
            args.append(f"distilled from {judge_name(spec['labels'])}")
    return f"{kind}({', '.join(args)})"


def judge_audit(m: dict[str, Any] | None) -> dict[str, Any]:
    """A probe judge's own audit: held-out-theme AUCs, share of published answers below 30."""
    m = m or {}
    published = m.get("published_misaligned") or {}
    return {"judge_auc_aligned": (m.get("aligned") or {}).get("cv_auc"),
            "judge_auc_coherent": (m.get("coherent") or {}).get("cv_auc"),
            "judge_published_below_30": published.get("share_aligned_below_30")}


def num_cell(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}"


def table(source: Source, files: list[str] | None = None):
    """The rows as a polars DataFrame with a fixed schema (typed even when empty)."""
    import polars as pl

    schema = {c: getattr(pl, t) for c, t in COLUMNS.items()}
    return pl.DataFrame(collect(source, files), schema=schema, orient="row")


# --------------------------------------------------------------------------- rendering


def with_ci(value: float | None, lo: float | None, hi: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.2f} [{lo:.2f}, {hi:.2f}]" if lo is not None and hi is not None \
        else f"{value:.2f}"


def judge_cell(r: dict[str, Any]) -> str:
    """The judge's name and, for a probe, its audit: shown next to every misalignment rate."""
    name = r.get("judge") or "–"
    audit = [f"{label} {r[k]:.2f}" for k, label in (
        ("judge_auc_aligned", "AUC"), ("judge_auc_coherent", "coh. AUC"),
        ("judge_published_below_30", "published<30"), ("audit_kappa", "κ"))
        if r.get(k) is not None]
    return name + (f" ({', '.join(audit)})" if audit else "")


def cells(r: dict[str, Any]) -> dict[str, str]:
    """A row as the human table shows it."""
    missing = "–" if r["missing"] is None else f"{r['missing']}/{r['n']}"
    return {
        "experiment": r["experiment"], "variant": r["variant"],
        "base misaligned [95% CI]": with_ci(r["base_misaligned"], r["base_ci_low"],
                                            r["base_ci_high"]),
        "misaligned [95% CI]": (with_ci(r["misaligned"], r["ci_low"], r["ci_high"])
                                if r["model"] == "tuned" else "(base only)"),
        "judge (audit)": judge_cell(r), "coherent": num_cell(r["coherent"]), "missing": missing,
        "top latents": r["top_latents"] or "–",
        "steering": r["steering"] or "–", "re-alignment": r["realignment"] or "–",
    }


OPTIONAL = ("top latents", "steering", "re-alignment")  # dropped when empty in every row


def columns(rows: list[dict[str, str]]) -> list[str]:
    """The columns worth showing: optional ones empty in every row are left out."""
    return [c for c in rows[0] if c not in OPTIONAL or any(r[c] != "–" for r in rows)]


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
        records = [{**r, "axes": json.loads(r["axes"])} for r in df.to_dicts()]
        return json.dumps(records, indent=2, ensure_ascii=False) + "\n"
    return markdown(human) + "\n"


def show(source: Source, files: list[str] | None = None, fmt: str = "md") -> str:
    df = table(source, files)
    return render(df, fmt, [cells(r) for r in df.to_dicts()])


def results_table(root: Path, files: list[str] | None = None) -> str:
    """The Markdown results table of the workspace (``emx run`` prints it at the end)."""
    return show(Source(root), files).rstrip("\n")
