"""Domain rules: what an experiment's fields need from each other, checked once every field
has resolved (steering needs an SAE, a layer must be within the model, a mix must fit the
builtin pools it draws from).

Every rule has the one signature ``Rule``::

    def rule(subject: Subject) -> Iterable[Diagnostic]

It reads ``subject.config`` (experiment field -> resolved value, None when absent), yields a
diagnostic per problem (located with ``subject.at("field.path", ...)``) and yields nothing
when the experiment is fine. Rules never raise and never change the config.

``RULES`` run once per experiment, on its config before sweeps expand; ``VARIANT_RULES`` run
on each variant's config (sweeps and overrides applied; ``subject.variant`` is its label),
and the first variant with a problem stops the experiment. A stage kind adds its own rules by
appending to either list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from emdsl import ast
from emdsl.check.calls import model_depth
from emdsl.diagnostics import Diagnostic
from emdsl.mixing import bad_count


@dataclass(frozen=True)
class Subject:
    """What a rule checks: one experiment's resolved config, and where its values are written."""

    experiment: str
    config: Mapping[str, Any]
    positions: Mapping[str, ast.Pos]  # dotted path -> position of its value
    pos: ast.Pos  # the experiment itself
    variant: str = ""  # the variant's label (VARIANT_RULES only)

    def at(self, *paths: str) -> ast.Pos:
        """Where the first of ``paths`` that is written is; else the experiment."""
        return next((self.positions[p] for p in paths if p in self.positions), self.pos)


Rule = Callable[[Subject], Iterable[Diagnostic]]


def needs(field: str, *required: str, why: str) -> Rule:
    """A rule: when ``field`` is set, each of ``required`` must be set too."""

    def rule(s: Subject) -> Iterator[Diagnostic]:
        if s.config[field] is None:
            return
        for r in required:
            if s.config[r] is None:
                yield Diagnostic(s.at(field), f"`{field}` needs `{r}` in experiment "
                                 f"`{s.experiment}`", why)

    return rule


def clean_diff_needs_mix(s: Subject) -> Iterator[Diagnostic]:
    """The clean reference of ``diff(against="clean")`` re-tunes on the mix's good data."""
    diff, data, train = (s.config[k] for k in ("diff", "data", "train"))
    if diff is not None and diff["against"] == "clean" and not (
            (data or {}).get("type") == "mix" and (train or {}).get("type") == "sft"):
        yield Diagnostic(s.at("diff.against", "diff"),
                         '`diff(against="clean")` needs `data = mix(...)` and `train = sft(...)`',
                         "the clean reference is the same fine-tune on the mix's good data "
                         '(poison 0); use `against="base"` otherwise')


def top_latents_within_diff(s: Subject) -> Iterator[Diagnostic]:
    """Steering ``top(k)`` latents takes them from this experiment's diff, which keeps ``top``."""
    steer, diff = s.config["steer"], s.config["diff"]
    if steer is None or not isinstance(steer["latents"], dict) \
            or steer["latents"]["type"] != "top":
        return
    if diff is None:
        yield Diagnostic(s.at("steer.latents"),
                         "steering `top(k)` latents needs a `diff` in this experiment",
                         "add `diff = diff(top=20)`, or list latent ids: `latents=[10, 89]`")
    elif steer["latents"]["k"] > diff["top"]:
        yield Diagnostic(s.at("steer.latents"),
                         f"`top({steer['latents']['k']})` asks for more latents than the diff "
                         f"keeps ({diff['top']})", "raise `diff(top=...)`")


def latent_ids_within_sae(s: Subject) -> Iterator[Diagnostic]:
    sae, steer = s.config["sae"], s.config["steer"]
    if sae is None or steer is None or not isinstance(steer["latents"], list):
        return
    bad = [i for i in steer["latents"] if not 0 <= i < sae["width"]]
    if bad:
        yield Diagnostic(s.at("steer.latents"),
                         f"latent ids {bad} are outside the SAE's width ({sae['width']})",
                         "ids run from 0 to width - 1")


def sae_layer_within_model(s: Subject) -> Iterator[Diagnostic]:
    depth, sae = model_depth(s.config["base"]), s.config["sae"]
    if depth is not None and sae is not None and sae["layer"] >= depth:
        yield Diagnostic(s.at("sae.layer"),
                         f"layer {sae['layer']} is beyond the model's depth ({depth} layers)",
                         f"use a layer from 0 to {depth - 1}")


def mix_fits_pools(s: Subject) -> Iterator[Diagnostic]:
    problem = mix_problem(s.config["data"])
    if problem:
        where = f" (variant {s.variant})" if s.variant else ""
        yield Diagnostic(s.at("data"), problem + where,
                         "lower `size` or `poison`, or mix in a larger dataset")


def mix_problem(data: dict[str, Any] | None) -> str | None:
    """A mix that asks a builtin dataset for more distinct examples than it has."""
    if not data or data["type"] != "mix":
        return None
    from emdsl.builtin.datasets import pool_size

    n_bad = bad_count(data["poison"], data["size"])
    for side, need in (("bad", n_bad), ("good", data["size"] - n_bad)):
        spec = data[side]
        if spec["type"] == "builtin" and need > (have := pool_size(spec["domain"])):
            return (f"mix needs {need} {side} examples but builtin(\"{spec['domain']}\", "
                    f"variant=\"{spec['variant']}\") has {have}")
    return None


RULES: list[Rule] = [
    needs("diff", "sae", "train", why="diffing compares the SAE latents of base and tuned model"),
    needs("steer", "sae", "eval", why="steering adds SAE decoder directions and judges answers"),
    clean_diff_needs_mix,
    needs("realign", "train", "eval", why="re-alignment continues from the tuned model"),
    top_latents_within_diff,
    latent_ids_within_sae,
    sae_layer_within_model,
]

VARIANT_RULES: list[Rule] = [mix_fits_pools]


def check_rules(rules: Iterable[Rule], subject: Subject) -> list[Diagnostic]:
    """Every problem the rules find in ``subject``."""
    return [d for rule in rules for d in rule(subject)]
