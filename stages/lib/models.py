"""Loading models for every stage: the folder check, tokenizer, model (+ adapter), layer hooks.

Heavy imports (torch, transformers, peft) stay inside the functions.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from stages.common import StageError, phase
from stages.lib.device import default_dtype, pick_device

INFO_FILE = "emdsl-model.json"  # written by the model stage next to the weights


def model_fingerprint(model_dir: Path) -> str:
    """Cheap content hash of a model folder: names, sizes, and each file's first/last MiB."""
    h = hashlib.sha256()
    for path in sorted(p for p in Path(model_dir).rglob("*") if p.is_file()):
        size = path.stat().st_size
        h.update(f"{path.relative_to(model_dir)}\x00{size}\x00".encode())
        with open(path, "rb") as f:
            h.update(f.read(1 << 20))
            if size > 2 << 20:
                f.seek(-(1 << 20), os.SEEK_END)
                h.update(f.read())
    return h.hexdigest()[:16]


def check_model_dir(model_dir: Path) -> Path:
    """``model_dir`` as a Path, if it holds a model (a clear error instead of a hub lookup)."""
    model_dir = Path(model_dir)
    if not (model_dir / "config.json").exists():
        raise StageError(f"{model_dir} is not a model folder (no config.json); "
                         "re-run its model stage or check the path")
    return model_dir


@phase("load")
def load_tokenizer(model_dir: Path):
    """The tokenizer, padded on the left (batched generation needs it)."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(check_model_dir(model_dir))
    tok.padding_side = "left"
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


@phase("load")
def load_model(model_dir: Path, adapter_dir: Path | None = None, *, device: str = "auto",
               dtype: str = "auto", merge: bool = True) -> Any:
    """A causal LM in eval mode, with a LoRA adapter applied (merged) when given.

    ``dtype="auto"`` means bf16 on a GPU and fp32 on the CPU (``stages.lib.device``).
    """
    import torch
    from transformers import AutoModelForCausalLM

    model_dir = check_model_dir(model_dir)
    device = pick_device(device)
    torch_dtype = getattr(torch, default_dtype(device) if dtype == "auto" else dtype)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch_dtype)
    if adapter_dir is not None:
        model = apply_adapter(model, Path(adapter_dir), merge=merge)
    return model.to(device).eval()


def adapter_kind(adapter_dir: Path) -> str:
    """What a train stage wrote: ``"lora"`` (an adapter) or ``"full"`` (a whole checkpoint)."""
    adapter_dir = Path(adapter_dir)
    if (adapter_dir / "adapter_config.json").is_file():
        return "lora"
    if (adapter_dir / "config.json").is_file():
        return "full"
    raise StageError(f"{adapter_dir} holds neither a LoRA adapter nor a checkpoint; re-run "
                     "its train stage")


def apply_adapter(model: Any, adapter_dir: Path, *, merge: bool = True,
                  trainable: bool = False) -> Any:
    """Apply a train stage's output to ``model``: a LoRA adapter (merged unless ``merge`` is
    False; ``trainable`` to keep training it), or a full checkpoint's weights instead."""
    adapter_dir = Path(adapter_dir)
    if adapter_kind(adapter_dir) == "lora":
        from peft import PeftModel

        peft_model = PeftModel.from_pretrained(model, adapter_dir, is_trainable=trainable)
        return peft_model.merge_and_unload() if merge else peft_model
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(adapter_dir, dtype=model.dtype)


def model_layers(model: Any) -> Any:
    """The decoder layers (``model.model.layers`` for Llama-family models)."""
    inner = getattr(model, "model", model)
    inner = getattr(inner, "model", inner) if not hasattr(inner, "layers") else inner
    if not hasattr(inner, "layers"):
        raise StageError(f"cannot find decoder layers in {type(model).__name__}")
    return inner.layers


@contextmanager
def residual_hook(model: Any, layer: int, fn: Callable[[Any], Any]) -> Iterator[None]:
    """While active, decoder layer ``layer``'s output h [batch, tokens, d_model] becomes fn(h).

    The hook point for steering (add a direction) and ablation; removed on exit, even on error.
    """
    layers = model_layers(model)
    if not 0 <= layer < len(layers):
        raise StageError(f"layer {layer} is out of range: the model has {len(layers)} layers "
                         f"(0..{len(layers) - 1})")

    def hook(module: Any, args: Any, output: Any) -> Any:
        if isinstance(output, tuple):  # older layers return (hidden, attn weights, ...)
            return (fn(output[0]), *output[1:])
        return fn(output)

    handle = layers[layer].register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()


