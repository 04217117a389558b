"""Device helpers: the batch-size formula with made-up numbers, the multi-GPU launch command."""

from __future__ import annotations

from types import SimpleNamespace

from stages.lib.device import (
    ModelShape,
    accelerate_command,
    fit_batch_size,
    per_device_batch,
    pick_device,
    sequence_bytes,
)

GIB = 1 << 30
# SmolLM2-135M: 30 layers, d 576, MLP 1536, 3 KV heads of 64, vocab 49152.
SMOL = ModelShape(layers=30, hidden=576, intermediate=1536, kv_heads=3, head_dim=64, vocab=49152)


def test_sequence_bytes_counts_the_kv_cache_activations_and_logits():
    kv = 2 * 30 * 3 * 64 * 700 * 2  # K and V, bf16, 700 tokens: 16.1 MB
    act = 700 * (4 * 576 + 2 * 1536) * 2
    assert sequence_bytes(SMOL, 700, 2) == kv + act + 3 * 49152 * 4


def test_fit_batch_size_from_free_memory():
    per = sequence_bytes(SMOL, 700, 2)  # ≈ 24 MB
    # 80 GB free: 0.8 × 80 GiB − 1 GiB ≫ 512 sequences: capped
    assert fit_batch_size(80 * GIB, per) == 512
    # 4 GiB free: (3.2 − 1) GiB / 24 MB ≈ 97 → 96, a multiple of 8
    n = fit_batch_size(4 * GIB, per)
    assert n == 96 and n * per <= 0.8 * 4 * GIB - GIB
    assert fit_batch_size(GIB + 100 * per, per, fraction=1.0) == 96  # 100 → multiple of 8
    assert fit_batch_size(GIB + 5 * per, per, fraction=1.0) == 5  # under 8: as is
    assert fit_batch_size(GIB // 2, per) == 1  # nothing fits: still one


def test_model_shape_from_a_config():
    cfg = SimpleNamespace(num_hidden_layers=2, hidden_size=64, intermediate_size=128,
                          num_attention_heads=4, num_key_value_heads=2, vocab_size=512)
    assert ModelShape.of(cfg) == ModelShape(2, 64, 128, 2, 16, 512)


def test_accelerate_command_and_batch_split():
    cmd = accelerate_command("stages.train", ["train-x"], 4, python="py")
    assert cmd[:3] == ["py", "-m", "accelerate.commands.launch"]
    assert cmd[cmd.index("--num_processes") + 1] == "4" and "--multi_gpu" in cmd
    assert cmd[-3:] == ["-m", "stages.train", "train-x"]
    assert per_device_batch(8, 4) == 2 and per_device_batch(8, 1) == 8
    assert per_device_batch(2, 4) == 1


def test_pick_device():
    assert pick_device("cpu") == "cpu"
    assert pick_device("auto") in ("cuda", "mps", "cpu")
