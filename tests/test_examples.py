"""Issue 16, worked examples: every notebook in examples/ runs from top to bottom in a fresh kernel (this
interpreter's, through ipykernel), with the working directory at examples/ as in Jupyter. A cell that raises
fails the test with the cell's source and its error. Notebooks that store anything use a temporary store of
their own; the session's CRITMIN_DB (conftest) is inherited by the kernel as a guard."""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import nbclient
import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))
ANSI = re.compile(r"\x1b\[[0-9;]*m")
CELL_TIMEOUT_S = 120  # per cell; each notebook runs in well under a minute on 2 cores


def kernel_name() -> str:
    """The python3 kernel, run by this interpreter. ipykernel's wheel installs its kernelspec under sys.prefix
    and jupyter_client starts a spec whose argv says `python` with sys.executable; where no python3 spec is
    found (an odd install), one is written under sys.prefix."""
    from jupyter_client.kernelspec import KernelSpecManager

    if "python3" not in KernelSpecManager().find_kernel_specs():
        from ipykernel.kernelspec import install

        install(prefix=sys.prefix)
    return "python3"


def test_examples_are_listed_and_stored_without_outputs():
    assert len(NOTEBOOKS) == 6, NOTEBOOKS
    listed = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    for path in NOTEBOOKS:
        assert path.name in listed, path.name
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: clear the outputs"
        assert nb.cells[0].cell_type == "markdown", f"{path.name} starts with its explanation"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, monkeypatch):
    # the kernel imports this checkout's critmin, as the tests do
    src = str(REPO / "src")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p))
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # debugpy's frozen-modules note on stderr
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=CELL_TIMEOUT_S, kernel_name=kernel_name(), resources={"metadata": {"path": str(EXAMPLES)}}
    )
    started = time.perf_counter()
    error = None
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as exc:
        error = ANSI.sub("", str(exc))  # the cell's source and its traceback, without the terminal colours
    if error is not None:
        pytest.fail(f"{path.name}: a cell raised:\n{error}", pytrace=False)
    wall = time.perf_counter() - started
    print(f"{path.name}: {wall:.1f} s")
    assert all(cell.get("execution_count") for cell in nb.cells if cell.cell_type == "code")
