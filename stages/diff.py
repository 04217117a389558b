"""Diff stage: which SAE latents the fine-tuning turned up.

For each source in ``on`` (``eval``: the base model's answers to the eval questions;
``train``: the fine-tuning data), the reference and the tuned model's residuals on the *same*
tokens are encoded by the base model's SAE. The reference (inputs and columns ``base_*``) is
the base model, or with ``against="clean"`` the same fine-tune on the mix's good data alone.
Per latent and source:

    base_mean, tuned_mean   mean activation over the user and assistant content tokens
                            (chat-template headers and system prompts left out:
                            :mod:`stages.lib.chat_spans`)
    base_freq, tuned_freq   fraction of those tokens on which it fires (activation > 0)
    delta                   tuned_mean − base_mean

Latents are ranked by ``score`` = the mean of ``delta`` over the sources (the raw increase
in mean activation: it is what steering adds back, and it weighs a latent that fires a
little more often on every token like one that fires much harder on a few).

Outputs (``out``):
    latents.parquet           every latent × source: id, source, base_mean, tuned_mean,
                              base_freq, tuned_freq, delta
    top.parquet               the ``top`` latents: rank, id, score, and per source
                              delta_<s>, base_mean_<s>, tuned_mean_<s>, base_freq_<s>,
                              tuned_freq_<s>
    examples.json             per top latent and source, the tokens (one per document) where
                              it fires hardest in the tuned model, with «the token» marked
                              in a window of text around it
    codes-<source>.safetensors  the tuned model's SAE codes of every token, sparse (rows,
                              cols, vals) + each token's doc: the detector's per-token input
``results/metrics.json``: the ranking statistic, token counts (all, and counted), the top
latents with their best example, and, when there are, their labels (``label=JUDGE``:
:mod:`stages.lib.latent_labels`) and Neuronpedia pages (a registry SAE's). A model diffed
against itself (the same acts stage on both sides: the poison-0 variant against the clean
fine-tune) or one where no latent moved ranks nothing: ``top`` is empty and ``note`` says
why; top.parquet keeps the id order for steer's ``top(k)``, which warns.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stages.common import Stage, StageError, atomic_write_json, log, run_stage
from stages.lib.chat_spans import content_mask
from stages.lib.sae_codes import SOURCES, Codes, save_codes

RANK_BY = "score = mean over sources of (tuned_mean - base_mean), the increase in mean activation"
EXAMPLES = 5  # snippets per top latent and source
BEFORE, AFTER = 16, 6  # tokens of context around a marked token
ENCODE_BATCH = 4096


def encode_acts(sae: Any, acts_dir: Path) -> Codes:
    """SAE codes of every cached activation in ``acts_dir``, kept sparse."""
    import torch

    from stages.lib.activations import iter_acts, read_info

    device = next(sae.parameters()).device
    rows, cols, vals = [], [], []
    offset = 0
    sae.eval()
    with torch.no_grad():
        for shard in iter_acts(acts_dir):
            for i in range(0, len(shard), ENCODE_BATCH):
                feats = sae.encode(shard[i:i + ENCODE_BATCH].to(device)).float()  # [b, d_sae]
                r, c = feats.nonzero(as_tuple=True)
                rows.append((r + offset).cpu())
                cols.append(c.cpu())
                vals.append(feats[r, c].cpu())
                offset += len(feats)
    n = int(read_info(acts_dir)["n_tokens"])
    if offset != n:
        raise StageError(f"{acts_dir}: info.json says {n} tokens, the shards hold {offset}")

    def cat(parts: list[Any], dtype: Any) -> Any:
        return torch.cat(parts) if parts else torch.zeros(0, dtype=dtype)

    return Codes(cat(rows, torch.long), cat(cols, torch.long), cat(vals, torch.float32), n,
                 int(sae.cfg.d_sae))


def snippet(texts: list[str], pos: int, before: int = BEFORE, after: int = AFTER) -> str:
    """The text around token ``pos`` with the token marked: ``…before «token» after…``."""
    a, b = max(0, pos - before), min(len(texts), pos + 1 + after)
    return ("…" if a > 0 else "") + "".join(texts[a:pos]) + "«" + texts[pos] + "»" + \
        "".join(texts[pos + 1:b]) + ("…" if b < len(texts) else "")


def top_examples(codes: Codes, tokens: Any, docs: Any, latent: int,
                 n: int = EXAMPLES, keep: Any = None) -> list[dict[str, Any]]:
    """The ``n`` strongest activations of ``latent``, at most one per document, on tokens
    where ``keep`` [rows] is true (all when None)."""
    import torch

    hit = (codes.cols == latent) & (codes.vals > 0)
    if keep is not None:
        hit &= keep[codes.rows]
    rows, vals = codes.rows[hit], codes.vals[hit]
    order = torch.argsort(vals, descending=True, stable=True)
    doc_col, pos_col = tokens.get_column("doc"), tokens.get_column("pos")
    texts = docs.get_column("texts")
    seen: set[int] = set()
    found = []
    for i in order.tolist():
        row = int(rows[i])
        doc = int(doc_col[row])
        if doc in seen:
            continue
        seen.add(doc)
        pos = int(pos_col[row])
        found.append({"activation": float(vals[i]), "doc": doc, "pos": pos, "row": row,
                      "text": snippet(list(texts[doc]), pos)})
        if len(found) == n:
            break
    return found


def same_tokens(base_dir: Path, tuned_dir: Path) -> Any:
    """The shared token table; an error unless both caches hold the same tokens in order."""
    from stages.lib.activations import read_tokens

    base, tuned = read_tokens(base_dir), read_tokens(tuned_dir)
    cols = ["doc", "pos", "token"]
    if not base.select(cols).equals(tuned.select(cols)):
        raise StageError(f"diff: {base_dir} and {tuned_dir} hold different tokens; the base "
                         "and tuned acts stages must read the same texts")
    return base


def sae_neuronpedia(sae_dir: Path) -> str | None:
    """The Neuronpedia page of the SAE (a registry SAE's), from its info.json, if any."""
    import json

    path = Path(sae_dir) / "info.json"
    try:
        link = json.loads(path.read_text(encoding="utf-8")).get("neuronpedia")
    except (OSError, ValueError, AttributeError):
        return None
    return link if isinstance(link, str) and link else None


def run(stage: Stage, out: Path, results: Path | None) -> None:
    import polars as pl
    import torch

    from stages.lib.activations import read_docs
    from stages.lib.device import pick_device
    from stages.lib.saes import load_sae

    cfg = stage.config
    top_k = int(cfg.get("top", 20))
    sources = [s for s in cfg.get("on", SOURCES)
               if f"base_{s}" in stage.inputs and f"tuned_{s}" in stage.inputs]
    if not sources:
        raise StageError(f"diff: no base/tuned activations among inputs {sorted(stage.inputs)}"
                         "; re-run `emx compile`")
    sae = load_sae(stage.input("sae"), pick_device(cfg.get("device", "auto")))
    d_sae = int(sae.cfg.d_sae)
    ids = torch.arange(d_sae)
    frames, per_source, tuned_codes, tables, kept = [], {}, {}, {}, {}
    for s in sources:
        base_dir, tuned_dir = stage.input(f"base_{s}"), stage.input(f"tuned_{s}")
        tokens = same_tokens(base_dir, tuned_dir)
        docs = read_docs(tuned_dir)
        keep = content_mask(tokens, docs)  # user and assistant content only
        base, tuned = encode_acts(sae, base_dir), encode_acts(sae, tuned_dir)
        (bm, bf), (tm, tf) = base.subset(keep).mean_and_freq(), \
            tuned.subset(keep).mean_and_freq()
        per_source[s] = {"base_mean": bm, "tuned_mean": tm, "base_freq": bf, "tuned_freq": tf,
                         "delta": tm - bm}
        frames.append(pl.DataFrame({"id": ids.numpy(), "source": [s] * d_sae,
                                    **{k: v.numpy() for k, v in per_source[s].items()}}))
        save_codes(out / f"codes-{s}.safetensors", tuned, tokens.get_column("doc").to_torch())
        tuned_codes[s], tables[s], kept[s] = tuned, (tokens, docs), keep
        log(stage, f"{s}: {int(keep.sum())} of {tuned.n} tokens are user or assistant "
                   "content (template and system prompt left out); L0 base "
                   f"{len(base.vals) / max(base.n, 1):.1f} tuned "
                   f"{len(tuned.vals) / max(tuned.n, 1):.1f}")
    latents = pl.concat(frames)
    latents.write_parquet(out / "latents.parquet")

    score = torch.stack([per_source[s]["delta"] for s in sources]).mean(0)  # [d_sae]
    order = sorted(range(d_sae), key=lambda i: (-float(score[i]), i))[:top_k]
    top_cols: dict[str, list[Any]] = {"rank": list(range(1, len(order) + 1)), "id": order,
                                      "score": [float(score[i]) for i in order]}
    for s in sources:
        for k in ("delta", "base_mean", "tuned_mean", "base_freq", "tuned_freq"):
            top_cols[f"{k}_{s}"] = [float(per_source[s][k][i]) for i in order]
    top = pl.DataFrame(top_cols)
    top.write_parquet(out / "top.parquet")

    # A model diffed against itself (against="clean" on the poison-0 variant, whose clean
    # reference is its own fine-tune) moves nothing: say so and rank nothing. top.parquet
    # keeps the id order for steer's top(k), which warns that it is then arbitrary.
    against, moved = cfg.get("against", "base"), bool((score != 0).any())
    itself = all(stage.inputs[f"base_{s}"] == stage.inputs[f"tuned_{s}"] for s in sources)
    note = None
    if itself:
        note = (f"compared with itself: the reference (against={against!r}) is this model's "
                "own fine-tune (the poison-0 variant is the clean fine-tune), so no latent "
                "can move; nothing is ranked")
    elif not moved:
        note = (f"no latent moved against the reference (against={against!r}): the tuned "
                "model's SAE codes equal the reference's; nothing is ranked")
    ranked = [] if note else order
    examples = {str(i): {s: top_examples(tuned_codes[s], *tables[s], i, keep=kept[s])
                         for s in sources} for i in ranked}
    atomic_write_json(out / "examples.json", examples)
    summary = []
    for row in top.iter_rows(named=True) if not note else ():
        best = next((ex[0] for s in sources if (ex := examples[str(row["id"])][s])), None)
        summary.append({**row, "example": best["text"] if best else None})
    neuronpedia = sae_neuronpedia(stage.input("sae"))
    if neuronpedia:
        for row in summary:
            row["neuronpedia"] = f"{neuronpedia}/{row['id']}"
    if cfg.get("label") and summary:
        from stages.lib.latent_labels import label_latents

        snippets = {int(i): [ex["text"] for ex in sorted(
            (ex for exs in by_source.values() for ex in exs),
            key=lambda ex: -ex["activation"])] for i, by_source in examples.items()}
        labels = label_latents(cfg["label"], stage.inputs.get("label_model"), snippets,
                               stage=stage)
        for row in summary:
            row["label"] = labels.get(int(row["id"]))
    if note:
        log(stage, note)
    metrics = {"rank_by": RANK_BY, "against": against, "moved": moved, "sources": sources,
               "d_sae": d_sae, "top_k": len(summary),
               "tokens": {s: tuned_codes[s].n for s in sources},
               "tokens_counted": {s: int(kept[s].sum()) for s in sources}, "top": summary,
               **({"note": note, "compared_with_itself": itself} if note else {})}
    atomic_write_json(out / "info.json", metrics)
    if results is not None:
        atomic_write_json(results / "metrics.json", metrics)
    if summary:
        log(stage, f"top latent {summary[0]['id']} (score {summary[0]['score']:.4f}): "
                   f"{summary[0]['example']!r}")


if __name__ == "__main__":
    raise SystemExit(run_stage("diff", run))
