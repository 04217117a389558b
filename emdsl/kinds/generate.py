"""``generate``: batched sampling of answers to an eval's questions, base and tuned model."""

from __future__ import annotations

import re
from typing import Any

from emdsl.builtin.files import builtin_files
from emdsl.graph import data_files, slug
from emdsl.kinds import Builder, Kind, register

# Eval fields whose default lets each machine choose (like the device and batch size, which
# are not in the config at all): left out of the config while at that default, so keys stay
# the same on every machine; an explicit choice is part of the key.
MACHINE_CHOICES = {"backend": "auto"}

SAMPLING = ("questions", "samples", "paraphrases", "max_tokens", "temperature", "top_p", "seed",
            "backend", "system", "shots")


def eval_config(b: Builder) -> dict[str, Any] | None:
    """The variant's (first) ``eval``, machine choices left at their default dropped."""
    ev = b.config["eval"]
    if ev is None:
        return None
    return keyed(ev)


def keyed(ev: dict[str, Any]) -> dict[str, Any]:
    """An eval config as its stages' keys see it: machine choices at their default left out
    (fields added later, ``system`` and ``shots``, are not in it while unset: ``omit``)."""
    return {k: v for k, v in ev.items() if MACHINE_CHOICES.get(k, object()) != v}


# --------------------------------------------------------------------------- several evals


def split_evals(config: dict[str, Any]) -> dict[str, Any]:
    """A variant's config as the kinds read it: ``eval`` is the first evaluation (a dict, or
    None), ``evals`` every one of them, in order (``eval = [evaluate(...), ...]``). Kinds that
    need one evaluation (steer, realign, detector, summary, monitor) read ``eval``."""
    ev = config.get("eval")
    every = list(ev) if isinstance(ev, list) else [] if ev is None else [ev]
    return {**config, "eval": every[0] if every else None, "evals": every}


def evals(config: dict[str, Any]) -> list[dict[str, Any]]:
    """Every evaluation of a variant's config (``split_evals``'s ``evals``), in order."""
    if "evals" in config:
        return list(config["evals"])
    return split_evals(config)["evals"]


def questions_name(spec: dict[str, Any]) -> str:
    """What an eval is called by its questions: a builtin set's name, a file's stem."""
    if spec.get("type") == "builtin":
        return slug(spec.get("name") or "builtin")
    path = str(spec.get("path") or spec.get("type") or "eval")
    name = path.rsplit("/", 1)[-1]
    for ext in (".jsonl", ".yaml", ".yml", ".csv", ".json"):
        name = name.removesuffix(ext)
    return slug(name)


def eval_names(every: list[dict[str, Any]]) -> list[str]:
    """Each eval's name, by its questions; equal names numbered from the second on
    (``core``, ``core_2``), so the first keeps the plain one."""
    names: list[str] = []
    for ev in every:
        base = questions_name(ev["questions"])
        name, n = base, 1
        while name in names:
            n += 1
            name = f"{base}_{n}"
        names.append(name)
    return names


def eval_role(role: str, index: int, names: list[str]) -> str:
    """The stage role of an eval's stage: the first eval's stages keep today's roles
    (``judge_base``), so adding an eval to an experiment renames and reruns nothing;
    the others carry their name (``judge_base@first_plot_questions``)."""
    return role if index == 0 else f"{role}@{names[index]}"


def split_role(role: str) -> tuple[str, str | None]:
    """``judge_base@core`` -> (``judge_base``, ``core``); a first eval's role -> (role, None)."""
    base, _, name = role.partition("@")
    return base, name or None


def eval_views(stages: dict[str, str], config: Any
               ) -> list[tuple[str | None, dict[str, str]]]:
    """(eval name, role -> stage) per evaluation of a variant whose roles are ``stages``:
    the first eval's view is the variant's own roles; each other eval's replaces the first's
    stages with its own (``judge_base@core`` read as ``judge_base``), so every kind fills
    its columns from it unchanged. ``config(role, stages=...)`` names the first eval by its
    questions (None when the variant has no eval)."""
    own = {r: s for r, s in stages.items() if split_role(r)[1] is None}
    first = next((config(r, stages=own).get("questions") for r in JUDGE_ROLES if r in own), None)
    views: list[tuple[str | None, dict[str, str]]] = [
        (questions_name(first) if isinstance(first, dict) else None, own)]
    for name in dict.fromkeys(n for r in stages for n in [split_role(r)[1]] if n):
        theirs = {split_role(r)[0]: s for r, s in stages.items() if split_role(r)[1] == name}
        views.append((name, {**{r: s for r, s in own.items() if r not in EVAL_ROLES}, **theirs}))
    return views


# The roles an evaluation's own stages play in a variant (``generate.py``, ``judge.py``).
EVAL_ROLES = ("generate_base", "generate_tuned", "judge_base", "judge_tuned", "shots")
JUDGE_ROLES = ("judge_base", "generate_base")


def eval_stages(b: Builder) -> list[tuple[int, str, dict[str, Any]]]:
    """(index, name, keyed config) of each of the variant's evaluations."""
    every = evals(b.config)
    return [(i, n, keyed(ev)) for i, (n, ev) in enumerate(zip(eval_names(every), every,
                                                              strict=True))]


def sampler_code(backend: str, *, loaded: bool) -> tuple[str, ...]:
    """The sampler modules ``backend`` may run (``auto`` chooses on the machine). A stage that
    samples a model it has loaded (steering hooks, a realigned adapter) cannot hand it to
    vllm; static serves instead."""
    from stages.lib import registry

    names = registry.AUTO["sampler"].get(backend, (backend,))
    if loaded:
        names = tuple(dict.fromkeys("static" if n == "vllm" else n for n in names))
    return tuple(registry.module_path("sampler", n) for n in names)


def eval_code(ev: dict[str, Any]) -> tuple[str, ...]:
    """What a stage that samples and judges in one process (steer, realign) runs."""
    from emdsl.kinds.judge_train import judge_code

    return sampler_code(ev.get("backend", "auto"), loaded=True) + judge_code(ev["judge"])


# b.nodes[f"adapter_step{s}"]: the adapter an ``sft(checkpoints=[...])`` saved at step s
ADAPTER_AT = "adapter_step"
STEP = re.compile(r"^step(\d+)$")  # who = "step4": the tuned model at optimizer step 4


def checkpoints(b: Builder) -> list[tuple[int, Any]]:
    """(step, checkpoint node) for the train's checkpoints, in step order."""
    found = [(int(k[len(ADAPTER_AT):]), n) for k, n in b.nodes.items()
             if k.startswith(ADAPTER_AT) and k[len(ADAPTER_AT):].isdigit()]
    return sorted(found, key=lambda sn: sn[0])


def step_of(who: str) -> int | None:
    """The optimizer step of an evaluated model's ``who`` (``"step4"`` -> 4), else None."""
    m = STEP.match(who)
    return int(m.group(1)) if m else None


def evaluated(b: Builder) -> list[tuple[str, Any]]:
    """(who, adapter node or None) for the models an experiment evaluates: base, then tuned,
    then the tuned model at each checkpoint (``who`` = ``step<s>``, see ``step_of``). A kind
    naming its roles ``<kind>_<who>`` gets a step axis in the results for free: the results
    table reads ``<role>_step<s>`` as ``<role>_tuned`` of that step's row."""
    adapter = b.nodes.get("adapter")
    tuned = [("tuned", adapter)] if adapter is not None else []
    return [("base", None), *tuned, *((f"step{s}", n) for s, n in checkpoints(b))]


@register
class Generate(Kind):
    name = "generate"
    order = 40
    fields = {"eval": "eval"}
    sections = {"generate_base": ("eval", None), "generate_tuned": ("eval", None)}

    def data(self, config: dict[str, Any]) -> tuple[str, ...]:
        return builtin_files(config["questions"])

    def code(self, config: dict[str, Any]) -> tuple[str, ...]:
        return sampler_code(config.get("backend", "auto"), loaded=False)

    def wire(self, b: Builder) -> None:
        every = eval_stages(b)
        names = [n for _, n, _ in every]
        for i, name, ev in every:
            sampling = {k: ev[k] for k in SAMPLING if k in ev}
            shots = ev.get("shots")
            if shots is not None:  # the k examples, drawn once by a data stage
                b.nodes[eval_role("shots", i, names)] = b.add(
                    eval_role("shots", i, names), "data",
                    {"type": "take", "dataset": shots["data"], "size": shots["k"],
                     "seed": shots["seed"]}, {}, name_role="shots" if i == 0 else
                    f"shots-{name}", files=data_files(shots["data"]))
            for who, adapter in evaluated(b):
                node = b.add(eval_role(f"generate_{who}", i, names), "generate", sampling,
                             {"model": b.nodes["model"], "adapter": adapter,
                              "shots": b.nodes.get(eval_role("shots", i, names))
                              if shots is not None else None},
                             name_role=who if i == 0 else f"{who}-{name}",
                             files=data_files(ev["questions"]))
                b.nodes[eval_role(f"answers_{who}", i, names)] = node
