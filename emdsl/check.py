"""AST → resolved experiments, or every problem in the files at once.

Loading follows imports (relative to the importing file, confined to the project root).
Resolution turns each expression into plain data with a ``type`` key, checked against the
typed configs in ``emdsl.configs`` and filled with their defaults. Experiments inherit
fields and sweeps through ``extends``; sweeps expand to variants (a Cartesian product).
"""

from __future__ import annotations

import copy
import itertools
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emdsl import ast, configs
from emdsl.diagnostics import Diagnostic, EmxError, did_you_mean, sort_key
from emdsl.mixing import bad_count
from emdsl.parse import parse_file

INVALID = object()  # a value that already produced a diagnostic


@dataclass(frozen=True)
class Variant:
    """One point of an experiment's sweep: a complete, validated config."""

    experiment: str
    file: Path
    axes: tuple[tuple[str, Any], ...]  # (("data.poison", 0.5), ("data.seed", 0))
    config: dict[str, Any]  # experiment field -> resolved value (None when absent)

    @property
    def label(self) -> str:
        return ",".join(f"{path.split('.')[-1]}={show_value(v)}" for path, v in self.axes)


@dataclass(frozen=True)
class Override:
    """A command-line override in Hydra syntax: ``train.lr=1e-4``, or a sweep ``data.seed=0,1``."""

    path: tuple[str, ...]
    values: tuple[Any, ...]
    sweep: bool
    text: str

    @property
    def pos(self) -> ast.Pos:
        return ast.Pos(COMMAND_LINE, 1, 1, len(self.text))


COMMAND_LINE = Path("<command line>")


@dataclass
class ResolvedExperiment:
    name: str
    file: Path
    variants: list[Variant]


@dataclass
class Program:
    root: Path
    modules: dict[Path, ast.Module]
    experiments: list[ResolvedExperiment]


def show_value(value: Any) -> str:
    """A sweep value as it appears in variant labels and stage names (``0.0``, ``medical``)."""
    if isinstance(value, dict):
        return value.get("domain") or value.get("name") or value.get("path") or value["type"]
    if isinstance(value, float) and value.is_integer():
        return f"{value:.1f}"
    return str(value)


def find_root(start: Path) -> Path:
    """The project root: the nearest folder up from ``start`` with dvc.yaml, .dvc or .git."""
    start = start.resolve()
    for folder in [start, *start.parents]:
        if any((folder / marker).exists() for marker in ("dvc.yaml", ".dvc", ".git")):
            return folder
    return start


def collect_files(paths: Iterable[Path]) -> list[Path]:
    """Expand folders to the .emx files in them, sorted, so the result ignores listing order."""
    files: set[Path] = set()
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files.update(q.resolve() for q in p.rglob("*.emx"))
        else:
            files.add(p.resolve())
    return sorted(files)


# --------------------------------------------------------------------------- loading


@dataclass
class _Scope:
    """The names visible in one file: its own statements plus those of its imports."""

    names: dict[str, tuple[ast.Declaration | ast.Experiment, Path]] = field(default_factory=dict)
    allowed: list[Path] = field(default_factory=list)  # `allow outside` folders, resolved


class Checker:
    def __init__(self, root: Path, overrides: dict[Path, list[Override]] | None = None):
        self.root = root.resolve()
        self.overrides = overrides or {}
        self.modules: dict[Path, ast.Module] = {}
        self.scopes: dict[Path, _Scope] = {}
        self.diagnostics: list[Diagnostic] = []
        self._loading: list[Path] = []
        self._decl_values: dict[int, Any] = {}
        self._resolving_decls: set[int] = set()
        # (experiment name) -> {dotted path -> position of the value}
        self.positions: dict[str, dict[str, ast.Pos]] = {}

    def error(self, pos: ast.Pos, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(pos, message, hint))

    # ------------------------------------------------------------------ files and scopes

    def load(self, path: Path, via: ast.Import | None = None) -> _Scope | None:
        path = path.resolve()
        if path in self._loading:
            cycle = [*self._loading[self._loading.index(path):], path]
            chain = " → ".join(self._rel(p) for p in cycle)
            assert via is not None and via.pos is not None
            self.error(via.pos, f"import cycle: {chain}", "remove one of these imports")
            return None
        if path in self.scopes:
            return self.scopes[path]
        module, diags = parse_file(path)
        self.diagnostics.extend(diags)
        scope = _Scope()
        self.scopes[path] = scope
        if module is None:
            return scope
        self.modules[path] = module
        self._loading.append(path)
        try:
            for stmt in module.statements:
                if isinstance(stmt, ast.AllowOutside):
                    self._allow(stmt, scope)
            for stmt in module.statements:
                if isinstance(stmt, ast.Import):
                    self._import(stmt, path, scope)
            for stmt in module.statements:
                if isinstance(stmt, (ast.Declaration, ast.Experiment)):
                    self._define(scope, stmt, path)
        finally:
            self._loading.pop()
        return scope

    def _rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def _allow(self, stmt: ast.AllowOutside, scope: _Scope) -> None:
        assert stmt.pos is not None
        folder = (self.root / stmt.path).resolve()
        if not folder.is_dir():
            self.error(stmt.pos, f"`allow outside` folder `{stmt.path}` does not exist",
                       f"paths are relative to the project root ({self.root})")
            return
        scope.allowed.append(folder)

    def _confined(self, target: Path, scope: _Scope) -> bool:
        """Inside the project root, or under a folder the file allows with `allow outside`."""
        return any(target.is_relative_to(folder) for folder in [self.root, *scope.allowed])

    def _import(self, stmt: ast.Import, path: Path, scope: _Scope) -> None:
        assert stmt.pos is not None
        target = (path.parent / stmt.path).resolve()
        if not self._confined(target, scope):
            self.error(stmt.pos, f"import `{stmt.path}` is outside the project root {self.root}",
                       _outside_hint(target, self.root))
            return
        if not target.is_file():
            near = [self._rel(p) for p in path.parent.glob("*.emx")]
            self.error(stmt.pos, f"imported file `{stmt.path}` does not exist",
                       did_you_mean(stmt.path, near) or "paths are relative to the importing file")
            return
        imported = self.load(target, via=stmt)
        if imported is None:
            return
        for name, (node, origin) in imported.names.items():
            existing = scope.names.get(name)
            if existing and existing[0] is not node:
                self.error(stmt.pos, f"`{name}` is imported twice, from {self._rel(existing[1])} "
                           f"and {self._rel(origin)}", "rename one of them")
                continue
            scope.names[name] = (node, origin)

    def _define(self, scope: _Scope, node: ast.Declaration | ast.Experiment, path: Path) -> None:
        pos = node.name_pos if isinstance(node, ast.Declaration) else node.pos
        assert pos is not None
        existing = scope.names.get(node.name)
        if existing is not None:
            where = existing[1]
            other = existing[0].name_pos if isinstance(existing[0], ast.Declaration) \
                else existing[0].pos
            at = f"{self._rel(where)}:{other.line}" if other else self._rel(where)
            self.error(pos, f"duplicate name `{node.name}`; it is already defined at {at}",
                       "give each declaration and experiment its own name")
            return
        scope.names[node.name] = (node, path)

    # ------------------------------------------------------------------ expressions

    def names_of_kind(self, scope: _Scope, roles: Iterable[str]) -> list[str]:
        roles = set(roles)
        return [n for n, (node, _) in scope.names.items()
                if isinstance(node, ast.Declaration) and node.kind in roles]

    def resolve(self, expr: ast.Expr, role: str, scope: _Scope, path: str,
                positions: dict[str, ast.Pos]) -> Any:
        """Resolve an expression expected to produce a value of ``role``."""
        assert expr.pos is not None
        positions[path] = expr.pos
        roles = (role, *configs.ROLE_ACCEPTS.get(role, ()))
        if isinstance(expr, ast.Ref):
            entry = scope.names.get(expr.name)
            if entry is None or not isinstance(entry[0], ast.Declaration):
                kinds = [r for r in roles if r in configs.DECLARABLE]
                noun = " or ".join(kinds) if kinds else role
                self.error(expr.pos, f"unknown {noun} `{expr.name}`",
                           did_you_mean(expr.name, self.names_of_kind(scope, roles)))
                return INVALID
            decl = entry[0]
            if decl.kind not in roles:
                self.error(expr.pos,
                           f"`{expr.name}` is a {decl.kind}, but a {role} is expected here",
                           did_you_mean(expr.name, self.names_of_kind(scope, roles)))
                return INVALID
            return self._declaration_value(decl, entry[1])
        if isinstance(expr, ast.Call):
            return self._call(expr, role, scope, path, positions)
        if role == "latents" and isinstance(expr, ast.ListExpr):
            return self.literal(expr, list[int])
        self.error(expr.pos, f"expected a {role}, got {_describe_expr(expr)}",
                   _examples_hint(role))
        return INVALID

    def _declaration_value(self, decl: ast.Declaration, path: Path) -> Any:
        if id(decl) in self._decl_values:
            return self._decl_values[id(decl)]
        if id(decl) in self._resolving_decls:
            assert decl.name_pos is not None
            self.error(decl.name_pos, f"`{decl.name}` refers to itself")
            return INVALID
        self._resolving_decls.add(id(decl))
        value = self.resolve(decl.value, decl.kind, self.scopes[path], decl.name, {})
        self._resolving_decls.discard(id(decl))
        self._decl_values[id(decl)] = value
        return value

    def _call(self, expr: ast.Call, role: str, scope: _Scope, path: str,
              positions: dict[str, ast.Pos]) -> Any:
        assert expr.pos is not None
        candidates = configs.calls_for(role)
        cls = candidates.get(expr.name)
        if cls is None:
            owner = [r for r, calls in configs.REGISTRY.items() if expr.name in calls]
            hint = did_you_mean(expr.name, candidates)
            if owner and not hint:
                hint = f"`{expr.name}(...)` makes a {owner[0]}; a {role} is expected here"
            self.error(expr.pos, f"unknown {role} `{expr.name}`", hint)
            return INVALID
        fields = configs.config_fields(cls)
        names = [f.name for f in fields]
        given: dict[str, ast.Expr] = {}
        ok = True
        if len(expr.args) > len(fields):
            extra = expr.args[len(fields)]
            assert extra.pos is not None
            self.error(extra.pos, f"`{expr.name}` takes at most {len(fields)} positional "
                       f"argument{'s' if len(fields) != 1 else ''}",
                       f"its arguments are: {', '.join(names) or 'none'}")
            ok = False
        for f, arg in zip(fields, expr.args, strict=False):  # extra args reported above
            given[f.name] = arg
        for kw in expr.kwargs:
            assert kw.pos is not None
            if kw.name not in names:
                self.error(kw.pos, f"`{expr.name}` has no argument `{kw.name}`",
                           did_you_mean(kw.name, names) or f"its arguments are: {', '.join(names)}")
                ok = False
            elif kw.name in given:
                self.error(kw.pos, f"argument `{kw.name}` given twice to `{expr.name}`")
                ok = False
            else:
                given[kw.name] = kw.value
        values: dict[str, Any] = {}
        for f in fields:
            if f.name not in given:
                if configs.is_required(f):
                    self.error(expr.pos, f"`{expr.name}(...)` is missing argument `{f.name}`",
                               f"write `{expr.name}({f.name}=...)`")
                    ok = False
                continue
            arg = given[f.name]
            sub = f"{path}.{f.name}"
            if f.metadata.get("role"):
                value = self.resolve(arg, f.metadata["role"], scope, sub, positions)
            else:
                assert arg.pos is not None
                positions[sub] = arg.pos
                value = self.literal(arg, configs.field_type(cls, f))
            if value is INVALID:
                ok = False
                continue
            problem = configs.check_value(cls, f, value)
            if problem:
                assert arg.pos is not None
                self.error(arg.pos, f"`{expr.name}(...)` argument `{f.name}`: {problem}",
                           _range_hint(f))
                ok = False
                continue
            values[f.name] = value
        if not ok:
            return INVALID
        hint = (_builtin_hint(cls, values) or self._file_problem(cls, values, scope)
                or _probe_problem(cls, values))
        if hint:
            self.error(given.get(hint[2], expr).pos or expr.pos, hint[0], hint[1])
            return INVALID
        try:
            return configs.build(cls, values)
        except ValueError as e:
            self.error(expr.pos, str(e))
            return INVALID

    def _file_problem(self, cls: type, values: dict[str, Any], scope: _Scope
                      ) -> tuple[str, str | None, str] | None:
        """Data files and model folders must exist inside the project root (or an allowed
        outside folder); a data file must not be empty."""
        arg = {configs.JsonlDataset: "path", configs.YamlQuestions: "path",
               configs.PathModel: "dir", configs.Audit: "reference",
               configs.JsonlJudgeData: "path"}.get(cls)
        if arg is None:
            return None
        rel = values[arg]
        target = (self.root / rel).resolve()  # follows symlinks: a link cannot escape either
        if not self._confined(target, scope):
            return (f"`{rel}` is outside the project root {self.root}",
                    _outside_hint(target, self.root), arg)
        if not target.exists():
            return (f"`{rel}` does not exist", "paths are relative to the project root "
                    f"({self.root})", arg)
        if target.is_file() and target.stat().st_size == 0:
            return (f"`{rel}` is empty", "add records to it, or point at another file", arg)
        return None

    def literal(self, expr: ast.Expr, tp: Any) -> Any:
        """A literal (number, string, bool, list of those) as plain data."""
        assert expr.pos is not None
        if isinstance(expr, (ast.Number, ast.String, ast.Bool)):
            return configs.coerce(tp, expr.value)
        if isinstance(expr, ast.ListExpr):
            items = [self.literal(item, configs.item_type(tp)) for item in expr.items]
            return INVALID if any(i is INVALID for i in items) else items
        if isinstance(expr, ast.Ref):
            self.error(expr.pos, f"expected {configs.type_name(tp)}, got the name `{expr.name}`",
                       "write a literal value here; names refer to declarations")
        else:
            self.error(expr.pos, f"expected {configs.type_name(tp)}, got {_describe_expr(expr)}")
        return INVALID

    # ------------------------------------------------------------------ experiments

    def experiment(self, node: ast.Experiment, path: Path) -> ResolvedExperiment | None:
        chain = self._extends_chain(node, path)
        if chain is None:
            return None
        positions: dict[str, ast.Pos] = {}
        self.positions[node.name] = positions
        config: dict[str, Any] = {name: None for name in configs.EXPERIMENT_FIELDS}
        sweeps: dict[tuple[str, ...], tuple[ast.Sweep, Path]] = {}
        ok = True
        for exp, exp_path in chain:  # ancestors first, so children override
            scope = self.scopes[exp_path]
            seen: set[str] = set()
            for member in exp.members:
                assert member.pos is not None
                if isinstance(member, ast.Sweep):
                    sweeps[member.path] = (member, exp_path)
                    continue
                if member.name in seen:
                    self.error(member.pos, f"`{member.name}` is set twice in experiment "
                               f"`{exp.name}`", "keep one of them")
                    ok = False
                    continue
                seen.add(member.name)
                role = configs.EXPERIMENT_FIELDS.get(member.name)
                if role is None:
                    self.error(member.pos, f"experiments have no field `{member.name}`",
                               did_you_mean(member.name, configs.EXPERIMENT_FIELDS))
                    ok = False
                    continue
                value = self.resolve(member.value, role, scope, member.name, positions)
                if value is INVALID:
                    ok = False
                else:
                    config[member.name] = value
        if not ok:
            return None
        if config["base"] is None:
            assert node.pos is not None
            self.error(node.pos, f"experiment `{node.name}` has no `base` model",
                       "add `base = <model>` to it or to the experiment it extends")
            return None
        axes: list[tuple[str, list[Any]]] = []
        for key, (sweep, sweep_path) in sweeps.items():
            values = self._sweep_values(sweep, config, self.scopes[sweep_path])
            if values is None:
                ok = False
            else:
                axes.append((".".join(key), values))
        for override in self.overrides.get(path, []):
            ok = self._override(override, config, axes) and ok
        if not ok:
            return None
        if not self._cross_checks(node, config, positions):
            return None
        variants = []
        for combo in itertools.product(*(values for _, values in axes)):
            point = [(p, v) for (p, _), v in zip(axes, combo, strict=True)]
            variant = Variant(node.name, path, tuple(point), _apply(config, point))
            problem = mix_problem(variant.config["data"])
            if problem:
                where = f" (variant {variant.label})" if variant.label else ""
                self.error(positions.get("data", node.pos), problem + where,
                           "lower `size` or `poison`, or mix in a larger dataset")
                return None
            variants.append(variant)
        return ResolvedExperiment(node.name, path, variants)

    def _extends_chain(self, node: ast.Experiment, path: Path
                       ) -> list[tuple[ast.Experiment, Path]] | None:
        chain = [(node, path)]
        seen = [node.name]
        current, current_path = node, path
        while current.extends is not None:
            scope = self.scopes[current_path]
            entry = scope.names.get(current.extends)
            assert current.extends_pos is not None
            if entry is None or not isinstance(entry[0], ast.Experiment):
                exps = [n for n, (x, _) in scope.names.items() if isinstance(x, ast.Experiment)]
                self.error(current.extends_pos, f"unknown experiment `{current.extends}`",
                           did_you_mean(current.extends, exps))
                return None
            parent, parent_path = entry
            if parent.name in seen:
                cycle = " → ".join([*seen, parent.name])
                self.error(current.extends_pos, f"`extends` cycle: {cycle}",
                           "an experiment cannot extend itself, directly or not")
                return None
            seen.append(parent.name)
            chain.append((parent, parent_path))
            current, current_path = parent, parent_path
        return list(reversed(chain))

    def _cross_checks(self, node: ast.Experiment, config: dict[str, Any],
                      positions: dict[str, ast.Pos]) -> bool:
        """Rules that span fields: what steering needs, layers within the model's depth."""
        assert node.pos is not None
        ok = True

        def need(field_name: str, *required: str, why: str) -> None:
            nonlocal ok
            if config[field_name] is None:
                return
            for r in required:
                if config[r] is None:
                    self.error(positions.get(field_name, node.pos),
                               f"`{field_name}` needs `{r}` in experiment `{node.name}`", why)
                    ok = False

        need("diff", "sae", "train", why="diffing compares the SAE latents of base and tuned model")
        need("steer", "sae", "eval", why="steering adds SAE decoder directions and judges answers")
        diff = config["diff"]
        if diff is not None and diff["against"] == "clean" and not (
                (config["data"] or {}).get("type") == "mix"
                and (config["train"] or {}).get("type") == "sft"):
            self.error(positions.get("diff.against", positions.get("diff", node.pos)),
                       '`diff(against="clean")` needs `data = mix(...)` and `train = sft(...)`',
                       "the clean reference is the same fine-tune on the mix's good data "
                       '(poison 0); use `against="base"` otherwise')
            ok = False
        need("realign", "train", "eval", why="re-alignment continues from the tuned model")
        steer = config["steer"]
        if steer is not None and isinstance(steer["latents"], dict) \
                and steer["latents"]["type"] == "top":
            if config["diff"] is None:
                self.error(positions.get("steer.latents", node.pos),
                           "steering `top(k)` latents needs a `diff` in this experiment",
                           "add `diff = diff(top=20)`, or list latent ids: `latents=[10, 89]`")
                ok = False
            elif steer["latents"]["k"] > config["diff"]["top"]:
                self.error(positions.get("steer.latents", node.pos),
                           f"`top({steer['latents']['k']})` asks for more latents than the diff "
                           f"keeps ({config['diff']['top']})", "raise `diff(top=...)`")
                ok = False
        if config["sae"] is not None and steer is not None and isinstance(steer["latents"], list):
            bad = [i for i in steer["latents"] if not 0 <= i < config["sae"]["width"]]
            if bad:
                self.error(positions.get("steer.latents", node.pos),
                           f"latent ids {bad} are outside the SAE's width "
                           f"({config['sae']['width']})", "ids run from 0 to width - 1")
                ok = False
        depth = model_depth(config["base"])
        if depth is not None and config["sae"] is not None and config["sae"]["layer"] >= depth:
            self.error(positions.get("sae.layer", node.pos),
                       f"layer {config['sae']['layer']} is beyond the model's depth ({depth} "
                       "layers)", f"use a layer from 0 to {depth - 1}")
            ok = False
        return ok

    def _override(self, override: Override, config: dict[str, Any],
                  axes: list[tuple[str, list[Any]]]) -> bool:
        """Apply a command-line override in place: a plain value, or a (replacing) sweep."""
        dotted = ".".join(override.path)
        target = locate(config, override.path)
        if isinstance(target, str):
            self.error(override.pos, f"cannot override `{dotted}`: {target}",
                       _path_hint(config, override.path))
            return False
        cls, f = target
        if f is None or f.metadata.get("role"):
            self.error(override.pos, f"`{dotted}` is not a plain value",
                       "override numbers, strings or booleans, e.g. `train.lr=1e-4`")
            return False
        values = [configs.coerce(configs.field_type(cls, f), v) for v in override.values]
        for v in values:
            problem = configs.check_value(cls, f, v)
            if problem:
                self.error(override.pos, f"override `{override.text}`: {problem}", _range_hint(f))
                return False
        axes[:] = [(p, vs) for p, vs in axes if p != dotted]
        if override.sweep:
            axes.append((dotted, values))
        else:
            config.update(_apply(config, [(dotted, values[0])]))
        return True

    def _sweep_values(self, sweep: ast.Sweep, config: dict[str, Any],
                      scope: _Scope) -> list[Any] | None:
        assert sweep.pos is not None
        dotted = ".".join(sweep.path)
        target = locate(config, sweep.path)
        if isinstance(target, str):
            self.error(sweep.pos, f"cannot sweep `{dotted}`: {target[0].lower()}{target[1:]}",
                       _path_hint(config, sweep.path))
            return None
        cls, f = target
        if not sweep.values.items:
            self.error(sweep.pos, f"sweep over `{dotted}` has no values", "list at least one")
            return None
        values = []
        for item in sweep.values.items:
            assert item.pos is not None
            if f is None:  # a whole experiment field, e.g. `sweep data = [a, b]`
                role = configs.EXPERIMENT_FIELDS[sweep.path[0]]
                value = self.resolve(item, role, scope, dotted, {})
            elif f.metadata.get("role"):
                value = self.resolve(item, f.metadata["role"], scope, dotted, {})
            else:
                value = self.literal(item, configs.field_type(cls, f))
            if value is INVALID:
                return None
            if f is not None:
                problem = configs.check_value(cls, f, value)
                if problem:
                    self.error(item.pos, f"sweep value for `{dotted}`: {problem}", _range_hint(f))
                    return None
            values.append(value)
        if len({_freeze(v) for v in values}) != len(values):
            self.error(sweep.pos, f"sweep over `{dotted}` repeats a value", "list each value once")
            return None
        return values


# --------------------------------------------------------------------------- helpers


def _outside_hint(target: Path, root: Path) -> str:
    folder = os.path.relpath(target.parent, root)
    return (f"copy the file into the project, or, to read it in place, add "
            f'`allow outside "{folder}"` at the top of this file')


def _probe_problem(cls: type, values: dict[str, Any]) -> tuple[str, str, str] | None:
    """A probe judge reading a layer its model does not have, or distilled from a probe."""
    if cls is not configs.ProbeJudge:
        return None
    teacher = values.get("labels")
    if teacher is not None and teacher["type"] not in ("local", "openai"):
        return (f"a probe cannot learn from a {teacher['type']} judge's labels",
                "distil from a `local(...)` or `openai(...)` judge", "labels")
    depth = model_depth(values.get("model"))
    layer = values.get("layer", 8)
    if depth is not None and layer >= depth:
        return (f"layer {layer} is beyond the model's depth ({depth} layers)",
                f"use a layer from 0 to {depth - 1}", "layer")
    return None


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


def model_depth(model: dict[str, Any] | None) -> int | None:
    """Number of decoder layers, where known without loading the model."""
    if model and model["type"] == "embedded":
        return configs.EMBEDDED_MODELS[model["name"]]["layers"]
    return None


def locate(config: dict[str, Any], path: tuple[str, ...]):
    """The (config class, field) a dotted path names, or a message saying why it names none.

    A one-part path names a whole experiment field: ``(None, None)``.
    """
    head, *rest = path
    if head not in configs.EXPERIMENT_FIELDS:
        return f"experiments have no field `{head}`"
    value = config.get(head)
    if value is None:
        return f"this experiment sets no `{head}`"
    role = configs.EXPERIMENT_FIELDS[head]
    cls = f = None
    walked = head
    for part in rest:
        if not isinstance(value, dict):
            return f"`{walked}` is not a call with fields"
        cls = configs.calls_for(role)[value["type"]]
        names = {x.name: x for x in configs.config_fields(cls)}
        if part not in names:
            return f"`{walked}` is `{value['type']}(...)`, which has no field `{part}`"
        f = names[part]
        role = f.metadata.get("role", "")
        value = value.get(part)
        walked += "." + part
    return (cls, f)


def _path_hint(config: dict[str, Any], path: tuple[str, ...]) -> str | None:
    head, *rest = path
    if head not in configs.EXPERIMENT_FIELDS:
        return did_you_mean(head, configs.EXPERIMENT_FIELDS)
    value = config.get(head)
    walked = [head]
    for part in rest:
        if not isinstance(value, dict):
            return None
        names = [k for k in value if k != "type"]
        if part not in value:
            return did_you_mean(part, names) or f"`{'.'.join(walked)}` has: {', '.join(names)}"
        value = value[part]
        walked.append(part)
    return None


def _apply(config: dict[str, Any], assignments: list[tuple[str, Any]]) -> dict[str, Any]:
    """A copy of ``config`` with dotted paths set, each touched call re-validated."""
    out = copy.deepcopy(config)
    for dotted, value in assignments:
        head, *rest = dotted.split(".")
        if not rest:
            out[head] = copy.deepcopy(value)
            continue
        role = configs.EXPERIMENT_FIELDS[head]
        chain = [(out[head], role)]
        for part in rest[:-1]:
            node, node_role = chain[-1]
            cls = configs.calls_for(node_role)[node["type"]]
            sub_role = {f.name: f.metadata.get("role", "") for f in configs.config_fields(cls)}
            chain.append((node[part], sub_role[part]))
        chain[-1][0][rest[-1]] = copy.deepcopy(value)
        # Re-validate from the innermost call outwards (defaults and ranges hold again).
        for node, node_role in reversed(chain):
            rebuilt = configs.rebuild(node, node_role)
            node.clear()
            node.update(rebuilt)
    return out


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _describe_expr(expr: ast.Expr) -> str:
    if isinstance(expr, ast.Number):
        return f"the number {expr.text}"
    if isinstance(expr, ast.String):
        return f'the string "{expr.value}"'
    if isinstance(expr, ast.Bool):
        return "a boolean"
    if isinstance(expr, ast.ListExpr):
        return "a list"
    if isinstance(expr, ast.Ref):
        return f"the name `{expr.name}`"
    return f"`{expr.name}(...)`"


def _examples_hint(role: str) -> str | None:
    calls = sorted(configs.calls_for(role))
    return f"write one of: {', '.join(c + '(...)' for c in calls)}" if calls else None


def _range_hint(f) -> str | None:
    ge, gt, le = (f.metadata.get(k) for k in ("ge", "gt", "le"))
    if ge is not None and le is not None:
        return f"`{f.name}` must be between {ge:g} and {le:g}"
    if gt is not None:
        return f"`{f.name}` must be greater than {gt:g}"
    if ge is not None:
        return f"`{f.name}` must be at least {ge:g}"
    return None


def _builtin_hint(cls: type, values: dict[str, Any]) -> tuple[str, str | None, str] | None:
    """Unknown builtin dataset / question-set names, with a did-you-mean."""
    from emdsl.builtin.catalog import DATASET_DOMAINS, JUDGE_SETS, QUESTION_SETS

    if cls is configs.BuiltinDataset:
        domain = values.get("domain")
        if domain not in DATASET_DOMAINS:
            return (f"unknown builtin dataset `{domain}`", did_you_mean(domain, DATASET_DOMAINS),
                    "domain")
        variant = values.get("variant", "correct")
        if variant not in DATASET_DOMAINS[domain]:
            return (f"builtin dataset `{domain}` has no variant `{variant}`",
                    did_you_mean(variant, DATASET_DOMAINS[domain]), "variant")
    if cls is configs.BuiltinQuestions and values.get("name") not in QUESTION_SETS:
        name = values.get("name")
        return (f"unknown builtin question set `{name}`", did_you_mean(name, QUESTION_SETS),
                "name")
    if cls is configs.BuiltinJudgeData and values.get("name", "judge") not in JUDGE_SETS:
        name = values.get("name")
        return (f"unknown builtin judge set `{name}`", did_you_mean(name, JUDGE_SETS), "name")
    if cls is configs.EmbeddedModel and values.get("name") not in configs.EMBEDDED_MODELS:
        name = values.get("name")
        return (f"unknown embedded model `{name}`", did_you_mean(name, configs.EMBEDDED_MODELS),
                "name")
    return None


# --------------------------------------------------------------------------- entry points


def check_files(paths: Iterable[Path], root: Path | None = None,
                overrides: dict[Path, list[Override]] | None = None,
                ) -> tuple[Program | None, list[Diagnostic]]:
    """Load, resolve and validate ``paths`` (files or folders). Never raises on bad input.

    ``overrides`` maps a file to the command-line overrides for its experiments.
    """
    files = collect_files(paths)
    if not files:
        return None, []
    root = (root or find_root(files[0].parent)).resolve()
    checker = Checker(root, {p.resolve(): o for p, o in (overrides or {}).items()})
    for f in files:
        if not f.exists():
            checker.error(ast.Pos(f, 1, 1), "file not found")
            continue
        checker.load(f)
    experiments: list[ResolvedExperiment] = []
    for f in files:
        module = checker.modules.get(f)
        if module is None:
            continue
        for stmt in module.statements:
            if isinstance(stmt, ast.Experiment):
                resolved = checker.experiment(stmt, f)
                if resolved is not None:
                    experiments.append(resolved)
    # Every declaration is checked, used or not, imported or not (their errors are real errors).
    for path, module in checker.modules.items():
        for stmt in module.statements:
            if isinstance(stmt, ast.Declaration):
                checker._declaration_value(stmt, path)
    diags = sorted(_dedupe(checker.diagnostics), key=sort_key)
    if diags:
        return None, diags
    return Program(root, checker.modules, experiments), []


def check_or_raise(paths: Iterable[Path], root: Path | None = None,
                   overrides: dict[Path, list[Override]] | None = None) -> Program:
    program, diags = check_files(paths, root, overrides)
    if diags:
        raise EmxError(diags)
    if program is None:
        raise EmxError([])
    return program


def _dedupe(diags: list[Diagnostic]) -> list[Diagnostic]:
    seen = set()
    out = []
    for d in diags:
        key = (d.pos.path, d.pos.line, d.pos.column, d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out

