"""Resolved experiments → a deduplicated graph of stage nodes.

Each node's key hashes its kind, its own config and its inputs' keys, so two experiments that
need the same work (same base model, questions and judge) get the same node and DVC runs it
once. Artifact paths are keyed by the hash; stage names are readable and stable:
``train-medical-poison_0p5-seed_0``, ``generate-base-medical``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emdsl.check import Program, Variant, show_value

# Kinds whose small results (metrics, plots) git tracks, and the files they write there.
RESULT_FILES: dict[str, dict[str, list[str]]] = {
    "data": {"metrics": ["stats.json"], "plots": []},
    "train": {"metrics": ["metrics.json"], "plots": ["loss.csv"]},
    "judge": {"metrics": ["metrics.json"], "plots": []},
    "judge_train": {"metrics": ["metrics.json"], "plots": []},
    "sae": {"metrics": ["metrics.json"], "plots": []},
    "diff": {"metrics": ["metrics.json"], "plots": []},
    "steer": {"metrics": ["metrics.json"], "plots": ["curve.csv"]},
    "realign": {"metrics": ["metrics.json"], "plots": ["curve.csv"]},
    "detector": {"metrics": ["metrics.json"], "plots": ["curve.csv"]},
    "summary": {"metrics": [], "plots": ["summary.csv"]},
}

KEY_LENGTH = 12


@dataclass
class Node:
    kind: str
    config: dict[str, Any]
    inputs: dict[str, Node]
    role: str | None = None  # "base" / "tuned" / "corpus" ... disambiguates names
    files: tuple[str, ...] = ()  # data files it reads, relative to the project root
    key: str = ""
    name: str = ""
    users: list[tuple[Variant, str]] = field(default_factory=list)  # (variant, its role)
    # Reads its inputs' small git-tracked results, not their cached outs: it then runs from a
    # fresh clone with no `dvc pull`, and reruns only when those results change.
    via_results: bool = False

    @property
    def out(self) -> str:
        return f"artifacts/{self.kind}/{self.key}"

    @property
    def results(self) -> str | None:
        return f"results/{self.name}" if self.kind in RESULT_FILES else None


def node_key(kind: str, config: dict[str, Any], inputs: dict[str, Node]) -> str:
    payload = {"kind": kind, "config": config,
               "inputs": {role: n.key for role, n in sorted(inputs.items())}}
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:KEY_LENGTH]


@dataclass
class Graph:
    nodes: dict[str, Node] = field(default_factory=dict)  # key -> node
    variants: list[Variant] = field(default_factory=list)
    # (file, experiment, variant label) -> (the variant, {role: node key})
    index: dict[tuple[str, str, str], tuple[Variant, dict[str, str]]] = field(
        default_factory=dict)

    def add(self, node: Node, variant: Variant, role: str) -> Node:
        node.key = node_key(node.kind, node.config, node.inputs)
        existing = self.nodes.setdefault(node.key, node)
        existing.users.append((variant, role))
        return existing


class _Builder:
    """Builds the nodes of one variant, in dependency order."""

    def __init__(self, graph: Graph, variant: Variant, root: Path):
        self.graph, self.variant, self.root = graph, variant, root
        self.roles: dict[str, str] = {}

    def add(self, role: str, kind: str, config: dict[str, Any], inputs: dict[str, Node | None],
            *, name_role: str | None = None, files: tuple[str, ...] = ()) -> Node:
        present = {r: n for r, n in inputs.items() if n is not None}
        node = self.graph.add(Node(kind, config, present, name_role, files), self.variant, role)
        self.roles[role] = node.key
        return node

    def build(self) -> None:
        c = self.variant.config
        base = self.add("model", "model", c["base"], {})
        judge_models: dict[str, Node] = {}

        def judge_model(judge: dict[str, Any]) -> Node | None:
            """A local judge's model; a probe judge's trained probe (its judge_train stage)."""
            if judge["type"] not in ("local", "probe"):
                return None
            key = json.dumps(judge["model"], sort_keys=True)
            if key not in judge_models:
                judge_models[key] = self.add("judge_model", "model", judge["model"], {})
            if judge["type"] == "local":
                return judge_models[key]
            teacher = judge.get("labels")  # a distilled probe learns this judge's verdicts
            return self.add("judge_train", "judge_train", {"probe": judge},
                            {"model": judge_models[key],
                             "teacher_model": teacher and judge_model(teacher)},
                            files=_files(judge["train"]))

        data = adapter = None
        train = c["train"]
        if train is not None:
            if train["type"] == "sft":
                if c["data"] is None:
                    raise CompileError(self.variant, "`train = sft(...)` needs `data`")
                data = self.add("data", "data", c["data"], {}, files=_files(c["data"]))
                adapter = self.add("train", "train", train, {"model": base, "data": data})
            else:  # grpo: prompts are a dataset; the reward may need a judge model
                data = self.add("data", "data", train["prompts"], {},
                                files=_files(train["prompts"]))
                cfg = {k: v for k, v in train.items() if k != "prompts"}
                adapter = self.add("train", "train", cfg, {
                    "model": base, "data": data,
                    "judge_model": judge_model(train["reward"]["judge"])})

        ev = machine_choices_dropped(c["eval"])
        answers: dict[str, Node] = {}
        if ev is not None:
            sampling = {k: ev[k] for k in ("questions", "samples", "paraphrases", "max_tokens",
                                            "temperature", "top_p", "seed", "backend")
                        if k in ev}
            judging = {k: ev[k] for k in ("questions", "judge", "aligned_below",
                                           "coherent_above", "audit")}
            for who, extra in (("base", None), ("tuned", adapter)):
                if who == "tuned" and adapter is None:
                    continue
                gen = self.add(f"generate_{who}", "generate", sampling,
                               {"model": base, "adapter": extra}, name_role=who,
                               files=_files(ev["questions"]))
                answers[who] = gen
                self.add(f"judge_{who}", "judge", judging,
                         {"answers": gen, "judge_model": judge_model(ev["judge"])}, name_role=who,
                         files=_files(ev["questions"]) + _files(ev["audit"]))

        sae_cfg = c["sae"]
        sae = None
        if sae_cfg is not None:
            corpus = self.add("acts_corpus", "acts",
                              {"source": "corpus", "layer": sae_cfg["layer"],
                               "tokens": sae_cfg["tokens"], "seed": sae_cfg["seed"]},
                              {"model": base}, name_role="corpus")
            sae = self.add("sae", "sae", sae_cfg, {"acts": corpus})

        diff = None
        if c["diff"] is not None and sae is not None and adapter is not None:
            layer = sae_cfg["layer"]
            acts: dict[str, Node | None] = {"sae": sae}
            # The reference side of the diff (its inputs keep the name ``base_*``): the base
            # model, or the same fine-tune on the clean mix, which the poison-0 variant of a
            # sweep shares (same config, same key).
            reference, reference_name = None, "base"
            if c["diff"]["against"] == "clean":
                clean = self.add("data_clean", "data", {**c["data"], "poison": 0.0}, {},
                                 files=_files(c["data"]))
                reference = self.add("train_clean", "train", train,
                                     {"model": base, "data": clean})
                reference_name = "clean"
            for source in c["diff"]["on"]:
                feed = {"eval": answers.get("base"), "train": data}[source]
                if feed is None:
                    continue
                for who, extra, label in (("base", reference, reference_name),
                                          ("tuned", adapter, "tuned")):
                    acts[f"{who}_{source}"] = self.add(
                        f"acts_{who}_{source}", "acts", {"source": source, "layer": layer},
                        {"model": base, "adapter": extra, "texts": feed},
                        name_role=f"{label}-{source}")
            diff = self.add("diff", "diff", c["diff"], acts)

        if c["steer"] is not None and sae is not None and ev is not None:
            for who, extra in (("base", None), ("tuned", adapter)):
                if who == "tuned" and adapter is None:
                    continue
                cfg = {"steer": c["steer"], "layer": sae_cfg["layer"], "eval": ev, "target": who}
                self.add(f"steer_{who}", "steer", cfg,
                         {"model": base, "adapter": extra, "sae": sae,
                          "diff": diff if _is_top(c["steer"]["latents"]) else None,
                          "judge_model": judge_model(ev["judge"])}, name_role=who)

        realign = c["realign"]
        if realign is not None and adapter is not None and ev is not None:
            good = self.add("realign_data", "data",
                            {"type": "take", "dataset": realign["data"],
                             "size": realign["size"], "seed": realign["seed"]},
                            {}, name_role="realign", files=_files(realign["data"]))
            cfg = {k: v for k, v in realign.items() if k != "data"}
            self.add("realign", "realign", {"realign": cfg, "eval": ev},
                     {"model": base, "adapter": adapter, "data": good,
                      "judge_model": judge_model(ev["judge"])})


# Eval fields whose default lets each machine choose (like the device and batch size, which
# are not in the config at all): left out of the config while at that default, so keys stay
# the same on every machine; an explicit choice is part of the key.
MACHINE_CHOICES = {"backend": "auto"}


def machine_choices_dropped(ev: dict[str, Any] | None) -> dict[str, Any] | None:
    if ev is None:
        return None
    return {k: v for k, v in ev.items() if MACHINE_CHOICES.get(k, object()) != v}


class CompileError(Exception):
    def __init__(self, variant: Variant, message: str):
        super().__init__(f"{variant.file}: experiment `{variant.experiment}`: {message}")


def _files(spec: dict[str, Any] | None) -> tuple[str, ...]:
    """Data files a dataset / question spec reads (nested specs included)."""
    found: list[str] = []

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            if v.get("type") in ("jsonl", "yaml") and isinstance(v.get("path"), str):
                found.append(v["path"])
            if v.get("type") == "audit":
                found.append(v["reference"])
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(spec)
    return tuple(sorted(set(found)))


def compile_program(program: Program) -> Graph:
    graph = Graph()
    for exp in program.experiments:
        built = []
        for variant in exp.variants:
            builder = _Builder(graph, variant, program.root)
            builder.build()
            graph.variants.append(variant)
            rel = _rel(variant.file, program.root)
            graph.index[(rel, variant.experiment, variant.label)] = (variant, builder.roles)
            built.append((variant, builder.roles))
        _add_detector(graph, built)
        _add_summary(graph, built)
    _name_nodes(graph, program.root)
    return graph


def _poison_points(built: list[tuple[Variant, dict[str, str]]], *needs: str
                   ) -> list[tuple[Variant, dict[str, str]]]:
    """The variants of a ``data.poison`` sweep (2+ values) that have every role in ``needs``."""
    points = [(v, roles) for v, roles in built
              if "data.poison" in dict(v.axes) and all(r in roles for r in needs)]
    return points if len({dict(v.axes)["data.poison"] for v, _ in points}) >= 2 else []


def _add_shared(graph: Graph, node: Node, points: list[tuple[Variant, dict[str, str]]],
                role: str) -> None:
    """Add a node built from several variants; each of them is one of its users."""
    node = graph.add(node, points[0][0], role)
    for v, roles in points:
        if node.users[-1][0] is not v:
            node.users.append((v, role))
        roles[role] = node.key


def _add_detector(graph: Graph, built: list[tuple[Variant, dict[str, str]]]) -> None:
    """The early-warning detector of a poison sweep: latent activation vs behaviour.

    One node per experiment whose variants sweep ``data.poison`` and have a diff and a tuned
    judge; its inputs are every variant's diff and judge, in sweep order.
    """
    points = _poison_points(built, "diff", "judge_tuned")
    if not points:
        return
    inputs: dict[str, Node] = {}
    config_points = []
    for i, (v, roles) in enumerate(points):
        inputs[f"diff_{i}"] = graph.nodes[roles["diff"]]
        inputs[f"judge_{i}"] = graph.nodes[roles["judge_tuned"]]
        config_points.append({"poison": dict(v.axes)["data.poison"],
                              "axes": {p: x for p, x in v.axes if p != "data.poison"}})
    ev = points[0][0].config["eval"]
    config = {"points": config_points, "bootstrap": 1000, "seed": 0,
              "aligned_below": ev["aligned_below"], "coherent_above": ev["coherent_above"]}
    _add_shared(graph, Node("detector", config, inputs), points, "detector")


def _add_summary(graph: Graph, built: list[tuple[Variant, dict[str, str]]]) -> None:
    """Misaligned fraction vs poison, one row per variant: the data of that DVC plot.

    Cheap: it reads the tuned judges' metrics files, so it is its own node (never a detector's
    bootstrap) and runs for every poison sweep that is judged.
    """
    points = _poison_points(built, "judge_tuned")
    if not points:
        return
    inputs = {f"judge_{i}": graph.nodes[roles["judge_tuned"]]
              for i, (_, roles) in enumerate(points)}
    config = {"points": [{"poison": dict(v.axes)["data.poison"], "variant": v.label}
                         for v, _ in points]}
    _add_shared(graph, Node("summary", config, inputs, via_results=True), points, "summary")


@functools.cache
def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def slug(text: str) -> str:
    """A DVC-safe fragment: letters, digits, ``_`` and ``-`` only (``0.5`` → ``0p5``)."""
    text = re.sub(r"(?<=\d)\.(?=\d)", "p", str(text))
    text = re.sub(r"^-(?=\d)", "m", text)
    text = re.sub(r"[^A-Za-z0-9_-]+", "_", text)
    return text.strip("_-") or "x"


def _name_nodes(graph: Graph, root: Path) -> None:
    """Readable, stable names, independent of the order files and experiments came in.

    A node is named after its first user (by file, experiment, variant), keeping only the
    sweep axes whose values actually distinguish it within that experiment.
    """
    all_values: dict[tuple[str, str], dict[str, set]] = {}
    for v in graph.variants:
        axes = all_values.setdefault((_rel(v.file, root), v.experiment), {})
        for path, value in v.axes:
            axes.setdefault(path, set()).add(_hashable(value))

    def sort_key(user: tuple[Variant, str]) -> tuple:
        v, _ = user
        return (_rel(v.file, root), v.experiment, [(p, _hashable(x)) for p, x in v.axes])

    taken: dict[str, str] = {}
    for node in sorted(graph.nodes.values(), key=lambda n: (n.kind, n.key)):
        users = sorted(node.users, key=lambda u: repr(sort_key(u)))
        first, _ = users[0]
        if node.kind == "model":
            base = f"model-{slug(node.config.get('name') or node.config.get('dir'))}"
        else:
            same_exp = [v for v, _ in users if v.experiment == first.experiment
                        and v.file == first.file]
            every = all_values[(_rel(first.file, root), first.experiment)]
            parts = []
            for path, value in first.axes:
                seen = {_hashable(x) for v in same_exp for p, x in v.axes if p == path}
                if seen != every[path]:
                    parts.append(f"{slug(path.split('.')[-1])}_{slug(show_value(value))}")
            pieces = [node.kind, node.role, first.experiment, *parts]
            base = "-".join(slug(p) for p in pieces if p)
        name = base
        if name in taken and taken[name] != node.key:
            name = f"{base}-{node.key[:6]}"
        taken[name] = node.key
        node.name = name


def _hashable(value: Any) -> Any:
    return json.dumps(value, sort_keys=True)




def _is_top(latents: Any) -> bool:
    """Steering ``top(k)`` latents reads the diff's ranking; ids and ``random(k)`` do not."""
    return isinstance(latents, dict) and latents.get("type") == "top"
