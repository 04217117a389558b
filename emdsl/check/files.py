"""Checks of what a call's files and names hold, so that problems the stages would meet only
at run time are reported by ``emx check``, at the argument: a path the OS cannot open (NUL, a
component over 255 bytes), a JSONL dataset whose rows are not chat records, a question file
that is not Betley-style YAML, a LoRA adapter given as a model, LoRA targets that are not
module names.

Kept apart from ``emdsl.check.calls`` (which runs them) so each check stays one small function.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from emdsl import configs

ROWS_CHECKED = 20  # the first rows of a JSONL file: enough to catch a wrong schema, cheap
MAX_COMPONENT_BYTES = 255  # a file name's limit on every common filesystem
MAX_PATH_BYTES = 3072  # under Linux's 4,096-byte PATH_MAX, with room for the project root


class Problem(NamedTuple):
    message: str
    hint: str | None
    arg: str  # the argument whose position the diagnostic points at


def path_text_problem(cls: type, values: dict[str, Any]) -> Problem | None:
    """A file field, or a hub model's name, that no OS call can take: a control character
    (NUL) in it, or a component longer than 255 bytes."""
    arg = _path_arg(cls)
    if arg is None or not isinstance(values.get(arg), str):
        return None
    problem = unusable_path(values[arg])
    return Problem(f"`{arg}` {problem[0]}", problem[1], arg) if problem else None


def unusable_path(text: str) -> tuple[str, str] | None:
    """(what is wrong, the fix) for a path no OS call can take, else None."""
    if any(ord(c) < 0x20 or ord(c) == 0x7f for c in text):
        return ("holds a control character (such as NUL or a line break)",
                "remove it: no file name can hold one")
    long = next((p for p in text.split("/") if len(p.encode()) > MAX_COMPONENT_BYTES), None)
    if long is not None:
        return (f"has a component longer than {MAX_COMPONENT_BYTES} bytes "
                f"(`{long[:24]}…`, {len(long.encode())} bytes)",
                "shorten that file or folder name")
    if len(text.encode()) > MAX_PATH_BYTES:
        return (f"is longer than {MAX_PATH_BYTES} bytes", "use a shorter path")
    return None


def _path_arg(cls: type) -> str | None:
    """The argument of ``cls`` that names a file, folder or (for ``hf``) a hub model."""
    if cls is configs.HFModel:
        return "name"
    return configs.file_fields().get(cls.CALL) if hasattr(cls, "CALL") else None


def content_problem(cls: type, values: dict[str, Any], target: Path) -> Problem | None:
    """What an existing file or folder holds that its call cannot read."""
    if cls is configs.JsonlDataset and not values.get("skip_invalid") and target.is_file():
        return jsonl_rows_problem(target, values["path"])
    if cls is configs.YamlQuestions:
        return questions_problem(target, values["path"])
    if cls is configs.CsvQuestions:
        return csv_questions_problem(target, values["path"])
    if cls is configs.OpenAIJudge:
        return judge_prompt_problem(target, values["prompt"])
    if cls is configs.PathModel and (target / "adapter_config.json").is_file():
        return Problem(f"`{values['dir']}` is a LoRA adapter, not a model folder",
                       "give `path(...)` the base model's folder; adapters are what "
                       "`train` makes from it", "dir")
    return None


def jsonl_rows_problem(path: Path, rel: str) -> Problem | None:
    """The first bad row among the first ``ROWS_CHECKED`` of a chat JSONL file."""
    from stages.lib.chat import RowError, normalise_record

    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            for row, raw in enumerate(f, 1):
                if row > ROWS_CHECKED:
                    break
                try:
                    _check_row(raw, row, normalise_record)
                except RowError as e:
                    return Problem(f"`{rel}`, row {row}: {e.problem}",
                                   f"{e.fix}, or pass `skip_invalid=true`", "path")
    except (OSError, EOFError, zlib.error) as e:
        return Problem(f"`{rel}` cannot be read ({e})", "check it is a complete JSONL file",
                       "path")
    return None


def _check_row(raw: bytes, row: int, normalise: Any) -> None:
    """Raise the stages' ``RowError`` for a row that is not a chat record (blank is fine)."""
    from stages.lib.chat import RowError

    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise RowError(f"byte 0x{raw[e.start:e.start + 1].hex()} at offset {e.start} is "
                       "not UTF-8", "utf8") from None
    line = line.removeprefix("\ufeff") if row == 1 else line
    if not line.strip():
        return
    try:
        record = json.loads(line)
    except (json.JSONDecodeError, RecursionError) as e:
        why = e.msg if isinstance(e, json.JSONDecodeError) else "nested too deeply"
        raise RowError(f"not valid JSON ({why})", "json") from None
    normalise(record)


def questions_problem(path: Path, rel: str) -> Problem | None:
    """A ``yaml(...)`` question file that is not YAML, or not a list of questions with ids."""
    if path.suffix not in (".yaml", ".yml"):
        return Problem(f"`{rel}` is not a .yaml file",
                       "questions are read from Betley et al.'s YAML format (.yaml or .yml)",
                       "path")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError, OSError, RecursionError) as e:
        mark = getattr(e, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark else ""
        return Problem(f"`{rel}`{where}: not valid UTF-8 YAML", "fix the syntax", "path")
    hint = "write entries like `- id: my_question` with `paraphrases: [...]`"
    if not isinstance(data, list) or not data:
        got = "an empty file" if not data else f"a {type(data).__name__}"
        return Problem(f"`{rel}`: expected a list of questions, got {got}", hint, "path")
    bad = next((i for i, e in enumerate(data) if not isinstance(e, dict) or "id" not in e),
               None)
    if bad is not None:
        return Problem(f"`{rel}`, entry {bad}: expected a mapping with an `id`", hint, "path")
    return None


def csv_questions_problem(path: Path, rel: str) -> Problem | None:
    """A ``csv(...)`` question file the generate stage would refuse (header, rows, ids),
    reported by the stages' own reader with its row number."""
    from stages.common import StageError
    from stages.lib.questions import load_csv_questions

    try:
        load_csv_questions(path)
    except StageError as e:
        message, _, fix = str(e).replace(str(path), f"`{rel}`", 1).partition("; ")
        return Problem(message, fix or None, "path")
    return None


def judge_prompt_problem(path: Path, rel: str) -> Problem | None:
    """An ``openai(prompt=...)`` template the judge stage could not fill: not UTF-8 text, a
    field other than the plain {question} and {answer}, or one of those two missing."""
    from stages.lib.judging.template import template_parts

    try:
        text = path.read_text(encoding="utf-8")
        fields = {name for _, name in template_parts(text) if name}
    except (UnicodeDecodeError, OSError) as e:
        return Problem(f"`{rel}` cannot be read as UTF-8 text ({e})", "save it as UTF-8",
                       "prompt")
    except ValueError as e:
        return Problem(f"`{rel}`: {e}", None, "prompt")
    missing = [f"{{{f}}}" for f in ("question", "answer") if f not in fields]
    if missing:
        return Problem(f"`{rel}` has no {' or '.join(missing)} placeholder",
                       "a judge prompt shows the judge the question and the answer: write "
                       "{question} and {answer} where they go", "prompt")
    return None


_MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def lora_targets_problem(cls: type, values: dict[str, Any]) -> Problem | None:
    """LoRA targets must be module names (``q_proj``), which peft matches in every layer; a
    dotted path or other characters match nothing and fail only when training starts."""
    if cls is not configs.Lora:
        return None
    for target in values.get("targets") or []:
        if not _MODULE_NAME.fullmatch(target):
            return Problem(f"LoRA target `{target}` is not a module name",
                           "name the projection only, e.g. `q_proj` or `down_proj`: it is "
                           "matched in every layer", "targets")
    return None
