"""The ``openai`` judge backend: any OpenAI-compatible server, one token with top-20 logprobs.

Temperature 0, bounded retries with backoff; the API key comes only from the environment.
"""

from __future__ import annotations

import contextlib
import email.utils
import math
import os
import random
import re
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stages.common import StageError
from stages.lib.judging.base import SCORING_VERSION, Judge, OnDone, Verdict, verdict_from_probs


def make(spec: dict[str, Any], judge_model_dir: Path | None, cache: Any) -> Judge:
    """The registered constructor (family ``judge``, name ``openai``)."""
    return Judge(OpenAIBackend(model=spec["model"],
                               base_url=spec.get("base_url", "https://api.openai.com/v1"),
                               api_key_env=spec.get("api_key_env", "OPENAI_API_KEY"),
                               concurrency=int(spec.get("concurrency", 8)),
                               max_retries=int(spec.get("max_retries", 6))), cache)


RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529}
FATAL_STATUS = {401: "the API key was rejected", 403: "access was refused",
                404: "no such model or endpoint"}
INT_TOKEN = re.compile(r"\s*(\d{1,3})\s*")


def parse_top_logprobs(top: list[dict[str, Any]]) -> Verdict:
    """A verdict from one token's ``top_logprobs``: tokens that are integers 0..100 count."""
    probs: dict[int, float] = {}
    raw: dict[str, float] = {}
    for entry in top:
        token, p = str(entry["token"]), math.exp(float(entry["logprob"]))
        raw[token] = raw.get(token, 0.0) + p
        m = INT_TOKEN.fullmatch(token)
        if m and int(m.group(1)) <= 100:
            probs[int(m.group(1))] = probs.get(int(m.group(1)), 0.0) + p
    return verdict_from_probs(probs, {"top_logprobs": raw})


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    with contextlib.suppress(ValueError):
        return max(0.0, float(value))
    with contextlib.suppress(TypeError, ValueError):
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    return None


class OpenAIBackend:
    """``/chat/completions`` with ``max_tokens=1`` and top-20 logprobs, in a thread pool.

    429, 5xx, timeouts, dropped connections and unparseable bodies are retried up to
    ``max_retries`` times with full-jitter exponential backoff (at least ``Retry-After``);
    then the verdict is missing with the error recorded. 401/403/404 stop the stage: no
    answer can be judged with a wrong key or model name. The key never leaves the header:
    every message that could carry it is redacted.
    """

    def __init__(self, *, model: str, base_url: str = "https://api.openai.com/v1",
                 api_key_env: str = "OPENAI_API_KEY", concurrency: int = 8,
                 max_retries: int = 6, timeout: float = 60.0, backoff_base: float = 1.0,
                 backoff_cap: float = 60.0, max_retry_after: float = 120.0) -> None:
        self.model, self.base_url = model, base_url.rstrip("/")
        self.api_key_env = api_key_env
        self.concurrency, self.max_retries, self.timeout = concurrency, max_retries, timeout
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap
        self.max_retry_after = max_retry_after
        self.identity = f"openai:{model}@{self.base_url}:v{SCORING_VERSION}"
        self.attempts = 0  # HTTP requests sent, retries included
        self._count_lock = threading.Lock()
        self._key: str | None = None

    def __repr__(self) -> str:
        return f"OpenAIBackend(model={self.model!r}, base_url={self.base_url!r})"

    def _api_key(self) -> str:
        key = os.environ.get(self.api_key_env)
        if not key:
            raise StageError(f"openai judge: environment variable {self.api_key_env} is not set; "
                             f"export the API key for {self.base_url} in {self.api_key_env}")
        return key

    def _redact(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text

    def score(self, prompts: Sequence[str], on_done: OnDone | None = None) -> list[Verdict]:
        from concurrent.futures import ThreadPoolExecutor, as_completed

        import httpx

        self._key = self._api_key()
        verdicts: list[Verdict | None] = [None] * len(prompts)
        limits = httpx.Limits(max_connections=self.concurrency)
        with httpx.Client(timeout=self.timeout, limits=limits) as client, \
                ThreadPoolExecutor(self.concurrency, thread_name_prefix="judge") as pool:
            futures = {pool.submit(self._one, client, p): i for i, p in enumerate(prompts)}
            try:
                for fut in as_completed(futures):
                    i = futures[fut]
                    verdicts[i] = fut.result()
                    if on_done is not None:
                        on_done([(i, verdicts[i])])
            except BaseException:
                for f in futures:
                    f.cancel()
                raise
        self._check_reachable(verdicts)  # type: ignore[arg-type]
        return verdicts  # type: ignore[return-value]

    def _check_reachable(self, verdicts: Sequence[Verdict]) -> None:
        """One clear error when the server itself is broken: every request failed to connect,
        timed out or came back as something other than JSON. (Failures of single prompts stay
        missing verdicts; what was judged before is already in the cache.)"""
        broken = ("connection failed", "timed out", "unparseable response")
        errors = [v.error or "" for v in verdicts]
        if not errors or not all(any(b in e for b in broken) for e in errors):
            return
        raise StageError(self._redact(
            f"openai judge: none of {len(errors)} requests to {self.base_url} got an answer "
            f"({errors[-1].split(': ', 1)[-1][:160]}); check that the server is running and that "
            "base_url is its OpenAI-compatible /v1 endpoint, then re-run (cached verdicts are "
            "kept)"))

    def _one(self, client: Any, prompt: str) -> Verdict:
        """One prompt's verdict, retried; never raises except for fatal config errors."""
        error = "no attempt made"
        for attempt in range(self.max_retries + 1):
            try:
                return self._request(client, prompt)
            except _Retryable as e:
                error = self._redact(str(e))
                if attempt == self.max_retries:
                    break
                delay = random.uniform(0, min(self.backoff_cap, self.backoff_base * 2**attempt))
                if e.retry_after is not None:
                    delay = max(delay, min(e.retry_after, self.max_retry_after))
                time.sleep(delay)
        return Verdict(None, 0.0, {}, f"gave up after {self.max_retries + 1} attempts: {error}")

    def _request(self, client: Any, prompt: str) -> Verdict:
        import httpx

        body = {"model": self.model, "messages": [{"role": "user", "content": prompt}],
                "max_tokens": 1, "temperature": 0, "logprobs": True, "top_logprobs": 20}
        with self._count_lock:
            self.attempts += 1
        try:
            resp = client.post(f"{self.base_url}/chat/completions", json=body,
                               headers={"Authorization": f"Bearer {self._key}"})
        except httpx.TimeoutException:
            raise _Retryable(f"timed out after {self.timeout:g}s") from None
        except httpx.TransportError as e:
            raise _Retryable(f"connection failed ({type(e).__name__})") from None
        status = resp.status_code
        if status in FATAL_STATUS:
            raise StageError(self._redact(
                f"openai judge: {self.base_url} answered HTTP {status}: {FATAL_STATUS[status]} "
                f"(model {self.model!r}, key from {self.api_key_env}); {resp.text[:200]}"))
        if status in RETRY_STATUS:
            raise _Retryable(f"HTTP {status}: {resp.text[:200]}",
                             _retry_after(resp.headers.get("retry-after")))
        if status != 200:
            return Verdict(None, 0.0, {}, self._redact(f"HTTP {status}: {resp.text[:200]}"))
        try:
            choice = resp.json()["choices"][0]
        except (ValueError, KeyError, IndexError, TypeError):
            raise _Retryable(f"unparseable response: {resp.text[:200]!r}") from None
        try:
            top = choice["logprobs"]["content"][0]["top_logprobs"]
            return parse_top_logprobs(top)
        except (KeyError, IndexError, TypeError, ValueError):
            return Verdict(None, 0.0, {}, "response has no top_logprobs; does the server "
                                          "support logprobs=true?")

    def close(self) -> None:
        pass
