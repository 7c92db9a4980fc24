"""Issue 11, defect 8: rich turned ':100:' into an emoji and ':x:' into another, so 'trade_flow.csv:100:' lost
its line number."""

from __future__ import annotations

import subprocess
import sys


def test_line_numbers_and_colons_survive_the_terminal_output(tmp_path, db):
    folder = tmp_path / "world"
    base = [sys.executable, "-m", "critmin.cli.main"]
    subprocess.run([*base, "world", "export", str(folder), "--db", str(db)], check=True, capture_output=True)
    path = folder / "trade_flow.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    column = lines[0].split(",").index("quantity")
    row = lines[99].split(",")
    row[column] = "-5"
    lines[99] = ",".join(row)
    note = lines[0].split(",").index("note")
    row = lines[9].split(",")
    row[column], row[note] = ":x:", ":x:"  # a cell whose text is an emoji code
    lines[9] = ",".join(row)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = subprocess.run([*base, "world", "import", str(folder), "--db", str(db)], capture_output=True, text=True)
    assert result.returncode == 1
    assert f"{path}:100: quantity:" in result.stderr
    assert f"{path}:10: quantity: ':x:'" in result.stderr
    assert "\N{HUNDRED POINTS SYMBOL}" not in result.stderr and "\N{CROSS MARK}" not in result.stderr
