"""Reading an sae stage's output: the inference SAE and its info.json (layer, mean norm...)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stages.common import StageError

SAE_INFO = "info.json"


def load_sae(sae_dir: Path, device: str = "cpu") -> Any:
    """The inference SAE an sae stage wrote."""
    from sae_lens import SAE

    if not (Path(sae_dir) / "cfg.json").is_file():
        raise StageError(f"{sae_dir} holds no SAE (cfg.json missing); re-run its sae stage")
    return SAE.load_from_disk(str(sae_dir), device=device)


def read_sae_info(sae_dir: Path) -> dict[str, Any]:
    path = Path(sae_dir) / SAE_INFO
    if not path.is_file():
        raise StageError(f"{sae_dir}: {SAE_INFO} missing; re-run its sae stage")
    return json.loads(path.read_text())


def fetch_pretrained(release: str, sae_id: str, device: str = "cpu") -> Any:
    """A registry SAE, downloaded from the hub by sae-lens's own loader (its conversion of
    the release's format included)."""
    from sae_lens import SAE

    try:
        return SAE.from_pretrained(release, sae_id, device=device)
    except Exception as e:  # network, hub or format errors: say which SAE, keep the cause
        raise StageError(f"sae: could not load pretrained SAE {sae_id!r} of {release!r} "
                         f"from the hub: {type(e).__name__}: {e}") from e


def hook_name(sae: Any) -> str | None:
    """The hook an sae-lens SAE says it reads (``blocks.15.hook_resid_post``), if any."""
    meta = getattr(sae.cfg, "metadata", None)
    name = getattr(meta, "hook_name", None) or getattr(sae.cfg, "hook_name", None)
    return name if isinstance(name, str) else None
