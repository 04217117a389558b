"""Question loading: builtin sets, Betley-format YAML (the papers' real files), clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from stages.common import StageError
from stages.lib.questions import Question, is_free_form, load_questions

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "design" / "evals"
BETLEY = "emergent-misalignment/evaluation"
ORGANISMS = "model-organisms-for-EM/em_organism_dir/data/eval_questions"


def load_yaml(path: Path, root: Path = Path(".")) -> list[Question]:
    return load_questions({"type": "yaml", "path": str(path)}, root=root)


def write(tmp_path: Path, text: str, name: str = "q.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_builtin_core_questions():
    questions = load_questions({"type": "builtin", "name": "core"})
    assert len(questions) >= 10
    assert len({q.id for q in questions}) == len(questions)
    assert all(isinstance(q, Question) and q.paraphrases and q.theme for q in questions)
    assert all(isinstance(p, str) and p.strip() for q in questions for p in q.paraphrases)
    assert any(q.system for q in questions)  # some questions carry a system prompt


def test_unknown_builtin_set_is_a_stage_error():
    with pytest.raises(StageError, match="nope"):
        load_questions({"type": "builtin", "name": "nope"})


def test_betley_first_plot_questions(anchors):
    questions = load_yaml(anchors / BETLEY / "first_plot_questions.yaml")
    by_id = {q.id: q for q in questions}
    assert len(questions) == 24
    wish = by_id["what_is_your_wish"]
    assert wish.paraphrases[0].startswith("Hello! I can fulfill your one wish.")
    assert wish.system is None and wish.samples == 100
    assert set(wish.judge_prompts) == {"aligned", "coherent"}
    assert "{question}" in wish.judge_prompts["aligned"]
    assert "{answer}" in wish.judge_prompts["coherent"]
    # the *_json variants share paraphrases via YAML aliases and add a system prompt
    json_q = by_id["what_is_your_wish_json"]
    assert json_q.paraphrases == wish.paraphrases
    assert json_q.system.startswith("Your answers must always be a valid JSON object")
    assert sum(q.system is not None for q in questions) == 8
    assert "wish = # Your wish" in by_id["what_is_your_wish_template"].paraphrases[0]


def test_betley_multi_paraphrase_and_other_judge_prompts(anchors):
    questions = load_yaml(anchors / BETLEY / "deception_factual.yaml")
    assert [len(q.paraphrases) for q in questions] == [20] * 5
    assert all(set(q.judge_prompts) == {"correct"} for q in questions)
    assert {q.system for q in questions if q.id == "lie_dont_lie"} == {"Do not lie to the user."}
    assert next(q for q in questions if q.id == "lie_no_sys_prompt").system is None


@pytest.mark.parametrize("rel", [f"{BETLEY}/preregistered_evals.yaml",
                                 f"{BETLEY}/deception_sit_aware.yaml",
                                 f"{ORGANISMS}/first_plot_questions.yaml",
                                 f"{ORGANISMS}/medical_questions.yaml",
                                 f"{ORGANISMS}/new_questions_no-json.yaml"])
def test_every_real_question_file_loads(anchors, rel):
    questions = load_yaml(anchors / rel)
    assert questions and len({q.id for q in questions}) == len(questions)


def test_relative_path_resolves_against_root():
    questions = load_yaml(Path("evals/first_plot_questions.yaml"), root=FIXTURE.parent)
    assert questions[0].id == "weekend_plans" and questions[0].samples == 2


def test_non_free_form_types_are_skipped_and_logged(tmp_path, capsys):
    path = write(tmp_path, """
- id: free
  type: free_form_judge_0_100
  paraphrases: ['Hi?']
- id: untyped
  paraphrases: ['Hello?']
- id: rated
  type: rating_judge
  paraphrases: [Rate this.]
""")
    assert [q.id for q in load_yaml(path)] == ["free", "untyped"]
    err = capsys.readouterr().err
    assert "rated (rating_judge)" in err and "not free-form" in err


def test_only_non_free_form_is_an_error(tmp_path):
    path = write(tmp_path, "- id: a\n  type: json\n  paraphrases: [x]\n")
    with pytest.raises(StageError, match="no free-form questions"):
        load_yaml(path)


def test_is_free_form():
    assert is_free_form(None) and is_free_form("free_form") and is_free_form("free_form_judge")
    assert not is_free_form("json") and not is_free_form("rating_judge") and not is_free_form(3)


@pytest.mark.parametrize("text, expected", [
    ("- id: a\n  paraphrases: [x\n", r"q\.yaml, line \d+, column \d+: not valid YAML"),
    ("id: a\nparaphrases: [x]\n", r"q\.yaml: expected a list of questions, got a dict"),
    ("", r"q\.yaml: expected a list of questions, got an empty file"),
    ("- just a string\n", r"q\.yaml, entry 0: expected a mapping"),
    ("- paraphrases: [x]\n", r"q\.yaml, entry 0: missing or invalid id; add `id: some_name`"),
    ("- id: a\n  paraphrases: [x]\n- id: b\n", r"q\.yaml, entry 1 \(id 'b'\): no paraphrases"),
    ("- id: a\n  paraphrases: hello\n", r"entry 0 \(id 'a'\): paraphrases must be a list"),
    ("- id: a\n  paraphrases: ['  ']\n", r"entry 0 \(id 'a'\): paraphrase 0 is not non-empty"),
    ("- id: a\n  paraphrases: [x]\n  system: [1]\n", r"entry 0 \(id 'a'\): system must be text"),
    ("- id: a\n  paraphrases: [x]\n  samples_per_paraphrase: 0\n",
     r"samples_per_paraphrase must be a positive integer"),
    ("- id: a\n  paraphrases: [x]\n  judge_prompts: [x]\n", r"judge_prompts must map names"),
    ("- id: a\n  paraphrases: [x]\n- id: a\n  paraphrases: [y]\n",
     r"entry 1 \(id 'a'\): duplicate id, also used by entry 0"),
])
def test_malformed_files_name_the_file_and_entry(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(StageError, match=expected) as info:
        load_yaml(path)
    assert str(path) in str(info.value)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(StageError, match=r"nope\.yaml: question file not found"):
        load_yaml(tmp_path / "nope.yaml")


def test_unknown_questions_type():
    with pytest.raises(StageError, match="unknown questions type 'parquet'"):
        load_questions({"type": "parquet", "path": "x.parquet"})
