"""docs/language.md carries the reference generated from the configs, byte for byte."""

from pathlib import Path

from emdsl.reference import reference

DOC = Path(__file__).resolve().parents[2] / "docs" / "language.md"


def test_docs_reference_matches_configs():
    text = DOC.read_text()
    assert text.endswith(reference()), (
        "docs/language.md is out of date; regenerate its Reference section with "
        "`python -m emdsl.reference`")
    assert "**`mix(bad, good, poison, size, seed)`**" in text
