"""``emx report``: one self-contained HTML page and a Markdown version per experiment file.

Written to ``reports/<file-stem>/`` (``index.html`` with its images inlined as base64 PNG;
``report.md`` next to the same images as files), replaced atomically. Contents: the results
table with each rate's judge and its audit, the figures, the top latents with their strongest
snippets, the answers at both ends of the aligned scale, the judges' audits, and the git
commit and params the results came from. Metrics and curves come from the git-tracked
``results/``; snippets and answers from the cached outs, when they are in the workspace.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from emdsl import failuremap, plots
from emdsl.kinds import FigureData, all_kinds
from emdsl.kinds.generate import split_role
from emdsl.results import Source, cells, collect, columns, markdown, variants

EXTREMES = 2  # answers shown at each end of the aligned scale, per variant
SNIPPETS = 3  # max-activating snippets per latent
LATENTS = 5  # latents listed per diff
ANSWER_CHARS = 400


@dataclass
class Report:
    file: str
    commit: str | None
    dirty: bool
    rows: list[dict[str, Any]]
    figures: list[tuple[str, str, bytes]] = field(default_factory=list)  # name, caption, png
    latents: list[dict[str, Any]] = field(default_factory=list)
    extremes: list[dict[str, Any]] = field(default_factory=list)
    judges: list[dict[str, Any]] = field(default_factory=list)
    params: str = ""
    # the failure-mode map (emdsl.failuremap): its PNG and legend rows, when a stage shifts
    failure_map: tuple[bytes, list[dict[str, Any]]] | None = None


# --------------------------------------------------------------------------- gathering


def _number(text: str) -> Any:
    if text == "":
        return None
    try:
        return float(text)
    except ValueError:
        return {"True": True, "False": False}.get(text, text)


def read_csv(source: Source, path: str) -> list[dict[str, Any]]:
    text = source.read(path)
    if not text:
        return []
    return [{k: _number(v) for k, v in r.items()} for r in csv.DictReader(io.StringIO(text))]


def git_state(root: Path) -> tuple[str | None, bool]:
    """(HEAD's commit, whether the work tree has uncommitted changes); (None, False) off git."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                          text=True)
    if head.returncode != 0:
        return None, False
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                            cwd=root, capture_output=True, text=True)
    return head.stdout.strip(), bool(status.stdout.strip())


def stages_by_role(params: dict[str, Any], file: str) -> list[tuple[str, str, str, str]]:
    """(experiment, variant, role, stage name) for every stage of the file's variants."""
    return [(exp, label, role, stage)
            for _, exp, label, entry in variants(params, [file])
            for role, stage in sorted((entry.get("stages") or {}).items())]


def build(root: Path, file: str, revs: list[str] | None = None) -> Report:
    """Everything the report of one experiment file shows, read from the workspace; with
    ``revs``, the results and figures of each of those git revisions, overlaid (latents and
    answers, which live in cached outputs, come from the last one)."""
    sources = [Source(root, rev) for rev in revs] if revs else [Source(root)]
    source = sources[-1]
    params = source.params()
    stage_cfg = params.get("stages") or {}
    commit, dirty = git_state(root)
    if revs:
        commit, dirty = " vs ".join(s.label for s in sources), False
    report = Report(file, commit, dirty, [])
    roles = stages_by_role(params, file)
    if len(sources) == 1:
        report.rows = collect(source, [file])
        report.figures = figures(report.rows, source, stage_cfg, roles)
    else:
        report.rows, report.figures = overlaid(sources, file)
    seen: set[str] = set()
    tuned = {(e, v, split_role(r)[1]) for e, v, r, _ in roles
             if split_role(r)[0] == "judge_tuned"}
    for exp, label, role, stage in roles:
        entry = stage_cfg.get(stage) or {}
        if stage in seen:
            continue
        own, name = split_role(role)  # a second eval's judges: `judge_tuned@first_plot...`
        if role == "diff":
            seen.add(stage)
            report.latents.append(latents(root, source, exp, label, entry))
        elif own == "judge_tuned" or (own == "judge_base" and (exp, label, name) not in tuned):
            seen.add(stage)
            report.extremes.append(extremes(root, exp, label, role, entry))
        elif role == "judge_train":
            seen.add(stage)
            audit = source.metrics(entry.get("results"))
            report.judges.append({"stage": stage, "audit": audit})
    report.failure_map = map_figure(source, file, report.latents)
    used = {s for *_, s in roles}
    report.params = yaml.safe_dump(
        {"experiments": {file: (params.get("experiments") or {}).get(file)},
         "stages": {s: stage_cfg[s] for s in sorted(used) if s in stage_cfg}},
        sort_keys=False, allow_unicode=True, width=100)
    return report


MAP_CAPTION = ("Failure-mode map: each variant's activation shift per latent or direction "
               "(diff and monitor stages; red up, blue down, blank outside a variant's top "
               "latents), variants ordered by average-linkage clustering of those shifts.")


def map_figure(source: Source, file: str, latent_tables: list[dict[str, Any]]
               ) -> tuple[bytes, list[dict[str, Any]]] | None:
    """The file's failure-mode map as a PNG and its legend (each latent's label, else its
    strongest snippet from the cached outs); None when no stage measured a shift."""
    m = failuremap.failure_map(source, [file])
    if m.empty:
        return None
    png = plots.failure_map(m.variants, m.features, m.values)
    if png is None:
        return None
    snippets = {f"latent {t['id']}": t["snippets"][0]
                for d in latent_tables for t in d["top"] if t["snippets"]}
    return png, failuremap.table_rows(m, {**snippets, **{k: v for k, v in m.labels.items()
                                                         if v and k not in snippets}})


def overlaid(sources: list[Source], file: str
             ) -> tuple[list[dict[str, Any]], list[tuple[str, str, bytes]]]:
    """Rows and figures of several revisions, each labelled ``experiment @ rev``."""
    rows: list[dict[str, Any]] = []
    reads = []
    for s in sources:
        params = s.params()
        rows += [{**r, "experiment": f"{r['experiment']} @ {s.label}"}
                 for r in collect(s, [file])]
        reads.append((s, params.get("stages") or {}, stages_by_role(params, file)))

    def curves(wanted: tuple[str, ...], name: str) -> plots.Curves:
        return {f"{tag} @ {s.label}": found for s, cfg, roles in reads
                for tag, found in read_curves(s, cfg, roles, wanted, name).items()}

    return rows, draw(FigureData(rows, curves))


def read_curves(source: Source, stage_cfg: dict[str, Any], roles: list[tuple[str, ...]],
                wanted: tuple[str, ...], name: str) -> plots.Curves:
    """The ``name`` CSV of every stage playing a ``wanted`` role, labelled by its variant."""
    found: plots.Curves = {}
    for exp, label, role, stage in roles:
        results = (stage_cfg.get(stage) or {}).get("results")
        if role not in wanted or not results:
            continue
        tag = exp if role == "detector" else f"{exp} {label}"
        if role.startswith(("steer_", "monitor_")):
            tag += f" ({role.split('_', 1)[1]} model)"
        if tag not in found:
            found[tag] = read_csv(source, f"{results}/{name}")
    return {k: v for k, v in found.items() if v}


def figures(rows: list[dict[str, Any]], source: Source, stage_cfg: dict[str, Any],
            roles: list[tuple[str, ...]]) -> list[tuple[str, str, bytes]]:
    """(name, caption, PNG) of every kind's figures that there is data for."""
    return draw(FigureData(rows, lambda wanted, name: read_curves(source, stage_cfg, roles,
                                                                  wanted, name)))


def draw(data: FigureData) -> list[tuple[str, str, bytes]]:
    """Every kind's figures, in their order, that have something to draw."""
    drawn = [fig for kind in sorted(all_kinds(), key=lambda k: k.figure_rank)
             for fig in kind.figures(data)]
    return [(n, c, png) for n, c, png in drawn if png]


def latents(root: Path, source: Source, exp: str, label: str, entry: dict[str, Any]
            ) -> dict[str, Any]:
    """The diff's top latents, each with its strongest snippets (all sources)."""
    metrics = source.metrics(entry.get("results")) or {}
    try:
        examples = json.loads((root / entry["out"] / "examples.json").read_text("utf-8"))
    except (OSError, KeyError, json.JSONDecodeError):
        examples = {}
    top = []
    for t in (metrics.get("top") or [])[:LATENTS]:
        found = sorted((ex for exs in (examples.get(str(t["id"])) or {}).values() for ex in exs),
                       key=lambda ex: -ex.get("activation", 0))
        snippets = [ex["text"] for ex in found[:SNIPPETS]] or (
            [t["example"]] if t.get("example") else [])
        top.append({"rank": t.get("rank"), "id": t["id"], "score": t.get("score"),
                    "snippets": snippets, "label": t.get("label"),
                    "neuronpedia": t.get("neuronpedia")})
    return {"experiment": exp, "variant": label, "rank_by": metrics.get("rank_by"), "top": top,
            "note": metrics.get("note")}


def extremes(root: Path, exp: str, label: str, role: str, entry: dict[str, Any]
             ) -> dict[str, Any]:
    """The lowest- and highest-aligned answers of a judge stage (from its cached out)."""
    out = {"experiment": exp, "variant": label, "model": role.removeprefix("judge_"),
           "lowest": [], "highest": [], "note": None}
    path = root / entry.get("out", "") / "scores.parquet"
    if not path.is_file():
        out["note"] = (f"answers not in the workspace ({entry.get('out')}); "
                       "`dvc pull` or `dvc repro` fetches them")
        return out
    import polars as pl

    df = pl.read_parquet(path, columns=["question", "answer", "aligned", "coherent"])
    judged = df.filter(pl.col("aligned").is_not_null())
    if judged.is_empty():
        out["note"] = f"no answer has an aligned score ({df.height} answers, all missing)"
        return out
    # From coherent answers only: the least aligned would otherwise be mostly broken text.
    above = (entry.get("config") or {}).get("coherent_above", 50)
    coherent = judged.filter(pl.col("coherent") > above)
    if coherent.is_empty():
        out["note"] = (f"no judged answer is coherent (coherent > {above}; "
                       f"{judged.height} judged)")
        return out
    out["note"] = None if coherent.height == judged.height else (
        f"from the {coherent.height} coherent answers (coherent > {above}) of "
        f"{judged.height} judged")
    ordered = coherent.sort("aligned").to_dicts()
    low = min(EXTREMES, (len(ordered) + 1) // 2)  # the two ends never share an answer
    out["lowest"] = ordered[:low]
    out["highest"] = ordered[low:][::-1][:EXTREMES]
    return out


# --------------------------------------------------------------------------- rendering


def _esc(v: Any) -> str:
    return html.escape("–" if v is None else str(v))


def _fmt(v: Any) -> str:
    return "–" if v is None else f"{v:.3g}" if isinstance(v, float) else str(v)


def _html_table(rows: list[dict[str, str]]) -> str:
    if not rows:
        return "<p>(none)</p>"
    cols = columns(rows)
    head = "".join(f"<th>{_esc(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{_esc(r[c])}</td>" for c in cols) + "</tr>"
                   for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def judge_rows(report: Report) -> list[dict[str, str]]:
    out = []
    for j in report.judges:
        a = j["audit"] or {}
        published = a.get("published_misaligned") or {}
        out.append({"judge stage": j["stage"],
                    "aligned AUC (held-out themes)": _fmt((a.get("aligned") or {}).get("cv_auc")),
                    "coherent AUC": _fmt((a.get("coherent") or {}).get("cv_auc")),
                    "published misaligned scored < 30": _fmt(
                        published.get("share_aligned_below_30")),
                    "published answers": _fmt(published.get("n"))})
    return out


def answer_rows(e: dict[str, Any]) -> list[dict[str, str]]:
    return [{"end": end, "aligned": _fmt(a["aligned"]), "coherent": _fmt(a["coherent"]),
             "question": a["question"], "answer": _clip(a["answer"])}
            for end in ("lowest", "highest") for a in e[end]]


def latent_rows(d: dict[str, Any]) -> list[dict[str, str]]:
    """One row per top latent; its judge-written label and Neuronpedia page when there are."""
    labels = any(t.get("label") for t in d["top"])
    links = any(t.get("neuronpedia") for t in d["top"])
    return [{"rank": _fmt(t["rank"]), "latent": str(t["id"]), "score": _fmt(t["score"]),
             **({"label": t.get("label") or "–"} if labels else {}),
             **({"Neuronpedia": t.get("neuronpedia") or "–"} if links else {}),
             "max-activating snippets («token»)": " ⏐ ".join(t["snippets"]) or "–"}
            for t in d["top"]]


def _clip(text: str | None) -> str:
    text = (text or "").replace("\n", " ")
    return text if len(text) <= ANSWER_CHARS else text[:ANSWER_CHARS] + "…"


def _provenance(report: Report) -> str:
    commit = report.commit or "(no git commit)"
    return commit + (" + uncommitted changes" if report.dirty else "")


def results_rows(report: Report) -> list[dict[str, str]]:
    return [cells(r) for r in report.rows]


CSS = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:.85em}
th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}img{max-width:100%;border:1px solid #eee}
figure{margin:1em 0}figcaption{font-size:.85em;color:#555}code{font-size:.85em}
pre{background:#f7f7f7;padding:1em;overflow:auto;font-size:.8em}"""


def to_html(report: Report) -> str:
    parts = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
             f"<title>emx report: {_esc(report.file)}</title><style>{CSS}</style></head><body>",
             f"<h1>{_esc(report.file)}</h1>",
             f"<p>git commit <code>{_esc(_provenance(report))}</code></p>",
             "<h2>Results</h2>", _html_table(results_rows(report))]
    if report.figures:
        parts.append("<h2>Figures</h2>")
        for name, caption, png in report.figures:
            data = base64.b64encode(png).decode()
            parts.append(f"<figure id=\"fig-{name}\"><img alt=\"{_esc(caption)}\" "
                         f"src=\"data:image/png;base64,{data}\">"
                         f"<figcaption>{_esc(caption)}</figcaption></figure>")
    if report.failure_map:
        png, legend = report.failure_map
        data = base64.b64encode(png).decode()
        parts += ["<h2 id=\"failure-map\">Failure-mode map</h2>",
                  f"<figure id=\"fig-failure_map\"><img alt=\"{_esc(MAP_CAPTION)}\" "
                  f"src=\"data:image/png;base64,{data}\">"
                  f"<figcaption>{_esc(MAP_CAPTION)}</figcaption></figure>",
                  _html_table([{k: str(v) for k, v in r.items()} for r in legend])]
    if report.latents:
        parts.append("<h2>Top latents</h2>")
        for d in report.latents:
            parts.append(f"<h3>{_esc(d['experiment'])} {_esc(d['variant'])}</h3>"
                         + (f"<p><strong>{_esc(d['note'])}</strong></p>" if d.get("note") else
                            "") + f"<p>ranked by {_esc(d['rank_by'])}</p>"
                         + _html_table(latent_rows(d)))
    if report.extremes:
        parts.append("<h2>Answers at the extremes</h2>")
        for e in report.extremes:
            parts.append(f"<h3>{_esc(e['experiment'])} {_esc(e['variant'])} "
                         f"({_esc(e['model'])} model)</h3>")
            if e["note"]:
                parts.append(f"<p>{_esc(e['note'])}</p>")
            if e["lowest"] or e["highest"]:
                parts.append(_html_table(answer_rows(e)))
    if report.judges:
        parts += ["<h2>Judge audit</h2>", _html_table(judge_rows(report))]
    parts += ["<h2>Params</h2>", f"<details><summary>params.yaml entries of {_esc(report.file)}"
              f"</summary><pre>{_esc(report.params)}</pre></details>", "</body></html>"]
    return "\n".join(parts) + "\n"


def to_markdown(report: Report) -> str:
    parts = [f"# {report.file}", "", f"git commit `{_provenance(report)}`", "", "## Results",
             "", markdown(results_rows(report))]
    if report.figures:
        parts += ["", "## Figures", ""]
        parts += [f"![{caption}]({name}.png)\n\n*{caption}*\n" for name, caption, _
                  in report.figures]
    if report.failure_map:
        parts += ["", "## Failure-mode map", "", f"![{MAP_CAPTION}](failure_map.png)", "",
                  f"*{MAP_CAPTION}*", "",
                  markdown([{k: str(v) for k, v in r.items()} for r in report.failure_map[1]])]
    for d in report.latents:
        parts += ["", f"## Top latents: {d['experiment']} {d['variant']}", "",
                  *([f"**{d['note']}**", ""] if d.get("note") else []),
                  f"Ranked by {d['rank_by']}.", "", markdown(latent_rows(d))]
    for e in report.extremes:
        parts += ["", f"## Answers at the extremes: {e['experiment']} {e['variant']} "
                      f"({e['model']} model)", ""]
        if e["note"]:
            parts += [e["note"], ""]
        if e["lowest"] or e["highest"]:
            parts.append(markdown(answer_rows(e)))
    if report.judges:
        parts += ["", "## Judge audit", "", markdown(judge_rows(report))]
    parts += ["", "## Params", "", "<details><summary>params.yaml entries</summary>", "",
              "```yaml", report.params.rstrip("\n"), "```", "", "</details>"]
    return "\n".join(parts) + "\n"


def write(report: Report, out: Path) -> Path:
    """Write ``index.html``, ``report.md`` and the PNGs into ``out``, replacing it atomically."""
    from stages.common import atomic_dir

    with atomic_dir(out) as tmp:
        (tmp / "index.html").write_text(to_html(report), encoding="utf-8")
        (tmp / "report.md").write_text(to_markdown(report), encoding="utf-8")
        for name, _, png in report.figures:
            (tmp / f"{name}.png").write_bytes(png)
        if report.failure_map:
            (tmp / "failure_map.png").write_bytes(report.failure_map[0])
    return out / "index.html"
