"""Defects a red-team pass found (issue 15), each with the test that failed before its fix."""

from __future__ import annotations

import json

import pytest

from emdsl.cli.judge import read_pairs
from stages.common import StageError


def test_emx_judge_splits_records_on_newlines_only(tmp_path):
    """U+2028 and U+0085 are valid unescaped inside a JSON string; ``str.splitlines`` split
    the record there and every later score landed on the wrong answer."""
    records = [{"question": "q1", "answer": "one\u2028two\u0085three"},
               {"question": "q2", "answer": "fine"}]
    path = tmp_path / "answers.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")
    assert read_pairs(path) == [("q1", "one\u2028two\u0085three"), ("q2", "fine")]


def test_emx_judge_names_the_row_that_is_not_utf8(tmp_path):
    path = tmp_path / "answers.jsonl"
    path.write_bytes(b'{"question": "q", "answer": "a"}\n{"question": "q", "answer": "\xff"}\n')
    with pytest.raises(StageError, match=r"answers.jsonl:2: not UTF-8.*save the file as UTF-8"):
        read_pairs(path)
