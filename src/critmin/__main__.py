"""``python -m critmin``: the command line, as the ``critmin`` console script runs it (benchmarks/risk.py uses
this form to run ``critmin risk run`` on the source tree)."""

from critmin.cli.main import app

if __name__ == "__main__":  # not in dask's spawned workers, which import this module under another name
    app(prog_name="critmin")
