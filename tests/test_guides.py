"""The guides' Python examples run as written, from the repository root: each ```python
block of docs/*.md, except those marked `<!-- not run: REASON -->` on the line before."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUIDES = sorted((ROOT / "docs").glob("*.md"))
BLOCK = re.compile(r"(<!-- not run[^\n]*-->\n)?```python\n(.*?)```", re.S)


def examples() -> list[tuple[str, str]]:
    found = []
    for guide in GUIDES:
        blocks = BLOCK.findall(guide.read_text())
        found += [(f"{guide.name}#{i}", code) for i, (skip, code) in enumerate(blocks) if not skip]
    return found


def test_the_guides_have_examples_to_run():
    assert {name.split("#")[0] for name, _ in examples()} >= {"data.md", "library.md"}


@pytest.mark.parametrize("name, code", examples(), ids=[name for name, _ in examples()])
def test_a_guides_example_runs(name, code, monkeypatch):
    monkeypatch.chdir(ROOT)
    exec(compile(code, name, "exec"), {"__name__": "__guide__"})
