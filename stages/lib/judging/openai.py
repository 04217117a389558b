"""The ``openai`` judge backend: any OpenAI-compatible server, one token with top-20 logprobs.

Temperature 0, bounded retries with backoff; the API key comes only from the environment,
from a variable and to a URL that :mod:`stages.lib.judging.keys` allows.
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
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from stages.common import StageError
from stages.lib.judging.base import (
    MASS_SLACK,
    SCORING_VERSION,
    Judge,
    OnDone,
    Verdict,
    verdict_from_probs,
)
from stages.lib.judging.keys import key_env_problem, plain_http_problem, redact


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
BODY_SHOWN = 200  # characters of a server's error body shown in messages
BODY_READ = 4000  # characters redacted before cutting (a longer body is cut first)
LOGPROB_SLACK = 1e-6  # servers round: a logprob this far above 0 is still probability 1


class InvalidLogprobs(ValueError):
    """Logprobs no distribution has: positive, NaN, infinite, or summing above 1."""


def parse_top_logprobs(top: list[dict[str, Any]]) -> Verdict:
    """A verdict from one token's ``top_logprobs``: tokens that are integers 0..100 count.

    Invalid logprobs give a missing verdict with the reason (never a score, so never cached).
    """
    try:
        raw = _token_probs(top)
    except InvalidLogprobs as e:
        return Verdict(None, 0.0, {}, f"invalid logprobs from the server ({e}); not scored")
    probs: dict[int, float] = {}
    for token, p in raw.items():
        m = INT_TOKEN.fullmatch(token)
        if m and int(m.group(1)) <= 100:
            probs[int(m.group(1))] = probs.get(int(m.group(1)), 0.0) + p
    return verdict_from_probs(probs, {"top_logprobs": raw})


def _token_probs(top: list[dict[str, Any]]) -> dict[str, float]:
    """token -> probability; InvalidLogprobs unless each logprob is finite and <= 0 and the
    probabilities sum to at most 1 (within rounding)."""
    raw: dict[str, float] = {}
    for entry in top:
        lp = float(entry["logprob"])
        if not math.isfinite(lp) or lp > LOGPROB_SLACK:
            raise InvalidLogprobs(f"a logprob of {lp!r}; logprobs are finite and <= 0")
        token = str(entry["token"])
        raw[token] = raw.get(token, 0.0) + math.exp(min(lp, 0.0))
    total = sum(raw.values())
    if total > 1 + MASS_SLACK:
        raise InvalidLogprobs(f"the top tokens' probabilities sum to {total:.4g}, above 1")
    return raw


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


def _as_completed(futures: Iterable[Future], poll: float = 0.25) -> Iterator[Future]:
    """``as_completed`` that wakes every ``poll`` seconds: a Ctrl-C the kernel hands to another
    thread (polars' pool, a worker) only sets a flag, which the main thread checks when it
    wakes; blocked in ``as_completed`` it would not wake until a request finished."""
    from concurrent.futures import FIRST_COMPLETED, wait

    pending = set(futures)
    while pending:
        done, pending = wait(pending, timeout=poll, return_when=FIRST_COMPLETED)
        yield from done


class OpenAIBackend:
    """``/chat/completions`` with ``max_tokens=1`` and top-20 logprobs, in a thread pool.

    429, 5xx, timeouts, dropped connections and unparseable bodies are retried up to
    ``max_retries`` times with full-jitter exponential backoff (at least ``Retry-After``);
    then the verdict is missing with the error recorded. 401/403/404 stop the stage: no
    answer can be judged with a wrong key or model name. The key never leaves the header:
    every message that could carry it is redacted, before it is cut, and no piece of it is
    shown. Ctrl-C stops the back-offs at once: the verdicts already in are kept (cached).
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
        self._stop = threading.Event()  # set when the caller gives up (Ctrl-C): no more waits

    def __repr__(self) -> str:
        return f"OpenAIBackend(model={self.model!r}, base_url={self.base_url!r})"

    def _api_key(self) -> str:
        """The key, once the variable and the URL pass the rule of stages.lib.judging.keys."""
        problem = key_env_problem(self.api_key_env) or plain_http_problem(self.base_url)
        if problem:
            raise StageError(f"openai judge: {problem[0]}; {problem[1]}")
        key = os.environ.get(self.api_key_env)
        if not key:
            raise StageError(f"openai judge: environment variable {self.api_key_env} is not set; "
                             f"export the API key for {self.base_url} in {self.api_key_env}")
        return key

    def _redact(self, text: str) -> str:
        return redact(text, self._key)

    def _body(self, resp: Any) -> str:
        """The start of a response's body for a message: redacted first, then cut."""
        return self._redact(resp.text[:BODY_READ])[:BODY_SHOWN]

    def score(self, prompts: Sequence[str], on_done: OnDone | None = None) -> list[Verdict]:
        from concurrent.futures import ThreadPoolExecutor

        import httpx

        self._key = self._api_key()
        self._stop.clear()
        verdicts: list[Verdict | None] = [None] * len(prompts)
        limits = httpx.Limits(max_connections=self.concurrency)
        # plain http goes to loopback only: never through an HTTP_PROXY, which would get the
        # key in plain text (https through a proxy is a CONNECT tunnel, still encrypted)
        direct = urlsplit(self.base_url).scheme.lower() == "http"
        with httpx.Client(timeout=self.timeout, limits=limits, trust_env=not direct) as client, \
                ThreadPoolExecutor(self.concurrency, thread_name_prefix="judge") as pool:
            futures = {pool.submit(self._one, client, p): i for i, p in enumerate(prompts)}
            try:
                for fut in _as_completed(futures):
                    i = futures[fut]
                    verdicts[i] = fut.result()
                    if on_done is not None:
                        on_done([(i, verdicts[i])])
            except BaseException:  # Ctrl-C, or a fatal answer: wake the back-offs and stop
                self._stop.set()
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
        """One prompt's verdict, retried; never raises except for fatal config errors.

        A back-off waits on the stop event, so Ctrl-C ends it at once."""
        error = "no attempt made"
        for attempt in range(self.max_retries + 1):
            if self._stop.is_set():
                return Verdict(None, 0.0, {}, "interrupted", transport=True)
            try:
                return self._request(client, prompt)
            except _Retryable as e:
                error = self._redact(str(e))
                if attempt == self.max_retries:
                    break
                if self._stop.wait(self._delay(attempt, e.retry_after)):
                    return Verdict(None, 0.0, {}, f"interrupted: {error}", transport=True)
        return Verdict(None, 0.0, {}, f"gave up after {self.max_retries + 1} attempts: {error}",
                       transport=True)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """Full-jitter exponential backoff, at least the server's Retry-After (capped)."""
        delay = random.uniform(0, min(self.backoff_cap, self.backoff_base * 2**attempt))
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_retry_after))
        return delay

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
                f"(model {self.model!r}, key from {self.api_key_env}); {self._body(resp)}"))
        if status in RETRY_STATUS:
            raise _Retryable(f"HTTP {status}: {self._body(resp)}",
                             _retry_after(resp.headers.get("retry-after")))
        if status != 200:
            return Verdict(None, 0.0, {}, f"HTTP {status}: {self._body(resp)}")
        try:
            choice = resp.json()["choices"][0]
        except (ValueError, KeyError, IndexError, TypeError):
            raise _Retryable(f"unparseable response: {self._body(resp)!r}") from None
        try:
            top = choice["logprobs"]["content"][0]["top_logprobs"]
            return parse_top_logprobs(top)
        except (KeyError, IndexError, TypeError, ValueError):
            return Verdict(None, 0.0, {}, "response has no top_logprobs; does the server "
                                          "support logprobs=true?")

    def close(self) -> None:
        pass
