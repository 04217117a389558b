"""Short labels for SAE latents, written by a judge from their max-activating snippets.

``diff(label=JUDGE)``: for each top latent the judge gets :data:`PROMPT` with the latent's
strongest snippets (the token it fires on marked «like this») and answers with a label of a
few words. A ``local`` judge's model generates it greedily; an ``openai`` judge answers a
chat completion at temperature 0. A probe judge only scores answers and cannot write
(``emx check`` refuses it).

Labels go through the judge cache (:class:`stages.lib.judging.cache.JudgeCache`), keyed by
the labeller's identity (``label:<backend>:v<LABEL_VERSION>``) and the prompt, stored as a
verdict with no score and the label in ``raw``: a rerun, or another diff with the same
snippets, asks nothing again.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stages.common import StageError, log

LABEL_VERSION = 1
SNIPPETS = 8  # snippets shown per latent
MAX_NEW_TOKENS = 24
MAX_CHARS = 80  # a label is cut to this

PROMPT = """\
Below are snippets of text on which one feature of a language model's internal \
activations fires most strongly. In each, the token where it fires is marked «like this».

{snippets}

In at most eight words, what does this feature respond to? Reply with the label only."""


def label_prompt(snippets: Sequence[str]) -> str:
    lines = "\n".join(f"{i}. {s.strip()}" for i, s in enumerate(snippets[:SNIPPETS], 1))
    return PROMPT.format(snippets=lines)


def clean_label(text: str) -> str:
    """The first line of a reply, without quotes, a "Label:" prefix or a final full stop."""
    line = next((ln.strip() for ln in (text or "").splitlines() if ln.strip()), "")
    for prefix in ("label:", "feature:"):
        if line.lower().startswith(prefix):
            line = line[len(prefix):].strip()
    for _ in range(2):  # "…". and "…." alike
        line = line.strip("\"'“”*` ").rstrip(".").strip()
    return line if len(line) <= MAX_CHARS else line[:MAX_CHARS - 1].rstrip() + "…"


class LocalLabeller:
    """A local HF causal LM generating greedily after the chat template."""

    def __init__(self, model_dir: Path) -> None:
        from stages.lib.models import load_model, load_tokenizer, model_fingerprint

        self.tokenizer, self.model = load_tokenizer(model_dir), load_model(model_dir)
        self.identity = f"label:local:{model_fingerprint(model_dir)}:v{LABEL_VERSION}"

    def label(self, prompts: Sequence[str]) -> list[str]:
        import torch

        device = next(self.model.parameters()).device
        out = []
        for prompt in prompts:
            text = self.tokenizer.apply_chat_template(
                [{"role": "user", "content": prompt}], add_generation_prompt=True,
                tokenize=False)
            ids = self.tokenizer(text, add_special_tokens=False, return_tensors="pt")
            with torch.inference_mode():
                gen = self.model.generate(
                    **{k: v.to(device) for k, v in ids.items()}, do_sample=False,
                    max_new_tokens=MAX_NEW_TOKENS, pad_token_id=self.tokenizer.pad_token_id)
            new = gen[0, ids["input_ids"].shape[1]:]
            out.append(self.tokenizer.decode(new, skip_special_tokens=True))
        return out

    def close(self) -> None:
        pass


class OpenAILabeller:
    """An OpenAI-compatible ``/chat/completions`` at temperature 0, the key from the judge's
    key variable under the rules of :mod:`stages.lib.judging.keys`."""

    def __init__(self, spec: dict[str, Any], retries: int | None = None) -> None:
        from stages.lib.judging.keys import key_env_problem, plain_http_problem

        self.model = spec["model"]
        self.base_url = str(spec.get("base_url", "https://api.openai.com/v1")).rstrip("/")
        env = spec.get("api_key_env", "OPENAI_API_KEY")
        problem = key_env_problem(env) or plain_http_problem(self.base_url)
        if problem:
            raise StageError(f"diff labels: {problem[0]}; {problem[1]}")
        self.key = os.environ.get(env)
        if not self.key:
            raise StageError(f"diff labels: environment variable {env} is not set; export the "
                             f"API key for {self.base_url} in it")
        self.retries = int(spec.get("max_retries", 6) if retries is None else retries)
        self.identity = f"label:openai:{self.model}@{self.base_url}:v{LABEL_VERSION}"

    def label(self, prompts: Sequence[str]) -> list[str]:
        import httpx

        from stages.lib.judging.keys import redact

        out = []
        with httpx.Client(timeout=60.0, trust_env=False) as client:
            for prompt in prompts:
                body = {"model": self.model, "temperature": 0, "max_tokens": 32,
                        "messages": [{"role": "user", "content": prompt}]}
                error = ""
                for attempt in range(self.retries + 1):
                    try:
                        resp = client.post(f"{self.base_url}/chat/completions", json=body,
                                           headers={"Authorization": f"Bearer {self.key}"})
                    except httpx.TransportError as e:
                        error = f"connection failed ({type(e).__name__})"
                    else:
                        if resp.status_code == 200:
                            try:
                                out.append(resp.json()["choices"][0]["message"]["content"]
                                           or "")
                                break
                            except (ValueError, KeyError, IndexError, TypeError):
                                error = "unparseable response"
                        elif resp.status_code in (429, 500, 502, 503, 504):
                            error = f"HTTP {resp.status_code}"
                        else:
                            raise StageError(redact(
                                f"diff labels: {self.base_url} answered HTTP "
                                f"{resp.status_code}: {resp.text[:300]}", self.key))
                    if attempt < self.retries:
                        time.sleep(min(30.0, 0.5 * 2 ** attempt))
                else:
                    raise StageError(f"diff labels: gave up after {self.retries + 1} attempts: "
                                     f"{redact(error, self.key)}")
        return out

    def close(self) -> None:
        pass


def make_labeller(spec: dict[str, Any], model_dir: Path | None) -> Any:
    if spec["type"] == "local":
        if model_dir is None:
            raise StageError("diff labels: a local judge needs its model (input `label_model`);"
                             " re-run `emx compile`")
        return LocalLabeller(Path(model_dir))
    if spec["type"] == "openai":
        return OpenAILabeller(spec)
    raise StageError(f"diff labels: a {spec['type']} judge cannot write labels; use a "
                     "`local(...)` or `openai(...)` judge")


def label_latents(spec: dict[str, Any], model_dir: Path | None,
                  snippets: dict[int, list[str]], cache: Any = None,
                  stage: Any = None) -> dict[int, str | None]:
    """A label per latent (None for a latent with no snippet), through the judge cache."""
    from stages.lib.judging.base import Verdict
    from stages.lib.judging.cache import JudgeCache

    prompts = {i: label_prompt(s) for i, s in snippets.items() if s}
    labeller = make_labeller(spec, model_dir)
    cache = cache or JudgeCache()
    try:
        found = cache.get_many(labeller.identity, list(prompts.values()))
        todo = [p for p in dict.fromkeys(prompts.values()) if p not in found]
        if stage is not None:
            log(stage, f"labelling {len(prompts)} latents with the {spec['type']} judge "
                       f"({len(prompts) - len(todo)} from the judge cache)")
        if todo:
            fresh = [Verdict(None, 1.0, {"label": clean_label(t), "reply": t})
                     for t in labeller.label(todo)]
            cache.put_many(labeller.identity, list(zip(todo, fresh, strict=True)))
            found |= dict(zip(todo, fresh, strict=True))
    finally:
        labeller.close()
    return {i: (found[prompts[i]].raw.get("label") if i in prompts else None)
            for i in snippets}
