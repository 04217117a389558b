"""Reading what a data stage wrote (``train.jsonl``): the train, realign and acts stages' input.

Apart from building datasets (``stages.data``), so readers do not depend on the builtin data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stages.common import StageError
from stages.lib.chat import load_chat_jsonl

TRAIN_FILE = "train.jsonl"


def read_dataset(data_dir: Path) -> list[dict[str, Any]]:
    """The records a data stage wrote (what the train stage reads)."""
    path = Path(data_dir) / TRAIN_FILE
    if not path.exists():
        raise StageError(f"{data_dir} has no {TRAIN_FILE}; re-run its data stage")
    return load_chat_jsonl(path).records
