"""The one steering hook: a vector added to a decoder layer's output at every position.

Used by the steer stage (while sampling: SAE latents' or directions' unit vector × coef ×
typical residual norm) and by SFT's preventative steering (while training only; the adapter is
saved without it). Torch is imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from stages.common import StageError


def added(h: Any, vector: Any) -> Any:
    """h [rows, tokens, d_model] + vector [d_model], in h's dtype and device."""
    return h + vector.to(h.device, h.dtype)


@contextmanager
def adding(model: Any, layer: int, vector: Any) -> Iterator[None]:
    """While active, ``vector`` is added to the output of decoder layer ``layer`` (every
    forward pass, every position; gradients flow through it as through a constant)."""
    from stages.lib.models import residual_hook

    with residual_hook(model, layer, lambda h: added(h, vector)):
        yield


def unit_sum(vectors: Any, what: str = "directions") -> Any:
    """unit(Σ unit(v_i)) of vectors [k, d_model]: several directions share one unit push, so
    a coefficient means the same whatever their number. float32 [d_model]."""
    import torch

    v = torch.nn.functional.normalize(vectors.detach().float(), dim=-1).sum(0)
    norm = float(v.norm())
    if norm == 0:
        raise StageError(f"steer: the {what} cancel out")
    return v / norm
