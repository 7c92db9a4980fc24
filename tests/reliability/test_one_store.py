"""Issue 11, defect 14: `make run` stored its run in .critmin/critmin.duckdb while plain `critmin` used the
per-user store, so the README's next step (`critmin runs show latest`) found no run."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def recipe(target: str) -> list[str]:
    lines = (ROOT / "Makefile").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{target}:"))
    body = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        body.append(line.strip())
    return body


def test_make_run_uses_the_store_every_critmin_command_uses():
    commands = recipe("run")
    assert any("critmin run " in c for c in commands) and any("critmin serve" in c for c in commands)
    for command in commands:
        assert "CRITMIN_DB" not in command and "--db" not in command, command
