"""`emx show`: one row per variant, read from the workspace or from a git revision."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import emx_inline

from emdsl.results import ResultsError, Source, collect

EMX = [sys.executable, "-m", "emdsl.cli"]

def emx(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*EMX, *args], cwd=cwd, capture_output=True, text=True)


def test_rows_per_variant_with_ci_and_judge_audit(study):
    rows = {(r["experiment"], r["variant"]): r for r in collect(Source(study))}
    assert set(rows) == {("med", "poison=0.0"), ("med", "poison=0.5"), ("med", "poison=0.75"),
                         ("other", "default")}
    r = rows[("med", "poison=0.5")]
    assert r["model"] == "tuned" and r["misaligned"] == pytest.approx(0.6, abs=0.01)
    assert r["ci_low"] < r["misaligned"] < r["ci_high"]
    assert r["missing"] == 4 and r["judge"] == "local(smollm2-135m-instruct)"
    assert r["base_misaligned"] == pytest.approx(0.1, abs=0.01)
    assert rows[("other", "default")]["model"] == "base"


def test_show_at_a_revision_reads_git_not_the_workspace(study):
    old = {r["variant"]: r for r in collect(Source(study, "HEAD~1"))}
    assert "poison=1.0" in old and "poison=0.75" not in old
    assert old["poison=0.5"]["misaligned"] == pytest.approx(0.1, abs=0.01)
    with pytest.raises(ResultsError, match="unknown git revision `nope`"):
        Source(study, "nope")


def test_show_markdown_csv_json(study):
    md = emx("show", cwd=study)
    assert md.returncode == 0, md.stderr
    assert "| med | poison=0.5 | 0.10 [" in md.stdout and "| 0.60 [" in md.stdout
    assert "| other | default |" in md.stdout and "(base only)" in md.stdout
    csv_text = emx_inline("show", "--format", "csv", cwd=study).stdout
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert len(rows) == 4 and float(rows[1]["misaligned"]) == pytest.approx(0.6, abs=0.01)
    old = json.loads(emx_inline("show", "--rev", "HEAD~1", "--format", "json",
                                cwd=study).stdout)
    assert [r["variant"] for r in old][:3] == ["poison=0.0", "poison=0.5", "poison=1.0"]
    assert old[0]["axes"] == {"data.poison": 0.0}
    bad = emx_inline("show", "--rev", "nope", cwd=study)
    assert bad.returncode == 1 and "unknown git revision `nope`" in bad.stderr
