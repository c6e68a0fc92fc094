"""Notebooks: committed without outputs, and every one executes cleanly with reduced draws.

The execution test runs each notebook in ``notebooks/`` with nbclient in a kernel of this
interpreter (ipykernel's built-in ``python3`` spec starts ``sys.executable``), with the working
directory set to the notebook's folder, and the environment variables that the notebooks read
for their sampling settings set to a few draws (the fits then fail their diagnostics, which is
expected: only that the code runs and shows the right things is checked here).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))

#: Sampling settings for CI: tiny, and nutpie (about 30 s end to end on the demo model with
#: 2 chains x 60 draws, against about 80 s for PyMC's own NUTS, which compiles more).
REDUCED = {
    "PLURALEVAL_NOTEBOOK_DRAWS": "60",
    "PLURALEVAL_NOTEBOOK_CHAINS": "2",
    "PLURALEVAL_NOTEBOOK_SAMPLER": "nutpie",
}

DEMO_SYSTEMS = [f"sys{i}" for i in range(1, 7)]


def test_there_are_notebooks():
    assert [p.name for p in NOTEBOOKS][:1] == ["01_quickstart.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
             and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert not dirty, (f"{path.name}: code cells {dirty} carry outputs or execution counts; "
                       "clear them before committing (Jupyter: Clear All Outputs, then "
                       "save; or `jupyter nbconvert --clear-output --inplace` where nbconvert "
                       "is installed)")


def test_kernel_runs_this_interpreter():
    """The ``python3`` kernel is ipykernel's own spec, started with ``sys.executable``."""
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import sys, pluraleval\nprint(sys.executable)")])
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=120,
                            startup_timeout=120).execute()
    (out,) = nb.cells[0].outputs
    assert Path(out.text.strip()) == Path(sys.executable)


def _text(output) -> str:
    if output.output_type == "stream":
        return output.text
    if output.output_type in ("execute_result", "display_data"):
        return str(output.data.get("text/plain", "")) + str(output.data.get("text/html", ""))
    return ""


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_executes(path, monkeypatch):
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    for name, value in REDUCED.items():
        monkeypatch.setenv(name, value)
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=900, startup_timeout=120,
        resources={"metadata": {"path": str(path.parent)}}, allow_errors=True)
    client.execute(env=dict(os.environ))

    code = [c for c in nb.cells if c.cell_type == "code"]
    errors = [(i, o.ename, o.evalue) for i, c in enumerate(code) for o in c.outputs
              if o.output_type == "error"]
    assert not errors, f"{path.name}: cells raised {errors}"
    assert all(c.execution_count is not None for c in code)

    if path.name == "01_quickstart.ipynb":
        _check_quickstart(code)


def _check_quickstart(code) -> None:
    by_source = {}
    for cell in code:
        by_source.setdefault(cell.source.strip(), cell)
    # the settings cell saw the reduced draws and found the demo data from notebooks/
    setup = "".join(_text(o) for o in code[0].outputs)
    assert "2 chains x 60 draws" in setup and "'nutpie'" in setup
    assert re.search(r"demo data: \.\./data/demo\b", setup), setup

    board = by_source["board = pe.leaderboard(fit)\nboard.round(3)"]
    (result,) = [o for o in board.outputs if o.output_type == "execute_result"]
    plain = result.data["text/plain"]
    for system in DEMO_SYSTEMS:
        assert re.search(rf"\b{system}\b", plain), f"leaderboard output lacks {system}"
    assert "p_best" in plain and "quality_lower" in plain

    stratified = _text(by_source['pe.leaderboard(fit, by="region").round(3)'].outputs[0])
    for region in ("Africa", "Europe", "South Asia"):
        assert region in stratified

    audit = "".join(_text(o) for o in by_source[next(
        s for s in by_source if s.startswith("target = pe.Population.from_table"))].outputs)
    assert "Value-skew audit" in audit and "target population" in audit

    figures = [c for c in code if c.source.startswith("plots.")]
    assert len(figures) == 3
    for cell in figures:
        assert any("image/png" in o.get("data", {}) for o in cell.outputs), cell.source
