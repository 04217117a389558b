"""sae-lens's registry of pretrained SAEs, read offline, and what ``emx check`` asks of it.

The registry is the ``pretrained_saes.yaml`` that ships inside the installed sae-lens
package (the file ``sae_lens.loading.pretrained_saes_directory`` reads). It is found with
``importlib.util.find_spec``, which locates the package without importing it, so the CLI
never imports sae-lens (or torch); the YAML is parsed once per process.

Each SAE's hook is parsed from its registry id and path (``blocks.15.hook_resid_post``,
``resid_post_layer_15_trainer_1``, ``layer_12/width_16k/canonical``, ``l16r_8x``): the
residual-stream site and block. Diff and steer read the residual stream *after* block L, so
``hook_resid_post`` at L is layer L and ``hook_resid_pre`` at L is layer L - 1; attention,
MLP, transcoder and ``hook_z`` SAEs are refused. The sae stage checks the loaded SAE's own
``hook_name`` again at run time.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REGISTRY_FILE = "pretrained_saes.yaml"
NEURONPEDIA = "https://www.neuronpedia.org/"
# Files of an sae-lens SAE folder (``SAE.save_model`` / ``save_inference_model``).
SAE_CONFIG = "cfg.json"
SAE_WEIGHTS = "sae_weights.safetensors"


@dataclass(frozen=True)
class Release:
    name: str
    model: str
    repo_id: str
    saes: dict[str, dict[str, Any]]  # id -> its registry entry (path, neuronpedia, ...)


def registry_path() -> Path | None:
    """The installed sae-lens's ``pretrained_saes.yaml``, or None when sae-lens is absent."""
    try:
        spec = importlib.util.find_spec("sae_lens")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / REGISTRY_FILE
        if path.is_file():
            return path
    return None


@functools.cache
def releases() -> dict[str, Release]:
    """Every release of the registry (empty when sae-lens is not installed)."""
    import yaml

    path = registry_path()
    if path is None:
        return {}
    SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader is ~5x faster
    with path.open(encoding="utf-8") as f:
        data = yaml.load(f, Loader=SafeLoader)
    out: dict[str, Release] = {}
    for name, value in (data or {}).items():
        if not isinstance(value, dict):
            continue
        saes = {str(s["id"]): s for s in value.get("saes") or [] if isinstance(s, dict)
                and "id" in s}
        out[str(name)] = Release(str(name), str(value.get("model", "")),
                                 str(value.get("repo_id", "")), saes)
    return out


# --------------------------------------------------------------------------- hooks

_NOT_RESIDUAL = ("transcoder", "clt", "attn", "att-", "-att", "mlp", "hook_z", "skip")


@dataclass(frozen=True)
class Hook:
    """Where an SAE reads: ``site`` (``resid_post``, ``resid_pre``, ``attn_out``...; None
    when the registry does not say) at block ``block`` (None when unknown)."""

    site: str | None
    block: int | None

    @property
    def layer(self) -> int | None:
        """The layer diff and steer read (the residual after that block), when residual."""
        if self.block is None or self.site not in (None, "resid_post", "resid_pre"):
            return None
        return self.block - 1 if self.site == "resid_pre" else self.block

    def problem(self) -> str | None:
        """Why diff and steer cannot use an SAE at this hook, or None."""
        if self.site not in (None, "resid_post", "resid_pre"):
            return (f"it reads `{self.site}`, not the residual stream; diff and steer need a "
                    "residual-stream SAE (resid_post or resid_pre)")
        if self.block is None:
            return "its layer cannot be read from the registry"
        if self.site == "resid_pre" and self.block == 0:
            return "it reads the embeddings (hook_resid_pre of block 0), not a block's output"
        return None


def parse_hook(text: str, release: str = "") -> Hook:
    """The hook an SAE's registry id/path (or an sae-lens ``hook_name``) names."""
    m = re.search(r"blocks\.(\d+)\.hook_([a-z_]+?)(?:_\d+)?(?:__|$|\.)", text)
    if m:
        return Hook(m.group(2), int(m.group(1)))
    m = re.search(r"(resid_post|resid_pre|resid_mid|attn_out|mlp_out)_layer_(\d+)", text)
    if m:
        return Hook(m.group(1), int(m.group(2)))
    m = re.match(r"l(\d+)([ram])(?:_|$)", text, re.IGNORECASE)  # Llama Scope: l16r_8x
    if m:
        return Hook({"r": "resid_post", "a": "attn_out", "m": "mlp_out"}[m.group(2).lower()],
                    int(m.group(1)))
    m = re.search(r"(?:^|[/_.-])(?:layer|L)_?(\d+)(?:[/_.]|$)", text)
    block = int(m.group(1)) if m else None
    hay = f"{release} {text}".lower()
    if any(word in hay for word in _NOT_RESIDUAL):
        site = next(s for s, words in (
            ("transcoder", ("transcoder", "clt", "skip")), ("attn_out", ("attn", "att-", "-att")),
            ("mlp_out", ("mlp",)), ("z", ("hook_z",))) if any(w in hay for w in words))
        return Hook(site, block)
    if "resid_pre" in hay:
        return Hook("resid_pre", block)
    return Hook("resid_post" if "res" in hay else None, block)


def registry_hook(release: str, sae_id: str) -> Hook:
    entry = releases()[release].saes[sae_id]
    if isinstance(entry.get("hook_name"), str):
        return parse_hook(entry["hook_name"], release)
    hook = parse_hook(sae_id, release)
    if hook.block is None or hook.site is None:
        from_path = parse_hook(str(entry.get("path", "")), release)
        hook = Hook(hook.site or from_path.site,
                    hook.block if hook.block is not None else from_path.block)
    return hook


def neuronpedia_url(release: str, sae_id: str, latent: int | None = None) -> str | None:
    """The Neuronpedia page of a registry SAE (of one latent when given), if it has one."""
    rel = releases().get(release)
    np_id = (rel.saes.get(sae_id) or {}).get("neuronpedia") if rel else None
    if not isinstance(np_id, str) or not np_id:
        return None
    return NEURONPEDIA + np_id + ("" if latent is None else f"/{latent}")


# --------------------------------------------------------------------------- checks


def release_problem(release: str) -> tuple[str, str | None] | None:
    """An unknown release, with the nearest names."""
    from emdsl.diagnostics import did_you_mean

    known = releases()
    if not known:
        return ("sae-lens is not installed, so its registry of pretrained SAEs cannot be read",
                "install sae-lens (`pip install sae-lens`)")
    if release in known:
        return None
    return (f"sae-lens's registry has no release `{release}`",
            did_you_mean(release, known) or "see sae-lens's pretrained_saes.yaml")


def id_problem(release: str, sae_id: str) -> tuple[str, str | None] | None:
    from emdsl.diagnostics import did_you_mean

    saes = releases()[release].saes
    if sae_id in saes:
        return None
    return (f"release `{release}` has no SAE `{sae_id}` ({len(saes)} SAEs)",
            did_you_mean(sae_id, saes))


def same_model(name: str, registry_model: str, repo_id: str = "") -> bool:
    """Does ``hf(name)`` name the registry's model? (its HF repo, or the TransformerLens short
    name sae-lens uses, e.g. ``gemma-2-2b`` for ``google/gemma-2-2b``)."""
    def norm(s: str) -> str:
        return s.strip().lower()

    short = norm(name).rsplit("/", 1)[-1]
    want = norm(registry_model)
    return norm(name) == want or short == want.rsplit("/", 1)[-1]


def model_problem(base: dict[str, Any] | None, release: str) -> tuple[str, str] | None:
    """The experiment's base model is not the model the release's SAEs were trained on."""
    rel = releases().get(release)
    if rel is None or not base:
        return None
    if base["type"] == "embedded":
        return (f"pretrained SAEs are not available for the embedded model `{base['name']}`: "
                f"release `{release}` was trained on {rel.model}",
                f"use `base = hf(\"{rel.model}\")`, or train one with `sae = sae(layer=...)`")
    if base["type"] == "hf" and not same_model(base["name"], rel.model, rel.repo_id):
        return (f"release `{release}` was trained on {rel.model}, but the base model is "
                f"{base['name']}",
                f"use `base = hf(\"{rel.model}\")`, or a release for {base['name']}")
    return None  # a local folder: its model cannot be told from here


def releases_for(model_name: str) -> list[str]:
    return sorted(r.name for r in releases().values() if same_model(model_name, r.model))


# --------------------------------------------------------------------------- saved folders


def saved_problem(folder: Path) -> tuple[str, str] | None:
    """Why ``folder`` is not an sae-lens SAE folder, or None."""
    if not folder.is_dir():
        return (f"`{folder.name}` is not a folder", "point `saved(...)` at an sae-lens SAE "
                f"folder ({SAE_CONFIG} + {SAE_WEIGHTS})")
    missing = [f for f in (SAE_CONFIG, SAE_WEIGHTS) if not (folder / f).is_file()]
    if missing:
        return (f"`{folder.name}` is not an sae-lens SAE folder: {', '.join(missing)} missing",
                "write one with sae-lens's `SAE.save_model(path)`, or point at an sae stage's "
                "output folder")
    hook = saved_hook(folder)
    problem = hook.problem() if hook else f"{SAE_CONFIG} names no hook_name"
    if problem:
        return (f"the SAE in `{folder.name}` cannot be used: {problem}",
                "use an SAE of the residual stream (hook_resid_post)")
    return None


def saved_config(folder: Path) -> dict[str, Any]:
    try:
        cfg = json.loads((folder / SAE_CONFIG).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return cfg if isinstance(cfg, dict) else {}


def saved_hook(folder: Path) -> Hook | None:
    """The hook of a saved SAE (its cfg.json's ``metadata.hook_name``, or ``hook_name``)."""
    cfg = saved_config(folder)
    meta = cfg.get("metadata") if isinstance(cfg.get("metadata"), dict) else {}
    name = meta.get("hook_name") or cfg.get("hook_name")
    return parse_hook(name) if isinstance(name, str) else None


# --------------------------------------------------------------------------- the layer


def sae_layer(spec: dict[str, Any], root: Path | None) -> int | None:
    """The residual layer an SAE spec reads: given (``sae``), from the registry
    (``pretrained``), or from a saved folder's cfg.json (``saved``; needs the project root)."""
    if spec.get("layer") is not None:
        return int(spec["layer"])
    if spec["type"] == "pretrained" and spec["release"] in releases() \
            and spec["id"] in releases()[spec["release"]].saes:
        return registry_hook(spec["release"], spec["id"]).layer
    if spec["type"] == "saved" and root is not None:
        hook = saved_hook(root / spec["path"])
        return hook.layer if hook else None
    return None
