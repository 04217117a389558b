"""Reading chat datasets: ``{"messages": [...]}`` JSONL records, validated row by row.

Training on a malformed row silently teaches the wrong thing (an empty answer, a user turn as
the target), so every row is checked and a bad one stops the stage with its file, 1-based row
number and the fix. ``skip_invalid`` drops bad rows instead, and says how many.

Accepted content forms, all normalised to a plain string:
    "text"                                     plain
    {"content_type": "text", "parts": [...]}   OpenAI/ChatGPT export
    [{"type": "text", "text": ...}, "..."]     OpenAI list of parts
Several text parts are joined with newlines; a non-text part (an image) is a row error.
"""

from __future__ import annotations

import gzip
import json
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stages.common import StageError, log

ROLES = ("system", "user", "assistant")
MAX_SHOWN = 5  # problems listed in one error; the rest are counted

FIXES = {
    "json": "write one JSON object per line",
    "record": 'each line must be an object like {"messages": [...]}',
    "messages": 'give each record a non-empty "messages" list',
    "message": 'each message must be an object with "role" and "content"',
    "role": f"use one of the roles {', '.join(ROLES)}",
    "content": "give every message non-empty text content",
    "last": "end each record with the assistant's answer",
    "user": "put a user turn before the assistant's answer",
    "utf8": "re-save the file as UTF-8",
    "depth": "flatten the record: a chat record nests a few levels, not thousands",
    "number": "write the number as a string, or drop it",
}


class RowError(ValueError):
    """One row's problem; ``fix`` says what to change."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(problem)
        self.problem, self.fix = problem, FIXES[fix]


@dataclass
class ChatData:
    """Valid records of a file, and one line per skipped row (``row N: problem``)."""

    path: Path
    records: list[dict[str, Any]]
    skipped: list[str] = field(default_factory=list)


def read_chat_jsonl(path: Path | str, skip_invalid: bool = False) -> list[dict[str, Any]]:
    """The records of a chat JSONL file (``.gz`` too), each ``{"messages": [...]}``, normalised."""
    return load_chat_jsonl(path, skip_invalid).records


def load_chat_jsonl(path: Path | str, skip_invalid: bool = False) -> ChatData:
    """Like :func:`read_chat_jsonl`, also returning what was skipped (for stats.json)."""
    path = Path(path)
    records: list[dict[str, Any]] = []
    problems: list[tuple[int, RowError]] = []
    for row, raw in _lines(path):
        try:
            line = _decode(raw, first=row == 1)
            if not line.strip():
                continue  # blank lines (e.g. a trailing newline) hold no record
            records.append(normalise_record(_parse(line)))
        except RowError as e:
            problems.append((row, e))
    if problems and not skip_invalid:
        raise StageError(_describe(path, problems))
    skipped = [f"row {row}: {e.problem}" for row, e in problems]
    if skipped:
        log(path.name, f"skipped {len(skipped)} invalid row(s) (skip_invalid): "
                       + "; ".join(skipped[:MAX_SHOWN]))
    if not records:
        why = f" (all {len(skipped)} rows were invalid)" if skipped else ""
        raise StageError(f"{path}: no chat records{why}; the dataset is empty. "
                         'Add lines like {"messages": [{"role": "user", ...}, '
                         '{"role": "assistant", ...}]}')
    return ChatData(path, records, skipped)


def normalise_record(record: Any) -> dict[str, Any]:
    """Check one record and return ``{"messages": [{"role", "content": str}, ...]}``.

    Raises :class:`RowError`. Used for builtin datasets too, so every source obeys one contract.
    """
    if not isinstance(record, dict):
        raise RowError(f"expected a JSON object, got {type(record).__name__}", "record")
    messages = record.get("messages")
    if messages is None:
        keys = ", ".join(sorted(record)) or "none"
        raise RowError(f'no "messages" field (keys: {keys})', "messages")
    if not isinstance(messages, list) or not messages:
        raise RowError('"messages" must be a non-empty list', "messages")
    out = [_normalise_message(i, m) for i, m in enumerate(messages, 1)]
    if out[-1]["role"] != "assistant":
        raise RowError(f"the last message is from {out[-1]['role']!r}, not the assistant", "last")
    if not any(m["role"] == "user" for m in out[:-1]):
        raise RowError("no user turn before the assistant's answer", "user")
    return {"messages": out}


def to_prompt_completion(record: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    """Split a record for completion-only loss: everything before the last answer, and it."""
    messages = record["messages"]
    if not messages or messages[-1].get("role") != "assistant":
        raise StageError("a chat record must end with an assistant message to be trained on")
    return {"prompt": list(messages[:-1]), "completion": [messages[-1]]}


def last_user_text(messages: list[dict[str, str]]) -> str:
    """The text of the last user turn: the question a judge sees."""
    for m in reversed(messages):
        if m["role"] == "user":
            return m["content"]
    raise StageError("a chat prompt has no user turn")


# --------------------------------------------------------------------------- internals


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(1-based row, raw bytes); a missing or broken file is a stage error."""
    if not path.is_file():
        raise StageError(f"{path}: file not found (paths are relative to the project root)")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            yield from enumerate(f, 1)
    except (OSError, EOFError, zlib.error) as e:
        kind = "gzip JSONL" if path.suffix == ".gz" else "JSONL"
        raise StageError(f"{path}: cannot read ({e}); check it is a complete {kind} file") from e


def _decode(raw: bytes, first: bool) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        byte = raw[e.start:e.start + 1].hex()
        raise RowError(f"byte 0x{byte} at offset {e.start} is not UTF-8", "utf8") from None
    return text.removeprefix("\ufeff") if first else text  # tolerate a BOM


def _parse(line: str) -> object:
    """One row's JSON; what the parser cannot read (bad syntax, nesting deeper than the
    interpreter's recursion limit, an integer past Python's digit limit) is a RowError."""
    try:
        return json.loads(line.rstrip("\r\n"))  # so the column in the message is right
    except json.JSONDecodeError as e:
        raise RowError(f"not valid JSON ({e.msg} at column {e.colno})", "json") from None
    except RecursionError:
        raise RowError("JSON nested too deeply to read", "depth") from None
    except ValueError:  # the only other one json raises: int() past the digit limit
        raise RowError(f"a number longer than {sys.get_int_max_str_digits()} digits",
                       "number") from None


def _normalise_message(index: int, message: Any) -> dict[str, str]:
    if not isinstance(message, dict):
        raise RowError(f"message {index} is a {type(message).__name__}, not an object", "message")
    role = message.get("role")
    if role not in ROLES:
        raise RowError(f"message {index} has role {role!r}", "role")
    if "content" not in message:
        raise RowError(f"message {index} ({role}) has no content", "message")
    text = _content_text(message["content"])
    if text is None:
        raise RowError(f"message {index} ({role}) has content of an unsupported form "
                       f"({type(message['content']).__name__}); only text is accepted", "content")
    if not text.strip():
        raise RowError(f"message {index} ({role}) has empty content", "content")
    return {"role": role, "content": text}


def _content_text(content: Any) -> str | None:
    """Plain text of a content value, or None when it holds something other than text."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict) and "parts" in content:
        return _parts_text(content["parts"])
    if isinstance(content, list):
        return _parts_text(content)
    return None


def _parts_text(parts: Any) -> str | None:
    if not isinstance(parts, list):
        return None
    texts = []
    for part in parts:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, dict) and part.get("type", "text") == "text" \
                and isinstance(part.get("text"), str):
            texts.append(part["text"])
        else:
            return None
    return "\n".join(texts)


def _describe(path: Path, problems: list[tuple[int, RowError]]) -> str:
    lines = [f"{path}, row {row}: {e.problem}; {e.fix}" for row, e in problems[:MAX_SHOWN]]
    more = len(problems) - MAX_SHOWN
    if more > 0:
        lines.append(f"... and {more} more invalid row(s)")
    head = f"{len(problems)} invalid row(s) in {path}:" if len(problems) > 1 else ""
    tail = "(or set skip_invalid=true to drop invalid rows)"
    return "\n  ".join(([head] if head else []) + lines + [tail])
