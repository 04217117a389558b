"""Results are current only when their stage ran with today's params, code and inputs."""

from __future__ import annotations

import hashlib

import yaml

from emdsl.freshness import pipeline_status, stale_stages


class Files:
    def __init__(self, files: dict[str, bytes]):
        self.files = files

    def read(self, path):
        data = self.files.get(path)
        return None if data is None else data.decode()

    def read_bytes_many(self, paths):
        return {p: self.files.get(p) for p in paths}


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


CODE = b"print('train')\n"
PARAMS = {"stages": {
    "train-x": {"kind": "train", "key": "t", "out": "artifacts/train/t", "config": {"lr": 1}},
    "judge-x": {"kind": "judge", "key": "j", "out": "artifacts/judge/j",
                "inputs": {"answers": "artifacts/train/t"}, "config": {}},
}}


def lock(train_out: str, judge_saw: str, code: bytes = CODE) -> bytes:
    entry = {"train-x": {"deps": [{"path": "stages/train.py", "md5": md5(code)}],
                         "params": {"params.yaml": {"stages.train-x": PARAMS["stages"]["train-x"]}},
                         "outs": [{"path": "artifacts/train/t", "md5": train_out}]},
             "judge-x": {"deps": [{"path": "artifacts/train/t", "md5": judge_saw},
                                  {"path": "data/not-in-git.jsonl", "md5": "0" * 32}],
                         "params": {"params.yaml": {"stages.judge-x": PARAMS["stages"]["judge-x"]}},
                         "outs": [{"path": "artifacts/judge/j", "md5": "b.dir"}]}}
    return yaml.safe_dump({"schema": "2.0", "stages": entry}).encode()


def test_current_when_everything_matches_and_unknown_files_are_not_judged():
    files = Files({"dvc.lock": lock("a.dir", "a.dir"), "stages/train.py": CODE})
    assert stale_stages(files, PARAMS) == {}


def test_a_consumer_of_a_rerun_output_is_not_current():
    """train reran (new adapter, same path), then Ctrl-C before its judge ran again."""
    files = Files({"dvc.lock": lock("new.dir", "old.dir"), "stages/train.py": CODE})
    stale = stale_stages(files, PARAMS)
    assert stale == {"judge-x": "an input changed since it ran (artifacts/train/t)"}


def test_code_change_and_params_change_and_the_stages_after_them(tmp_path):
    files = Files({"dvc.lock": lock("a.dir", "a.dir"), "stages/train.py": b"print('fixed')\n"})
    stale = stale_stages(files, PARAMS)
    assert stale == {"train-x": "code or data changed (stages/train.py)"}
    (tmp_path / "artifacts/train/t").mkdir(parents=True)
    (tmp_path / "artifacts/judge/j").mkdir(parents=True)
    assert pipeline_status(tmp_path, PARAMS, yaml.safe_load(files.read("dvc.lock"))["stages"],
                           stale) == {**stale, "judge-x": "after train-x"}
    edited = {"stages": {**PARAMS["stages"], "train-x": {**PARAMS["stages"]["train-x"],
                                                         "config": {"lr": 2}}}}
    assert stale_stages(Files({"dvc.lock": lock("a.dir", "a.dir"), "stages/train.py": CODE}),
                        edited)["train-x"] == "params changed"


def test_a_lock_written_by_dvc_reads_as_yaml_1_2_and_schema_2_entries_compare_their_params():
    """DVC writes dvc.lock in YAML 1.2: a config key `on` (diff(on=[...])) is the string
    "on" there, as in params.yaml; read as YAML 1.1 it became True and every diff stage
    looked "params changed" right after it ran. With schema 2 the lock holds the params.yaml
    part of the entry only (config), which is compared with that part of the whole entry."""
    whole = {"kind": "diff", "key": "d", "out": "artifacts/diff/d", "schema": 2,
             "config": {"on": ["eval", "train"], "top": 5}}
    locked = {"schema": 2, "config": {"on": ["eval", "train"], "top": 5}}
    text = ("schema: '2.0'\nstages:\n  diff-x:\n    cmd: python -m stages.diff diff-x\n"
            "    params:\n      params.yaml:\n        stages.diff-x:\n          schema: 2\n"
            "          config:\n            on:\n            - eval\n            - train\n"
            "            top: 5\n    outs:\n    - path: artifacts/diff/d\n      md5: x.dir\n")
    assert yaml.safe_load(text)["stages"]["diff-x"]["params"]["params.yaml"]["stages.diff-x"] \
        != locked  # what PyYAML's YAML 1.1 reading made of it
    assert stale_stages(Files({"dvc.lock": text.encode()}), {"stages": {"diff-x": whole}}) == {}
