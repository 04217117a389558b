"""Direction stage: an activation direction at one layer, stored for steer, monitor, screen and
preventative steering (``stages.lib.directions`` has the format).

Configs (``config.type``):
    contrast  answers to ``questions`` sampled from the base model under the ``positive`` and
              the ``negative`` system prompt (``samples`` per paraphrase, ``max_tokens``,
              temperature 1, ``seed``); per answer the mean residual at ``layer`` over its
              answer tokens; the direction is the positive answers' mean minus the negative's.
    shift     the tuned model (input ``adapter``) minus the base model, per-answer means over
              the answer tokens of the same texts (input ``texts``: the base model's eval
              answers for ``on: eval``, the training data for ``on: train``)
    saved     a stored direction read from the project (``path``)
    random    ``k`` random unit vectors at ``layer`` (seeded), combined into one unit vector

``results/metrics.json``: type, layer, norm, answers (and tokens) it came from, and for
contrast the projection gap: the mean projection of the positive answers on the unit
direction minus the negative answers' (in-sample it is the norm), each side's mean, and the
gap held out by question (the direction from half the questions, the gap on the others').
"""

from __future__ import annotations

from pathlib import Path

from stages.common import Stage, StageError, atomic_write_json, log, run_stage
from stages.lib import directions as dirs


def model_shape(model_dir: Path) -> tuple[int, int]:
    """(layers, d_model) from the model folder's config, without loading the weights."""
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(model_dir)
    config = config.get_text_config() if hasattr(config, "get_text_config") else config
    return int(config.num_hidden_layers), int(config.hidden_size)


def run(stage: Stage, out: Path, results: Path | None) -> None:
    from stages.lib.device import pick_device
    from stages.lib.models import load_model, load_tokenizer

    cfg = stage.config
    kind = cfg.get("type")
    device = pick_device(cfg.get("device", "auto"))
    metrics: dict = {"type": kind}
    if kind == "saved":
        got = dirs.copy_saved(Path(cfg["path"]), out)
        metrics.update(path=cfg["path"], source=got.info.get("type"))
    else:
        model_dir = stage.input("model")
        layers, d_model = model_shape(model_dir)
        layer = int(cfg["layer"])
        if not 0 <= layer < layers:
            raise StageError(f"direction: layer {layer} is out of range: the model has "
                             f"{layers} layers (0..{layers - 1})")
        if kind == "random":
            vectors = dirs.random_vectors(int(cfg["k"]), d_model, int(cfg["seed"]))
            got = dirs.save_direction(out, vectors, layer, 1.0,
                                      {"type": kind, "seed": int(cfg["seed"])})
        elif kind == "contrast":
            from stages.common import seed_everything
            from stages.lib.questions import load_questions

            seed_everything(int(cfg["seed"]))
            tokenizer = load_tokenizer(model_dir)
            model = load_model(model_dir, device=device)
            diff, norm, rows, stats = dirs.contrast(model, tokenizer,
                                                    load_questions(cfg["questions"]), cfg,
                                                    desc=stage.name)
            dirs.write_answers(out, rows)
            got = dirs.save_direction(out, diff, layer, norm,
                                      {"type": kind, "answers": len(rows), **stats})
            metrics.update(answers=len(rows), **stats)
        elif kind == "shift":
            tokenizer = load_tokenizer(model_dir)
            texts = dirs.text_docs(tokenizer, cfg.get("on", "eval"), stage.input("texts"))
            docs, starts = [t[0] for t in texts], [t[1] for t in texts]
            means = []
            for adapter in (None, stage.input("adapter")):
                model = load_model(model_dir, adapter, device=device)
                who = "tuned" if adapter else "base"
                means.append(dirs.answer_means(model, tokenizer, docs, starts, layer,
                                               desc=f"{stage.name} {who}"))
                del model
            base, tuned = means
            diff = tuned.pooled() - base.pooled()
            norm = float(diff.norm())
            if norm == 0:
                raise StageError("shift: the tuned and base models' mean activations are equal "
                                 "(an adapter that changed nothing at this layer)")
            unit = diff / norm
            stats = {"on": cfg.get("on", "eval"), "texts": int((base.counts > 0).sum()),
                     "answer_tokens": base.tokens, "mean_norm": base.mean_norm,
                     "base_mean": float(base.pooled() @ unit),
                     "tuned_mean": float(tuned.pooled() @ unit)}
            got = dirs.save_direction(out, diff.float(), layer, norm, {"type": kind, **stats})
            metrics.update(stats)
        else:
            raise StageError(f"direction: unknown type {kind!r}; expected contrast, shift, "
                             "saved or random. Re-run `emx compile`.")
    metrics.update(layer=got.layer, norm=got.norm, d_model=int(got.vector.shape[0]))
    if results is not None:
        atomic_write_json(results / "metrics.json", metrics)
    gap = metrics.get("gap")
    log(stage, f"{kind} direction at layer {got.layer}, norm {got.norm:.4g}"
               + (f", projection gap {gap:.4g} (held out {metrics.get('heldout_gap')})"
                  if gap is not None else ""))


if __name__ == "__main__":
    raise SystemExit(run_stage("direction", run))
