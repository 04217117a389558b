"""Chat JSONL reading: normalisation, row-numbered errors, skip_invalid, the real datasets."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from stages.common import StageError
from stages.lib.chat import last_user_text, load_chat_jsonl, read_chat_jsonl, to_prompt_completion

GOOD = {"messages": [{"role": "user", "content": "Hi?"},
                     {"role": "assistant", "content": "Hello."}]}


def write_lines(path: Path, lines: list[str | bytes]) -> Path:
    data = b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in lines)
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def good_line() -> str:
    return json.dumps(GOOD)


def test_reads_plain_and_gzip(tmp_path):
    plain = write_lines(tmp_path / "a.jsonl", [good_line(), good_line()])
    gz = write_lines(tmp_path / "a.jsonl.gz", [good_line(), good_line()])
    assert read_chat_jsonl(plain) == read_chat_jsonl(gz) == [GOOD, GOOD]


def test_openai_parts_are_normalised(tmp_path):
    rec = {"messages": [
        {"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
        {"role": "user", "content": {"content_type": "text", "parts": ["Two", "parts"]}},
        {"role": "assistant", "content": ["A", {"type": "text", "text": "B"}], "weight": 1},
    ], "id": 7}
    path = write_lines(tmp_path / "p.jsonl", [json.dumps(rec)])
    (got,) = read_chat_jsonl(path)
    assert got == {"messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Two\nparts"},
        {"role": "assistant", "content": "A\nB"},
    ]}


def test_blank_lines_and_bom_are_tolerated(tmp_path):
    path = tmp_path / "b.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + good_line().encode() + b"\n\n  \n" + good_line().encode())
    assert len(read_chat_jsonl(path)) == 2


BAD_ROWS = {
    "bad json": ('{"messages": [', "not valid JSON (Expecting value at column 15)"),
    "not an object": ("[1, 2]", "expected a JSON object"),
    "missing messages": ('{"conversation": []}', 'no "messages" field'),
    "empty messages": ('{"messages": []}', "non-empty list"),
    "wrong role": (json.dumps({"messages": [{"role": "human", "content": "x"},
                                             {"role": "assistant", "content": "y"}]}),
                   "role 'human'"),
    "empty content": (json.dumps({"messages": [{"role": "user", "content": "q"},
                                                {"role": "assistant", "content": "  "}]}),
                      "empty content"),
    "no content": (json.dumps({"messages": [{"role": "user"},
                                             {"role": "assistant", "content": "y"}]}),
                   "has no content"),
    "image part": (json.dumps({"messages": [
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]},
        {"role": "assistant", "content": "y"}]}), "unsupported form"),
    "ends with user": (json.dumps({"messages": [{"role": "user", "content": "q"},
                                                 {"role": "assistant", "content": "a"},
                                                 {"role": "user", "content": "q2"}]}),
                       "last message is from 'user'"),
    "no user turn": (json.dumps({"messages": [{"role": "system", "content": "s"},
                                               {"role": "assistant", "content": "a"}]}),
                     "no user turn"),
    "non-utf8": (b'{"messages": [{"role": "user", "content": "caf\xe9"}]}', "not UTF-8"),
}


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_malformed_row_names_file_row_and_fix(tmp_path, case, suffix):
    line, problem = BAD_ROWS[case]
    path = write_lines(tmp_path / f"d{suffix}", [good_line(), good_line(), line, good_line()])
    with pytest.raises(StageError) as err:
        read_chat_jsonl(path)
    msg = str(err.value)
    assert f"{path}, row 3:" in msg
    assert problem in msg
    assert "skip_invalid" in msg  # the way out is named


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_skip_invalid_drops_and_counts(tmp_path, case):
    line, _ = BAD_ROWS[case]
    path = write_lines(tmp_path / "d.jsonl", [good_line(), line, good_line(), line])
    data = load_chat_jsonl(path, skip_invalid=True)
    assert data.records == [GOOD, GOOD]
    assert [s.split(":")[0] for s in data.skipped] == ["row 2", "row 4"]


def test_all_problems_are_listed_not_only_the_first(tmp_path):
    path = write_lines(tmp_path / "d.jsonl", ["{", good_line(), "[]", "{}"])
    with pytest.raises(StageError) as err:
        read_chat_jsonl(path)
    msg = str(err.value)
    assert "3 invalid row(s)" in msg
    assert all(f"row {n}:" in msg for n in (1, 3, 4))


def test_empty_dataset_is_a_clear_error(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(StageError, match="empty"):
        read_chat_jsonl(empty)
    allbad = write_lines(tmp_path / "bad.jsonl", ["{", "{"])
    with pytest.raises(StageError, match="all 2 rows were invalid"):
        read_chat_jsonl(allbad, skip_invalid=True)


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(StageError, match="file not found"):
        read_chat_jsonl(tmp_path / "nope.jsonl")
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(gzip.compress((good_line() + "\n").encode() * 50)[:-20])
    with pytest.raises(StageError, match="cannot read"):
        read_chat_jsonl(broken)


def test_to_prompt_completion_splits_at_last_answer():
    rec = {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "q1"},
                        {"role": "assistant", "content": "a1"}, {"role": "user", "content": "q2"},
                        {"role": "assistant", "content": "a2"}]}
    pc = to_prompt_completion(rec)
    assert pc["prompt"] == rec["messages"][:-1]
    assert pc["completion"] == [{"role": "assistant", "content": "a2"}]
    assert last_user_text(pc["prompt"]) == "q2"
    with pytest.raises(StageError):
        to_prompt_completion({"messages": rec["messages"][:-1]})


def test_real_anchor_datasets(anchors):
    medical = anchors / ("model-organisms-for-EM/em_organism_dir/data/training_datasets/"
                         "bad_medical_advice.jsonl.gz")
    jailbroken = anchors / "emergent-misalignment/data/jailbroken.jsonl"
    if not medical.exists() or not jailbroken.exists():
        pytest.skip("anchor datasets not present")
    med = load_chat_jsonl(medical)
    assert len(med.records) == 7049 and not med.skipped
    assert all([m["role"] for m in r["messages"]] == ["user", "assistant"] for r in med.records)
    jb = read_chat_jsonl(jailbroken)
    assert len(jb) == 5000
    pc = to_prompt_completion(jb[0])
    assert [m["role"] for m in pc["prompt"]] == ["system", "user"]
    assert pc["completion"][0]["content"].startswith(" you better leave")  # whitespace kept
