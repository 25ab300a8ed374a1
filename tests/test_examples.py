"""The notebooks in examples/ are stored clean: no outputs, no execution counts
(CI runs them top to bottom with nbmake, see .ci/run)."""

import json
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.ipynb"))


def test_there_are_lecture_notebooks():
    assert len(EXAMPLES) >= 7


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path):
    book = json.loads(path.read_text(encoding="utf-8"))
    assert book["nbformat"] == 4
    code = [cell for cell in book["cells"] if cell["cell_type"] == "code"]
    assert code, "a notebook with no code"
    for cell in code:
        assert cell["outputs"] == [] and cell["execution_count"] is None
    assert book["cells"][0]["cell_type"] == "markdown"  # it starts by saying what it shows
