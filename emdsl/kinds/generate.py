"""``generate``: batched sampling of answers to an eval's questions, base and tuned model."""

from __future__ import annotations

import re
from typing import Any

from emdsl.builtin.files import builtin_files
from emdsl.graph import data_files
from emdsl.kinds import Builder, Kind, register

# Eval fields whose default lets each machine choose (like the device and batch size, which
# are not in the config at all): left out of the config while at that default, so keys stay
# the same on every machine; an explicit choice is part of the key.
MACHINE_CHOICES = {"backend": "auto"}

SAMPLING = ("questions", "samples", "paraphrases", "max_tokens", "temperature", "top_p", "seed",
            "backend")


def eval_config(b: Builder) -> dict[str, Any] | None:
    """The variant's ``eval``, machine choices left at their default dropped."""
    ev = b.config["eval"]
    if ev is None:
        return None
    return {k: v for k, v in ev.items() if MACHINE_CHOICES.get(k, object()) != v}


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
        ev = eval_config(b)
        if ev is None:
            return
        sampling = {k: ev[k] for k in SAMPLING if k in ev}
        for who, adapter in evaluated(b):
            b.nodes[f"answers_{who}"] = b.add(
                f"generate_{who}", "generate", sampling,
                {"model": b.nodes["model"], "adapter": adapter}, name_role=who,
                files=data_files(ev["questions"]))
