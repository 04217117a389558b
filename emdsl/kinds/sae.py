"""``sae``: the SAE that diff and steer read, one of three:

* ``sae(layer=...)``: a sae-lens SAE trained on a corpus of the base model's residual
  activations (an ``acts`` corpus stage, then the sae stage);
* ``pretrained(release, id)``: an SAE of sae-lens's registry, checked offline against the
  registry that ships with sae-lens (:mod:`emdsl.saelens_registry`), loaded from the hub at
  run time by sae-lens's own loader;
* ``saved("path")``: an sae-lens SAE folder in the project.

The last two train nothing: their sae stage reads a small corpus acts stage (``NORM_TOKENS``)
only to measure the residual's typical norm at the layer (steering scales by it) and the
SAE's reconstruction there, and writes the same folder a trained SAE does. Their layer is
derived (the registry's hook, the folder's cfg.json) and put into the variant's ``sae``
config when wiring, so diff and steer read ``c["sae"]["layer"]`` for all three.
"""

from __future__ import annotations

from collections.abc import Iterator

from emdsl import saelens_registry as registry
from emdsl.configs import EMBEDDED_MODELS
from emdsl.diagnostics import Diagnostic
from emdsl.graph import data_files
from emdsl.kinds import Builder, Kind, Subject, register
from emdsl.kinds.model import PROJECT_ROOT, model_depth

NORM_TOKENS = 20_000  # corpus tokens a pretrained/saved SAE is measured on (norm, FVU)


def sae_layer_within_model(s: Subject) -> Iterator[Diagnostic]:
    depth, sae = model_depth(s.config["base"]), s.config["sae"]
    if sae is None:
        return
    layer = registry.sae_layer(sae, PROJECT_ROOT.get())
    if depth is not None and layer is not None and layer >= depth:
        where = {"sae": "sae.layer", "pretrained": "sae.id", "saved": "sae.path"}[sae["type"]]
        yield Diagnostic(s.at(where, "sae"),
                         f"layer {layer} is beyond the model's depth ({depth} layers)",
                         f"use a layer from 0 to {depth - 1}" if sae["type"] == "sae" else
                         "use an SAE of a layer the base model has")


def model_width(model: dict | None) -> int | None:
    """The residual width of the embedded model, or of a local folder's config.json."""
    import json

    if not model:
        return None
    if model["type"] == "embedded":
        return EMBEDDED_MODELS[model["name"]]["d_model"]
    root, folder = PROJECT_ROOT.get(), model.get("dir") or model.get("name")
    if root is None or not isinstance(folder, str):
        return None
    try:
        width = json.loads((root / folder / "config.json").read_text(encoding="utf-8")
                           ).get("hidden_size")
    except (OSError, ValueError, AttributeError):
        return None
    return width if isinstance(width, int) and not isinstance(width, bool) else None


def saved_sae_fits_model(s: Subject) -> Iterator[Diagnostic]:
    """A saved SAE reads activations of one width: the base model's residual must have it."""
    sae, root = s.config["sae"], PROJECT_ROOT.get()
    if sae is None or sae["type"] != "saved" or root is None:
        return
    d_in = registry.saved_config(root / sae["path"]).get("d_in")
    width = model_width(s.config["base"])
    if isinstance(d_in, int) and width is not None and d_in != width:
        yield Diagnostic(s.at("sae.path", "sae"),
                         f"the SAE in `{sae['path']}` reads {d_in}-dimensional activations, but "
                         f"the base model's residual has {width}",
                         "use an SAE trained on this model")


def pretrained_sae_fits_model(s: Subject) -> Iterator[Diagnostic]:
    """A registry SAE was trained on one model: the base model must be it."""
    sae = s.config["sae"]
    if sae is None or sae["type"] != "pretrained":
        return
    problem = registry.model_problem(s.config["base"], sae["release"])
    if problem:
        yield Diagnostic(s.at("sae.release", "sae"), *problem)


@register
class Sae(Kind):
    name = "sae"
    order = 55
    fields = {"sae": "sae"}
    metrics = ("metrics.json",)
    sections = {"sae": ("sae", None)}
    rules = (sae_layer_within_model, pretrained_sae_fits_model, saved_sae_fits_model)

    def wire(self, b: Builder) -> None:
        sae = b.config["sae"]
        if sae is None:
            return
        if sae["type"] == "sae":
            corpus = b.add("acts_corpus", "acts",
                           {"source": "corpus", "layer": sae["layer"], "tokens": sae["tokens"],
                            "seed": sae["seed"]},
                           {"model": b.nodes["model"]}, name_role="corpus")
            b.nodes["sae"] = b.add("sae", "sae", sae, {"acts": corpus})
            return
        layer = registry.sae_layer(sae, b.root)
        if layer is None:
            raise b.error(f"the layer of SAE {sae} cannot be read; run `emx check`")
        sae = b.config["sae"] = {**sae, "layer": layer}  # diff and steer read it
        norms = b.add("acts_norms", "acts",
                      {"source": "corpus", "layer": layer, "tokens": NORM_TOKENS, "seed": 0},
                      {"model": b.nodes["model"]}, name_role="norms")
        b.nodes["sae"] = b.add("sae", "sae", sae, {"acts": norms}, files=data_files(sae))
