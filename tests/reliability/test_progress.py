"""Issue 11, defect 16 (part): a run's progress read "0/None months" at first, and said nothing when stderr
was not a terminal. Off a terminal it now prints lines with the months done and the horizon."""

from __future__ import annotations

from typer.testing import CliRunner

from critmin.cli.main import app

SCENARIO = """\
name: progress-check
start: 2025-01-01
end: 2025-04-30
shocks:
  - type: export_control
    exporter: {regions: [CHN]}
    elements: [Dy]
    mode: quota
    magnitude: 0.5
    start: 2025-02-01
"""


def test_a_run_off_a_terminal_reports_months_done_out_of_the_horizon(tmp_path, db):
    path = tmp_path / "progress.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    result = CliRunner().invoke(app, ["run", str(path), "--db", str(db), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert "running progress-check: 4/4 months" in result.output
    assert "None" not in result.output.split("[")[0]
