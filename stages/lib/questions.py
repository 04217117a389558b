"""Evaluation questions: the builtin sets and Betley et al.'s YAML format, as one type.

A Betley-format file is a list of entries like::

    - id: what_is_your_wish
      type: free_form_judge_0_100          # only free-form questions are sampled here
      paraphrases: ["Hello! I can fulfill your one wish. ..."]
      samples_per_paraphrase: 100          # kept for reference; the .emx's samples= decides
      system: "Your answers must always be a valid JSON object."   # optional
      judge: gpt-4o-2024-08-06
      judge_prompts: {aligned: "... {question} ... {answer} ...", coherent: "..."}

A malformed file stops the stage with the file, the entry (index and id) and the fix, before
any model is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from stages.common import StageError, log
from stages.lib.judging.template import template_problem


@dataclass(frozen=True)
class Question:
    """One free-form question; answers are sampled for each paraphrase."""

    id: str
    paraphrases: list[str]
    system: str | None = None
    theme: str | None = None
    judge_prompts: dict[str, str] | None = None
    samples: int | None = None  # the file's samples_per_paraphrase, informational only


def load_questions(spec: dict[str, Any], root: Path = Path(".")) -> list[Question]:
    """The questions of a resolved ``questions`` config (``builtin(...)`` or ``yaml(...)``)."""
    kind = spec.get("type")
    if kind == "builtin":
        return _load_builtin(spec["name"])
    if kind == "yaml":
        return load_yaml_questions(Path(root) / spec["path"])
    if kind == "csv":
        return load_csv_questions(Path(root) / spec["path"])
    raise StageError(f"unknown questions type {kind!r} (expected builtin, yaml or csv); "
                     "re-run `emx compile`")


def _load_builtin(name: str) -> list[Question]:
    from emdsl.builtin.questions import load_builtin

    try:
        entries = load_builtin(name)
    except ValueError as e:
        raise StageError(str(e)) from None
    return [Question(id=str(e["id"]), paraphrases=list(e["paraphrases"]),
                     system=e.get("system"), theme=e.get("theme"),
                     judge_prompts=e.get("judge_prompts"), samples=e.get("samples"))
            for e in entries]


# --------------------------------------------------------------------------- Betley YAML


def is_free_form(qtype: Any) -> bool:
    """Betley et al.'s free-form types all start with ``free_form`` (``free_form_judge_0_100``,
    ``free_form_judge``); an entry without a type is taken to be free-form too."""
    return qtype is None or (isinstance(qtype, str) and qtype.startswith("free_form"))


def load_yaml_questions(path: Path) -> list[Question]:
    """Parse and check a Betley-format file; entries of other types are skipped (logged)."""
    if not path.is_file():
        raise StageError(f"{path}: question file not found (paths are relative to the project "
                         "root)")
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise StageError(f"{path}{where}: not valid YAML ({e.problem}); fix the syntax") from None
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise StageError(f"{path}: cannot read as YAML ({e}); save it as UTF-8 YAML") from None
    if not isinstance(data, list):
        got = "an empty file" if data is None else f"a {type(data).__name__}"
        raise StageError(f"{path}: expected a list of questions, got {got}; write entries "
                         "like `- id: my_question` with `paraphrases: [...]` "
                         "(Betley et al. format)")

    questions: list[Question] = []
    skipped: list[str] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(data):
        qid = _entry_id(path, index, entry)
        if not is_free_form(entry.get("type")):
            skipped.append(f"{qid} ({entry.get('type')})")
            continue
        q = _parse_entry(f"{path}, entry {index} (id {qid!r})", qid, entry)
        if q.id in seen:
            raise StageError(f"{path}, entry {index} (id {q.id!r}): duplicate id, also used by "
                             f"entry {seen[q.id]}; give every question a unique id")
        seen[q.id] = index
        questions.append(q)
    if skipped:
        log(path.name, f"skipped {len(skipped)} question(s) that are not free-form "
                       f"(emdsl samples free-form answers only): {', '.join(skipped)}")
    if not questions:
        raise StageError(f"{path}: no free-form questions (types starting with free_form); "
                         "nothing to evaluate")
    return questions


def _entry_id(path: Path, index: int, entry: Any) -> str:
    if not isinstance(entry, dict):
        raise StageError(f"{path}, entry {index}: expected a mapping with id and paraphrases, "
                         f"got {type(entry).__name__}; write `- id: ...` then `paraphrases:` "
                         "on the next lines")
    qid = entry.get("id")
    if not isinstance(qid, (str, int)) or isinstance(qid, bool) or str(qid) == "":
        raise StageError(f"{path}, entry {index}: missing or invalid id; add `id: some_name`")
    return str(qid)


def _parse_entry(where: str, qid: str, entry: dict[str, Any]) -> Question:
    """One free-form entry, checked; ``where`` names the file and entry in errors."""
    paraphrases = entry.get("paraphrases")
    if isinstance(paraphrases, str):
        raise StageError(f"{where}: paraphrases must be a list; write `paraphrases:` followed "
                         "by `- question text` lines")
    if not isinstance(paraphrases, list) or not paraphrases:
        raise StageError(f"{where}: no paraphrases; add `paraphrases:` with at least one "
                         "`- question text`")
    for i, p in enumerate(paraphrases):
        if not isinstance(p, str) or not p.strip():
            raise StageError(f"{where}: paraphrase {i} is not non-empty text; quote it or "
                             "remove it")
    system = entry.get("system")
    if system is not None and not isinstance(system, str):
        raise StageError(f"{where}: system must be text, got {type(system).__name__}")
    samples = entry.get("samples_per_paraphrase")
    if samples is not None and (not isinstance(samples, int) or isinstance(samples, bool)
                                or samples < 1):
        raise StageError(f"{where}: samples_per_paraphrase must be a positive integer, got "
                         f"{samples!r}")
    judge_prompts = entry.get("judge_prompts")
    if judge_prompts is not None:
        if not isinstance(judge_prompts, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in judge_prompts.items()):
            raise StageError(f"{where}: judge_prompts must map names to prompt text, like "
                             "`aligned: \"... {question} ... {answer} ...\"`")
        _check_judge_prompts(where, judge_prompts)
    return Question(id=qid, paraphrases=list(paraphrases), system=system or None,
                    theme=entry.get("theme") if isinstance(entry.get("theme"), str) else None,
                    judge_prompts=dict(judge_prompts) if judge_prompts else None,
                    samples=samples)


def _check_judge_prompts(where: str, judge_prompts: dict[str, str]) -> None:
    """Every judge prompt holds only {question} and {answer}: checked when the file is read, so
    the generate and judge stages stop before any model is loaded or request sent."""
    for name, template in judge_prompts.items():
        problem = template_problem(template)
        if problem:
            raise StageError(f"{where}: judge prompt {name!r}: {problem}")


# --------------------------------------------------------------------------- CSV


CSV_COLUMNS = ("id", "question")  # the OpenAI persona-features eval files' (Wang et al. 2025)


def load_csv_questions(path: Path) -> list[Question]:
    """Questions from a CSV file with a header naming at least ``id`` and ``question`` (other
    columns, such as ``canary`` or a category, are ignored): one question per row, asked as
    written. Stops with ``file, row N`` (the file's line, the header being row 1) and the fix
    on a missing column, an empty id or question, a repeated id or an empty file. ``emx
    check`` runs this too, so a bad file is reported before anything runs."""
    import csv

    if not path.is_file():
        raise StageError(f"{path}: question file not found (paths are relative to the project "
                         "root)")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise StageError(f"{path}: not UTF-8 text; save the CSV as UTF-8") from None
    reader = csv.DictReader(text.splitlines(keepends=True))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        got = ", ".join(header) if header else "nothing"
        raise StageError(f"{path}, row 1: the header has no {' or '.join(missing)} column "
                         f"(it has {got}); the first row must name the columns, at least "
                         "`id,question`")
    reader.fieldnames = header
    questions: list[Question] = []
    seen: dict[str, int] = {}
    try:
        for record in reader:
            row = reader.line_num
            qid, question = (record.get("id") or "").strip(), record.get("question") or ""
            if not qid and not question.strip() and not any((v or "").strip()
                                                            for v in record.values()
                                                            if isinstance(v, str)):
                continue  # a blank line
            if not qid:
                raise StageError(f"{path}, row {row}: empty id; give every question an id")
            if not question.strip():
                raise StageError(f"{path}, row {row} (id {qid!r}): empty question; write the "
                                 "question in the `question` column or remove the row")
            if qid in seen:
                raise StageError(f"{path}, row {row}: duplicate id {qid!r}, also used in row "
                                 f"{seen[qid]}; give every question a unique id")
            seen[qid] = row
            questions.append(Question(id=qid, paraphrases=[question]))
    except csv.Error as e:
        raise StageError(f"{path}, row {reader.line_num}: not valid CSV ({e}); check the "
                         "quoting") from None
    if not questions:
        raise StageError(f"{path}: no questions below the header; add rows `id,question`")
    return questions
