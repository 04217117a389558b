"""A flaky OpenAI-compatible judge on loopback: it fails every ``fail_every``-th request,
answers every ``slow_every``-th one late, and counts what it was sent. Scores are a fixed
function of the prompt, so a verdict is the same whichever attempt got through.

Used by the robustness tests and benchmarks/judge_cache_bench.py.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from collections.abc import Mapping

from openai_stub import Loopback, Reply, verdict


def score_of(prompt: str) -> str:
    """The verdict token for a prompt: 10, 50 or 90, spread by its hash."""
    return ("10", "50", "90")[hashlib.sha256(prompt.encode()).digest()[0] % 3]


class FlakyJudge(Loopback):
    """``with FlakyJudge(fail_every=2, slow_every=5) as j:`` serves at ``j.url``.

    ``requests`` counts every request, ``prompts`` counts them per prompt, ``auth`` keeps the
    Authorization headers seen. ``garbage=True`` answers every request with HTML; prompts
    containing ``fail_if`` always fail.
    """

    def __init__(self, *, fail_every: int = 0, slow_every: int = 0, slow_s: float = 0.3,
                 garbage: bool = False, fail_if: str | None = None) -> None:
        self.fail_every, self.slow_every, self.slow_s = fail_every, slow_every, slow_s
        self.garbage, self.fail_if = garbage, fail_if
        self.requests = 0
        self.prompts: Counter[str] = Counter()
        self.auth: set[str] = set()
        self.lock = threading.Lock()
        super().__init__(self._handle)

    def _handle(self, prompt: str, headers: Mapping[str, str]) -> Reply:
        with self.lock:
            self.requests += 1
            n = self.requests
            self.prompts[prompt] += 1
            self.auth.add(headers.get("Authorization", ""))
        if self.garbage:
            return 200, b"<html>502 Bad Gateway</html>", {}
        if (self.fail_every and n % self.fail_every == 0) or \
                (self.fail_if and self.fail_if in prompt):
            return 503, b'{"error": "overloaded"}', {}
        if self.slow_every and n % self.slow_every == 0:
            time.sleep(self.slow_s)
        return verdict({score_of(prompt): 0.9, "Sure": 0.1})

    def heal(self) -> None:
        """From now on answer every request at once, and start counting afresh."""
        with self.lock:
            self.fail_every = self.slow_every = 0
            self.garbage, self.fail_if = False, None
            self.requests = 0
            self.prompts.clear()
