"""Where the builtin data files live, how they are read, and which ones a spec reads.

The data (one YAML file per dataset domain, question set and judge set, one text file per
judge prompt) ships inside the package under ``data/``; reading it costs only yaml and the
stdlib, and each file is parsed once per process.
"""

from __future__ import annotations

import functools
from importlib.resources import files
from typing import Any

import yaml

from emdsl.builtin.catalog import JUDGE_SETS, QUESTION_SETS

_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DATA = files(__package__) / "data"
_PREFIX = __package__.replace(".", "/") + "/data/"  # relative to the folder holding emdsl
PROMPTS = ("aligned", "coherent")


@functools.cache
def read_yaml(rel: str) -> Any:
    """A data file's parsed content (cached: callers copy before mutating)."""
    return yaml.load((_DATA / rel).read_text(encoding="utf-8"), Loader=_SafeLoader)


@functools.cache
def read_text(rel: str) -> str:
    """A text data file without its final newline."""
    return (_DATA / rel).read_text(encoding="utf-8").removesuffix("\n")


def dataset_file(domain: str) -> str:
    return f"datasets/{domain}.yaml"


def question_file(name: str) -> str:
    return f"questions/{name}.yaml"


def judge_file(name: str) -> str:
    return f"judge/{name}.yaml"


def prompt_file(name: str) -> str:
    return f"prompts/{name}.txt"


def builtin_files(spec: Any) -> tuple[str, ...]:
    """The builtin data files a resolved config (as in params.yaml) reads, sorted.

    A stage's DVC deps should be exactly the files it reads, so editing one domain's data
    reruns only that domain's stages. Walks dicts and lists; a ``{type: builtin}`` spec with
    ``domain`` is a dataset, one with ``name`` a question or judge set. Paths are relative
    to the folder holding the ``emdsl`` package, as DVC deps are.
    """
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "builtin":
                name = node.get("name")
                if "domain" in node:
                    found.add(_PREFIX + dataset_file(node["domain"]))
                elif name in QUESTION_SETS:
                    found.add(_PREFIX + question_file(name))
                elif name in JUDGE_SETS:
                    found.add(_PREFIX + judge_file(name))
            for value in node.values():
                walk(value)
        elif isinstance(node, list | tuple):
            for value in node:
                walk(value)

    walk(spec)
    return tuple(sorted(found))


def prompt_files() -> tuple[str, ...]:
    """The judge prompt files, as DVC deps of the stages that fill them in (judging, teacher
    labelling), relative to the folder holding the ``emdsl`` package."""
    return tuple(_PREFIX + prompt_file(p) for p in PROMPTS)
