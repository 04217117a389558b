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
