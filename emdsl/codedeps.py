"""A stage's code identity: the source files whose change must rerun it.

A stage runs its kind's entry module, the shared runtime core the entry imports, and the
implementations its config selects (the judge backend, the sampler): ``Kind.code(config)``
names those, because the registries load them by name and no import statement shows them.
The rest is found by reading imports as text (nothing is imported), so the list follows the
code as it changes; a package's ``__init__.py`` counts, since importing a submodule runs it.

Inside the checkout the files are DVC deps; in a study elsewhere (emdsl installed as a
package) their bytes are hashed into the stage's params, so an upgrade that changes them
reruns exactly the stages that run them.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import re
from pathlib import Path

from emdsl.graph import Node
from emdsl.kinds import get_kind

PROJECT_PACKAGES = ("stages", "emdsl")
# Modules that decide which process runs a stage, never what it computes: no stage's identity
# (editing the warm worker must not rerun every stage of every study).
RUNTIME_ONLY = frozenset({"stages.lib.warm"})

# `import stages.x` / `from emdsl.builtin import datasets, questions` (parenthesised too).
_IMPORT = re.compile(r"^\s*(?:from|import)\s+((?:stages|emdsl)(?:\.\w+)*)"
                     r"(?:\s+import\s+(\([^)]*\)|[\w ,]+))?", re.MULTILINE)


def package_root() -> Path:
    """The folder holding the ``stages`` and ``emdsl`` packages (a checkout or site-packages)."""
    return Path(__file__).resolve().parent.parent


@functools.cache
def module_file(module: str) -> Path | None:
    """The source file of ``module``: found by path for emdsl's own packages (nothing is
    imported), through the import system for a third-party kind's entry module."""
    base = package_root() / module.replace(".", "/")
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    if module.split(".")[0] in PROJECT_PACKAGES:
        return None
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    return Path(spec.origin).resolve() if spec and spec.origin else None


def _with_parents(module: str) -> list[str]:
    """``stages.lib.judging.base`` and the packages whose ``__init__`` importing it runs."""
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


@functools.cache
def closure(modules: tuple[str, ...]) -> tuple[Path, ...]:
    """Source files of ``modules`` and of every project module they import, transitively."""
    todo = [m for module in modules for m in _with_parents(module)]
    seen: dict[Path, None] = {}
    done: set[str] = set()
    while todo:
        module = todo.pop()
        if module in done or module in RUNTIME_ONLY:
            continue
        done.add(module)
        path = module_file(module)
        if path is None or path in seen:
            continue
        seen[path] = None
        text = path.read_text(encoding="utf-8")
        for name, names in _IMPORT.findall(text):
            for m in [name, *(f"{name}.{n}" for n in re.findall(r"\w+", names))]:
                todo.extend(_with_parents(m))
    return tuple(sorted(seen))


def node_modules(node: Node) -> tuple[str, ...]:
    kind = get_kind(node.kind)
    return (kind.module, *kind.code(node.config))


def code_files(node: Node) -> list[Path]:
    """The source files ``node``'s stage runs and the builtin data it reads (absolute)."""
    data = get_kind(node.kind).data(node.config)
    return [*closure(node_modules(node)), *(package_root() / f for f in data)]


def code_deps(node: Node, root: Path) -> tuple[list[str], str | None]:
    """(files inside the project, as DVC deps; a hash of the files outside it, or None)."""
    root = root.resolve()
    inside, outside = [], []
    for path in code_files(node):
        try:
            inside.append(str(path.relative_to(root)))
        except ValueError:
            outside.append(path)
    if not outside:
        return sorted(inside), None
    return sorted(inside), _hash(tuple(outside))


@functools.cache
def _hash(paths: tuple[Path, ...]) -> str:
    base = package_root()
    h = hashlib.sha256()
    for path in paths:
        try:
            name = str(path.relative_to(base))
        except ValueError:
            name = path.name
        h.update(name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]
