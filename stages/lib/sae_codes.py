"""SAE codes per token, as a diff stage stores them (``codes-<source>.safetensors``), sparse.

Shared by the diff stage (writes them) and the detector stage (reads one latent's column).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stages.common import StageError

SOURCES = ("eval", "train")  # the token sources a diff stage encodes


@dataclass
class Codes:
    """SAE codes of n tokens, sparse: token ``rows[i]`` has latent ``cols[i]`` at ``vals[i]``."""

    rows: Any  # LongTensor [nnz]
    cols: Any  # LongTensor [nnz]
    vals: Any  # FloatTensor [nnz]
    n: int
    d_sae: int

    def column(self, latent: int) -> Any:
        """Dense activation of one latent on every token: [n]."""
        import torch

        dense = torch.zeros(self.n)
        hit = self.cols == latent
        dense[self.rows[hit]] = self.vals[hit]
        return dense

    def subset(self, keep: Any) -> Codes:
        """The codes of the tokens where ``keep`` [n] (bool) is true, renumbered in order."""
        import torch

        index = torch.cumsum(keep.long(), 0) - 1  # old row -> new row
        hit = keep[self.rows]
        return Codes(index[self.rows[hit]], self.cols[hit], self.vals[hit], int(keep.sum()),
                     self.d_sae)

    def mean_and_freq(self) -> tuple[Any, Any]:
        """Per latent [d_sae]: mean activation and firing frequency over the n tokens."""
        import torch

        total = torch.zeros(self.d_sae, dtype=torch.float64)
        total.index_add_(0, self.cols, self.vals.double())
        fired = torch.bincount(self.cols[self.vals > 0], minlength=self.d_sae).double()
        n = max(self.n, 1)
        return total / n, fired / n


def save_codes(path: Path, codes: Codes, doc: Any) -> None:
    import torch
    from safetensors.torch import save_file

    save_file({"rows": codes.rows.contiguous(), "cols": codes.cols.int().contiguous(),
               "vals": codes.vals.contiguous(), "doc": doc.long().contiguous(),
               "shape": torch.tensor([codes.n, codes.d_sae])}, str(path))


def load_codes(path: Path) -> tuple[Codes, Any]:
    """(codes, doc [n]) as :func:`save_codes` wrote them."""
    from safetensors.torch import load_file

    t = load_file(str(path))
    n, d_sae = (int(v) for v in t["shape"])
    return Codes(t["rows"], t["cols"].long(), t["vals"], n, d_sae), t["doc"]


def latent_activation(diff_dir: Path, latent: int, source: str | None = None
                      ) -> tuple[Any, Any, str]:
    """One latent's tuned-model activation on each token of a diff's source (``eval`` first
    when not named): (activation [n], doc [n], source)."""
    diff_dir = Path(diff_dir)
    sources = [source] if source else [s for s in SOURCES
                                       if (diff_dir / f"codes-{s}.safetensors").is_file()]
    if not sources or not (diff_dir / f"codes-{sources[0]}.safetensors").is_file():
        raise StageError(f"{diff_dir} has no per-token codes{f' for {source}' if source else ''}"
                         "; re-run its diff stage")
    codes, doc = load_codes(diff_dir / f"codes-{sources[0]}.safetensors")
    return codes.column(latent), doc, sources[0]
