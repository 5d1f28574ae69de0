"""The documents a user needs are in the repository: every link and file path the README and
docs/ point at exists in a clone, and none points outside it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from quoter.cli import main

ROOT = Path(__file__).parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_no_document_points_outside_the_repository() -> None:
    outside = [
        f"{doc.relative_to(ROOT)}: {line.strip()}"
        for doc in [*DOCUMENTS, *ROOT.glob("config/**/*.md"), *ROOT.glob("backtests/*.md")]
        for line in doc.read_text().splitlines()
        if "../shared" in line or "/work/shared" in line
    ]
    assert outside == []


def test_every_relative_link_resolves() -> None:
    broken = [
        f"{doc.relative_to(ROOT)} -> {target}"
        for doc in DOCUMENTS
        for target in LINK.findall(doc.read_text())
        if "://" not in target and not (doc.parent / target).exists()
    ]
    assert broken == []


def test_the_venue_contract_and_the_curve_format_are_documented_here() -> None:
    readme = (ROOT / "README.md").read_text()
    for doc in ("docs/venue-contract.md", "docs/curve-format.md"):
        assert (ROOT / doc).is_file()
        assert f"]({doc})" in readme


def test_the_curve_formats_example_is_read_as_documented(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (ROOT / "docs" / "curve-format.md").read_text()
    example = re.search(r"```csv\n(.*?)```", text, re.S)
    assert example is not None
    (tmp_path / "curves.csv").write_text(example.group(1))
    assert main(["curves", "check", str(tmp_path / "curves.csv")]) == 0
    out = capsys.readouterr().out
    assert "ok power/DE: 2 x 60 min" in out
    assert "ok gas/THE: 1 x 60 min" in out
