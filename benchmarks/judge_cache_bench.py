"""Judging with a warm response cache vs a cold run: calls made (goal 0) and time.

Both runs score the same prompts through the openai backend against a local OpenAI-compatible
server on loopback (tests/fault_judge.py, healthy), with a fresh verdict cache for the cold
run that the warm run then reuses. For a paid API the calls are what matters; the time shows
the cache's own overhead.

    python benchmarks/judge_cache_bench.py [PROMPTS]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def main(argv: list[str] | None = None) -> dict[str, float]:
    from fault_judge import FlakyJudge

    from stages.lib.judging.base import JudgeRequest
    from stages.lib.judging.cache import JudgeCache
    from stages.lib.judging.factory import make_judge

    n = int((argv or [])[0]) if argv else 400
    requests = [JudgeRequest("aligned", f"Rate answer {i}: the assistant said {i * 7919}.")
                for i in range(n)]
    os.environ["EMX_BENCH_JUDGE_KEY"] = "sk-bench-not-a-secret"
    figures: dict[str, float] = {}
    with FlakyJudge() as server, tempfile.TemporaryDirectory() as cache_dir:
        spec = {"type": "openai", "model": "bench", "base_url": server.url,
                "api_key_env": "EMX_BENCH_JUDGE_KEY", "concurrency": 8, "max_retries": 2}
        for run in ("cold", "warm"):
            judge = make_judge(spec, None, JudgeCache(cache_dir))
            before = server.requests
            start = time.perf_counter()
            verdicts = judge.score(requests)
            figures[f"{run}_s"] = time.perf_counter() - start
            figures[f"{run}_calls"] = server.requests - before
            judge.close()
            assert all(v.score is not None for v in verdicts)
    print(f"{n} prompts, openai backend → loopback server, concurrency 8")
    print(f"cold: {figures['cold_calls']} calls in {figures['cold_s']:.2f} s; warm cache: "
          f"{figures['warm_calls']} calls in {figures['warm_s']:.3f} s "
          f"({figures['cold_s'] / figures['warm_s']:.0f}× faster; goal 0 calls)")
    figures["speedup"] = figures["cold_s"] / figures["warm_s"]
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
