"""Issue 11, defect 16 (part): `serve` printed its URL and then failed on a busy port."""

from __future__ import annotations

import socket
import subprocess
import sys


def test_serve_on_a_busy_port_says_so_before_printing_a_url(db):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = [sys.executable, "-m", "critmin.cli.main", "serve", "--port", str(port), "--db", str(db)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 2
    assert f"cannot serve on 127.0.0.1:{port}" in result.stderr and "choose another --port" in result.stderr
    assert "http://" not in result.stdout
