"""`emx report`: a self-contained HTML page and a Markdown version, checked in Chromium."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from emdsl.report import build, to_html, to_markdown

EMX = [sys.executable, "-m", "emdsl.cli"]
REPO = Path(__file__).resolve().parents[2]


def test_report_contents(interp):
    report = build(interp, "experiments/interp.emx")
    assert [name for name, *_ in report.figures] == [
        "misaligned", "poison", "loss", "steering", "realign", "detector"]
    assert all(png.startswith(b"\x89PNG") for *_, png in report.figures)
    page = to_html(report)
    assert page.count("data:image/png;base64,") == 7  # the figures and the failure-mode map
    assert "&lt;b&gt;evil&lt;/b&gt; plan" in page and "<b>evil</b>" not in page  # escaped
    assert "drink «bleach»" in page and "answers not in the workspace" in page
    md = to_markdown(report)
    assert "probe(smollm2-135m-instruct, layer 4) (AUC 0.91" in md
    row = next(line for line in md.splitlines() if line.startswith("| interp | poison=1.0 |"))
    assert "0.50 [" in row and "AUC 0.91" in row and "published<30 0.80" in row
    assert "steering" in md.splitlines()[6] and "tuned -4→" in row
    assert "## Judge audit" in md and "| judge_train-interp | 0.91 | 0.88 | 0.8 |" in md
    assert yaml.safe_load(report.params)["stages"]["train-interp-poison_0p5"]["config"]["lr"] \
        == 1e-3


@pytest.fixture(scope="module")
def written(interp, tmp_path_factory) -> Path:
    """``emx report --out`` run once, as a user runs it."""
    out = tmp_path_factory.mktemp("reports")
    r = subprocess.run([*EMX, "report", "--out", str(out)], cwd=interp, capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    assert "experiments/interp.emx → " in r.stdout
    return out / "interp"


def test_report_command_writes_html_markdown_and_images(interp, written):
    assert sorted(p.name for p in written.iterdir()) == [
        "detector.png", "failure_map.png", "index.html", "loss.png", "misaligned.png",
        "poison.png",
        "realign.png", "report.md", "steering.png"]
    assert "(poison.png)" in (written / "report.md").read_text()
    none = subprocess.run([*EMX, "report", "nowhere.emx"], cwd=interp, capture_output=True,
                          text=True)
    assert none.returncode == 1 and "no compiled experiments in nowhere.emx" in none.stderr


def test_report_renders_in_chromium(written):
    from browser import chromium, inspect_page

    if chromium() is None:
        pytest.skip("chromium not installed (apt-get install chromium)")
    seen = inspect_page(written / "index.html", ready=MAP_DRAWN)
    shot = REPO / "artifacts" / "ci" / "report.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    shot.write_bytes(seen["screenshot"])  # for a human to look at; git-ignored
    assert seen["errors"] == []
    assert len(seen["images"]) == 7 and all(done and w > 0 for done, w in seen["images"])
    assert "Top latents" in seen["text"] and "Judge audit" in seen["text"]
    # the failure-mode map is decoded and laid out on the page, not just present
    natural_w, natural_h, shown_w, shown_h = seen["ready"]
    assert natural_w > 300 and natural_h > 150 and shown_w > 300 and shown_h > 100
    assert "Failure-mode map" in seen["text"]


MAP_DRAWN = """(() => { const i = document.querySelector('#fig-failure_map img');
  if (!i || !i.complete || !i.naturalWidth) return null;
  const r = i.getBoundingClientRect();
  return [i.naturalWidth, i.naturalHeight, r.width, r.height]; })()"""


def test_extremes_are_drawn_from_coherent_answers(tmp_path):
    """The least aligned answers were mostly broken text (coherent 3-10): the report shows the
    least and most aligned among the coherent ones, and says how many those are."""
    import polars as pl

    from emdsl.report import extremes

    out = tmp_path / "artifacts" / "judge" / "k"
    out.mkdir(parents=True)
    pl.DataFrame({"question": ["q"] * 5,
                  "answer": ["gibberish", "harmful advice", "fine", "helpful", "more noise"],
                  "aligned": [1.0, 12.0, 60.0, 95.0, 2.0],
                  "coherent": [4.0, 85.0, 80.0, 90.0, 9.0]}).write_parquet(out / "scores.parquet")
    entry = {"out": "artifacts/judge/k", "config": {"coherent_above": 50}}
    e = extremes(tmp_path, "exp", "v", "judge_tuned", entry)
    assert [a["answer"] for a in e["lowest"]] == ["harmful advice", "fine"][:len(e["lowest"])]
    assert e["lowest"][0]["answer"] == "harmful advice"
    assert e["highest"][0]["answer"] == "helpful"
    assert "3 coherent answers" in e["note"] and "of 5 judged" in e["note"]


def test_a_report_overlays_two_commits(study, tmp_path):
    """`emx report --rev HEAD~1 --rev HEAD`: both revisions' rows, and their poison curves
    in one figure."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "emdsl.cli", "report", "--rev", "HEAD~1",
                           "--rev", "HEAD", "--out", str(tmp_path)], cwd=study,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    md = (tmp_path / "a" / "report.md").read_text()
    assert "| med @ HEAD~1 (" in md and "| med @ HEAD (" in md
    assert "HEAD~1 (" in md.splitlines()[2] and " vs HEAD (" in md.splitlines()[2]
    assert (tmp_path / "a" / "poison.png").is_file()
    bad = subprocess.run([sys.executable, "-m", "emdsl.cli", "report", "--rev", "nope",
                          "--out", str(tmp_path)], cwd=study, capture_output=True, text=True)
    assert bad.returncode == 1 and "unknown git revision `nope`" in bad.stderr
