"""``diff``: SAE latents whose activation rises after fine-tuning, with their snippets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from emdsl.diagnostics import Diagnostic
from emdsl.graph import Node, data_files
from emdsl.kinds import Builder, Column, Kind, Subject, VariantResults, needs, register
from emdsl.kinds.generate import checkpoints
from emdsl.kinds.judge_train import judge_input
from emdsl.kinds.train import sft_node


def top_latents(m: dict[str, Any] | None, k: int = 3) -> str | None:
    """``"12 (+0.41), 7 (+0.30)"``: the diff's highest-ranked latents and their scores, each
    with its label when the diff has a labelling judge (``12 (+0.41) “medical dosing”``)."""
    top = (m or {}).get("top") or []
    if m and m.get("compared_with_itself"):
        return "none: compared with itself"  # the poison-0 variant against the clean fine-tune
    if m and m.get("note") and not top:
        return "none: no latent moved"
    return ", ".join(f"{t['id']} ({t['score']:+.3g})" + (f" “{t['label']}”" if t.get("label")
                                                          else "")
                     for t in top[:k]) or None


def labels_need_a_writer(s: Subject) -> Iterator[Diagnostic]:
    """A probe judge scores answers; it cannot write a latent's label."""
    label = (s.config["diff"] or {}).get("label")
    if label and label["type"] not in ("local", "openai"):
        yield Diagnostic(s.at("diff.label", "diff"),
                         f"a {label['type']} judge cannot write latent labels: it only scores "
                         "answers", "use `label=` with a `local(...)` or `openai(...)` judge")


def clean_diff_needs_mix(s: Subject) -> Iterator[Diagnostic]:
    """The clean reference of ``diff(against="clean")`` re-tunes on the mix's good data."""
    diff, data, train = (s.config[k] for k in ("diff", "data", "train"))
    if diff is not None and diff["against"] == "clean" and not (
            (data or {}).get("type") == "mix" and (train or {}).get("type") == "sft"):
        yield Diagnostic(s.at("diff.against", "diff"),
                         '`diff(against="clean")` needs `data = mix(...)` and `train = sft(...)`',
                         "the clean reference is the same fine-tune on the mix's good data "
                         '(poison 0); use `against="base"` otherwise')


@register
class Diff(Kind):
    name = "diff"
    order = 60
    fields = {"diff": "diff"}
    metrics = ("metrics.json",)
    columns = (Column("top_latents", "String", compared="top latents"),
               Column("top_latent_page", "String"))
    optional = ("top latents", "top latent on Neuronpedia")
    sections = {"diff": ("diff", None)}
    rules = (needs("diff", "sae", "train",
                   why="diffing compares the SAE latents of base and tuned model"),
             clean_diff_needs_mix, labels_need_a_writer)

    def wire(self, b: Builder) -> None:
        c = b.config
        sae, adapter = b.nodes.get("sae"), b.nodes.get("adapter")
        if c["diff"] is None or sae is None or adapter is None:
            return
        # The reference side of the diff (its inputs keep the name ``base_*``): the base
        # model, or the same fine-tune on the clean mix, which the poison-0 variant of a
        # sweep shares (same config, same key).
        reference, reference_name = None, "base"
        if c["diff"]["against"] == "clean":
            clean = b.add("data_clean", "data", {**c["data"], "poison": 0.0}, {},
                          files=data_files(c["data"]))
            reference = sft_node(b, "train_clean", c["train"], clean)
            reference_name = "clean"
        cfg = c["diff"]  # ``label`` is not in it while unset (``omit``): keys stay as before
        # The tuned side: the final adapter, then each sft(checkpoints=[...]) step's
        # (roles ``acts_step<s>_<source>``, ``diff_step<s>``; the reference side is shared).
        tuned = [("tuned", adapter, "diff")] + [(f"step{s}", node, f"diff_step{s}")
                                                 for s, node in checkpoints(b)]
        for who_t, adapter_t, role in tuned:
            acts: dict[str, Node | None] = {"sae": sae}
            for source in c["diff"]["on"]:
                feed = {"eval": b.nodes.get("answers_base"),
                        "train": b.nodes.get("data")}[source]
                if feed is None:
                    continue
                for who, extra, label in (("base", reference, reference_name),
                                          (who_t, adapter_t, who_t)):
                    side = "base" if who == "base" else "tuned"
                    acts[f"{side}_{source}"] = b.add(
                        f"acts_{who}_{source}", "acts",
                        {"source": source, "layer": c["sae"]["layer"]},
                        {"model": b.nodes["model"], "adapter": extra, "texts": feed},
                        name_role=f"{label}-{source}")
            if cfg.get("label"):
                acts["label_model"] = judge_input(b, cfg["label"], "label")
            b.nodes[role] = b.add(role, "diff", cfg, acts,
                                  name_role=None if who_t == "tuned" else who_t)

    def fill(self, v: VariantResults) -> dict[str, Any]:
        m = v.metrics("diff") or {}
        page = next((t.get("neuronpedia") for t in (m.get("top") or [])[:1]), None)
        return {"top_latents": top_latents(m or None), "top_latent_page": page}

    def cells(self, r: dict[str, Any]) -> dict[str, str]:
        return {"top latents": r["top_latents"] or "–",
                "top latent on Neuronpedia": r.get("top_latent_page") or "–"}

    def signature(self, v: VariantResults) -> dict[str, float]:
        """Each top latent's score (its rise in mean activation), for the failure-mode map;
        nothing when no latent moved (the tuned model was its own reference)."""
        m = v.metrics("diff") or {}
        if m.get("moved") is False or m.get("compared_with_itself"):
            return {}
        return {f"latent {t['id']}": float(t["score"]) for t in m.get("top") or []
                if t.get("score") is not None}

    def signature_labels(self, v: VariantResults) -> dict[str, str]:
        return {f"latent {t['id']}": str(t.get("label") or t.get("example") or "")
                for t in (v.metrics("diff") or {}).get("top") or []
                if t.get("label") or t.get("example")}
