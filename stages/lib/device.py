"""Where a stage computes: the device, its dtype, a batch size that fits, and multi-GPU launch.

* ``pick_device("auto")``: cuda > mps > cpu.
* ``default_dtype``: bf16 on a GPU that has it (fp16 on older cards and on mps), fp32 on the CPU.
* ``fit_batch_size``: sequences per batch from the free accelerator memory and the KV cache a
  sequence needs (pure arithmetic, unit-tested with made-up numbers); ``auto_batch_size``
  feeds it the model's shape and ``torch.cuda.mem_get_info``.
* ``accelerate_command``: how the train stage re-runs itself under ``accelerate launch`` when
  more than one GPU is visible (data-parallel; each rank sees ``batch / N`` examples).

torch is imported inside functions only: the pure helpers run without it.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any

DTYPE_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}
MAX_BATCH = 512  # beyond this a decode step is compute-bound: larger batches barely help


def pick_device(device: str = "auto") -> str:
    """``device`` itself, or for ``"auto"`` the best present: cuda > mps > cpu."""
    if device != "auto":
        return device
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def default_dtype(device: str) -> str:
    """bf16 on a CUDA GPU with bf16 support (fp16 otherwise, and on mps); fp32 on the CPU."""
    if device.startswith("cuda"):
        import torch

        return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    if device.startswith("mps"):
        return "float16"
    return "float32"


@dataclass(frozen=True)
class ModelShape:
    """What a sequence's memory depends on (read from a transformers config)."""

    layers: int
    hidden: int
    intermediate: int
    kv_heads: int
    head_dim: int
    vocab: int

    @classmethod
    def of(cls, config: Any) -> ModelShape:
        c = config.get_text_config() if hasattr(config, "get_text_config") else config
        heads = int(c.num_attention_heads)
        return cls(layers=int(c.num_hidden_layers), hidden=int(c.hidden_size),
                   intermediate=int(getattr(c, "intermediate_size", 4 * c.hidden_size)),
                   kv_heads=int(getattr(c, "num_key_value_heads", None) or heads),
                   head_dim=int(getattr(c, "head_dim", None) or c.hidden_size // heads),
                   vocab=int(c.vocab_size))


def sequence_bytes(shape: ModelShape, seq_len: int, dtype_bytes: int) -> int:
    """Peak memory one sequence of ``seq_len`` tokens adds while sampling.

    KV cache: 2 (K and V) × layers × kv_heads × head_dim × seq_len × dtype bytes.
    Transient prefill activations of one layer: seq_len × (4 × hidden + 2 × intermediate).
    Last-position logits in fp32, plus the sort/softmax copies of top-p: 3 × vocab × 4.
    """
    kv = 2 * shape.layers * shape.kv_heads * shape.head_dim * seq_len * dtype_bytes
    act = seq_len * (4 * shape.hidden + 2 * shape.intermediate) * dtype_bytes
    logits = 3 * shape.vocab * 4
    return kv + act + logits


def fit_batch_size(free_bytes: int, per_sequence: int, *, fraction: float = 0.8,
                   reserve: int = 1 << 30, cap: int = MAX_BATCH) -> int:
    """Sequences that fit in ``fraction`` of the free memory after ``reserve`` bytes (for the
    allocator, compiled graphs and the CUDA context): a multiple of 8 when ≥ 8, else ≥ 1."""
    budget = int(free_bytes * fraction) - reserve
    n = max(1, min(cap, budget // max(per_sequence, 1)))
    return n - n % 8 if n >= 8 else n


def auto_batch_size(model: Any, seq_len: int, device: str) -> int | None:
    """A batch size for sampling ``seq_len``-token sequences on a CUDA ``device``, from its
    free memory (the weights are already loaded, so they are not counted twice); None on
    other devices (the caller keeps its default)."""
    if not device.startswith("cuda"):
        return None
    import torch

    free, _ = torch.cuda.mem_get_info(torch.device(device))
    dtype = str(next(model.parameters()).dtype).removeprefix("torch.")
    return fit_batch_size(free, sequence_bytes(ModelShape.of(model.config), seq_len,
                                               DTYPE_BYTES.get(dtype, 4)))


# --------------------------------------------------------------------------- multi-GPU


def visible_gpus() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def launched_by_accelerate() -> bool:
    """Inside ``accelerate launch`` / torchrun (each rank has LOCAL_RANK and WORLD_SIZE)."""
    return "LOCAL_RANK" in os.environ or "WORLD_SIZE" in os.environ


def accelerate_command(module: str, args: list[str], gpus: int,
                       python: str = sys.executable) -> list[str]:
    """The command that reruns ``python -m module args`` on ``gpus`` GPUs, one process each."""
    if gpus < 2:
        raise ValueError(f"accelerate launch is for 2 or more GPUs, got {gpus}")
    return [python, "-m", "accelerate.commands.launch", "--multi_gpu",
            "--num_processes", str(gpus), "--num_machines", "1", "--mixed_precision", "no",
            "--dynamo_backend", "no", "-m", module, *args]


def relaunch_on_gpus(module: str, argv: list[str] | None = None) -> int | None:
    """Rerun this stage under ``accelerate launch`` when several GPUs are visible; returns the
    launched command's exit code, or None to run here (one GPU or none, already a rank, or
    EMX_SINGLE_GPU=1)."""
    if os.environ.get("EMX_SINGLE_GPU") or launched_by_accelerate():
        return None
    gpus = visible_gpus()
    if gpus < 2:
        return None
    import subprocess

    cmd = accelerate_command(module, sys.argv[1:] if argv is None else argv, gpus)
    print(f"{module}: {gpus} GPUs visible, running `{' '.join(cmd[1:])}`", file=sys.stderr,
          flush=True)
    return subprocess.call(cmd)


def rank() -> int:
    """This process's rank under a distributed launcher (0 when not distributed)."""
    return int(os.environ.get("RANK", "0"))


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def per_device_batch(batch: int, world: int | None = None) -> int:
    """Each rank's share of the config's (global) ``batch``, so N GPUs take the same optimiser
    steps as one: ``batch / N`` (at least 1; a remainder is dropped and said so)."""
    world = world_size() if world is None else world
    if world > 1 and batch % world:
        print(f"batch {batch} does not divide over {world} GPUs; each takes {batch // world or 1}",
              file=sys.stderr)
    return max(1, batch // world)


def default_batch_size(device: str, model: Any = None, seq_len: int | None = None) -> int:
    """Sequences per batch: EMX_BATCH_SIZE, else 16 on a CPU (more barely helps with 2-16
    cores); on CUDA what fits the free memory for ``seq_len`` tokens (:func:`auto_batch_size`),
    or 64 without a model to measure."""
    if os.environ.get("EMX_BATCH_SIZE"):
        return max(1, int(os.environ["EMX_BATCH_SIZE"]))
    if device == "cpu":
        return 16
    if model is not None and seq_len:
        return auto_batch_size(model, seq_len, device) or 64
    return 64
