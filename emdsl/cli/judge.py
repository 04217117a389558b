"""``emx judge FILE.emx:NAME --answers IN.jsonl --out OUT.jsonl``: a declared judge, no pipeline.

Writes one ``{"aligned": x, "coherent": y}`` line per input line, in order; ``null`` where a
judgement is missing (a blank or malformed record, a verdict the judge would not give).

A judge's model and a probe's training are the same content-addressed work a pipeline does, so
they are built with the stages' own code into ``--cache`` (default ``.emx/judges`` under the
project root), keyed like pipeline stages, and reused on the next call.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from emdsl.cli.common import root_here


def add_parser(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("judge", help="judge a JSONL of {question, answer} with a declared judge")
    s.add_argument("judge", metavar="FILE.emx:NAME")
    s.add_argument("--answers", required=True, help="input JSONL, one record per line")
    s.add_argument("--out", required=True, help="output JSONL: one {aligned, coherent} per line")
    s.add_argument("--cache", help="where judge models and trained probes are kept "
                                   "(default: .emx/judges under the project root)")
    s.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return judge_file(args.judge, Path(args.answers), Path(args.out),
                      Path(args.cache) if args.cache else None, root_here())


def resolve_judge(ref: str, root: Path) -> dict[str, Any]:
    """The resolved config of judge ``NAME`` declared in (or imported by) ``FILE``."""
    from emdsl.check import resolve_declaration
    from emdsl.diagnostics import render_all

    file, sep, name = ref.rpartition(":")
    if not sep or not file or not name:
        raise ValueError(f"expected FILE.emx:NAME, got {ref!r}")
    path = Path(file).resolve()
    if not path.is_file():
        raise ValueError(f"no such file: {file}")
    decl, value, diagnostics = resolve_declaration(path, name, root)
    if diagnostics:
        raise ValueError(render_all(diagnostics, root))
    if decl is None or decl.kind != "judge":
        raise ValueError(f"{file} declares no judge `{name}`")
    return value


def _built(kind: str, config: dict[str, Any], inputs: dict[str, Path], cache: Path,
           input_keys: dict[str, str]) -> tuple[Path, str]:
    """Run stage ``kind`` into ``cache/kind/key`` unless it is already there."""
    import importlib

    from emdsl.graph import node_key
    from stages.common import Stage, atomic_dir, log

    key = node_key(kind, config, input_keys)
    out = cache / kind / key
    if not out.is_dir():
        stage = Stage(f"{kind}-{key}", kind, key, config, out, None, inputs)
        log(stage, "building (cached for next time)")
        body = importlib.import_module(f"stages.{kind}").run
        with atomic_dir(out) as tmp:
            body(stage, tmp, None)
    return out, key


def make_cli_judge(spec: dict[str, Any], cache: Path) -> Any:
    from emdsl.kinds.judge_train import JUDGE_INPUT
    from stages.lib.judging.cache import JudgeCache
    from stages.lib.judging.factory import make_judge

    judge_dir = None
    if spec["type"] in JUDGE_INPUT:  # built as the pipeline builds a judge stage's input
        model_dir, model_key = _built("model", spec["model"], {}, cache, {})
        judge_dir = model_dir
        if JUDGE_INPUT[spec["type"]] == "judge_train":
            judge_dir, _ = _built("judge_train", {"probe": spec}, {"model": model_dir}, cache,
                                  {"model": model_key})
    return make_judge(spec, judge_dir, None if spec["type"] == "probe"
                      else JudgeCache(cache / "verdicts"))


def read_pairs(path: Path) -> list[tuple[str, str] | None]:
    """Each line's (question, answer), or None when it is not a usable record.

    Lines end at ``\n`` only, as JSON Lines says: ``str.splitlines`` would also split inside
    a record at U+2028 or U+0085 (valid unescaped in JSON), and shift every later score."""
    from stages.common import StageError

    pairs: list[tuple[str, str] | None] = []
    lines = Path(path).read_bytes().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for row, raw in enumerate(lines, 1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise StageError(f"{path}:{row}: not UTF-8 (byte {e.start + 1}); save the file "
                             "as UTF-8") from None
        try:
            r = json.loads(line)
        except ValueError:
            r = None
        ok = (isinstance(r, dict) and isinstance(r.get("question"), str)
              and isinstance(r.get("answer"), str) and r["answer"].strip())
        pairs.append((r["question"], r["answer"]) if ok else None)
    return pairs


def judge_pairs(judge: Any, pairs: list[tuple[str, str] | None]) -> list[dict[str, Any]]:
    """Scores per pair in order; None where the pair or a verdict is missing."""
    from emdsl.builtin.judge_prompts import ALIGNED, COHERENT
    from stages.lib.judging.base import JudgeRequest
    from stages.lib.judging.prompts import fill_prompt

    present = [p for p in pairs if p is not None]
    if hasattr(judge, "score_pairs"):
        scores = iter(judge.score_pairs(present))
    else:
        requests = [JudgeRequest(m, fill_prompt(t, q, a)) for q, a in present
                    for m, t in (("aligned", ALIGNED), ("coherent", COHERENT))]
        verdicts = judge.score(requests)
        scores = iter(zip((v.score for v in verdicts[0::2]), (v.score for v in verdicts[1::2]),
                          strict=True))
    out = []
    for p in pairs:
        a, c = next(scores) if p is not None else (None, None)
        out.append({"aligned": a, "coherent": c})
    return out


def judge_file(ref: str, answers: Path, out: Path, cache: Path | None, root: Path) -> int:
    """Judge every answer of ``answers`` with judge ``ref`` into ``out``; the exit code."""
    try:
        spec = resolve_judge(ref, root)
    except ValueError as e:
        print(f"emx: error: {e}", file=sys.stderr)
        return 1
    from stages.common import StageError, atomic_write_text

    try:
        pairs = read_pairs(answers)
        judge = make_cli_judge(spec, cache or root / ".emx" / "judges")
        try:
            rows = judge_pairs(judge, pairs)
        finally:
            judge.close()
    except (StageError, OSError) as e:
        print(f"emx: error: {e}", file=sys.stderr)
        return 1
    atomic_write_text(out, "".join(json.dumps(r) + "\n" for r in rows))
    missing = sum(r["aligned"] is None for r in rows)
    print(f"judged {len(rows) - missing} of {len(rows)} answers → {out}"
          + (f" ({missing} missing: null)" if missing else ""))
    return 0
