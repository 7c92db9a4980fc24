"""Issue 11, defect 3: a FIFO named stock.csv hung the import forever, a symbolic link to /dev/zero ended in
a MemoryError traceback, and symbolic links were followed (an error echoed the first line of /etc/passwd).
World files must be regular files inside the folder, of a bounded size; anything else is refused by name, and
the store keeps its world."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from critmin.store import Store, data_version


def import_world(folder: Path, db: Path) -> subprocess.CompletedProcess:
    # a subprocess with a limit: an import that blocks (the FIFO) fails the test instead of hanging the suite
    command = [sys.executable, "-m", "critmin.cli.main", "world", "import", str(folder), "--db", str(db)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture
def world_folder(tmp_path, db) -> Path:
    folder = tmp_path / "world"
    command = [sys.executable, "-m", "critmin.cli.main", "world", "export", str(folder), "--db", str(db)]
    subprocess.run(command, capture_output=True, check=True, timeout=300)
    return folder


def make_fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def link_to(target: str):
    def make(path: Path) -> None:
        path.unlink()
        path.symlink_to(target)

    return make


def make_folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


def make_huge(path: Path) -> None:
    with path.open("r+b") as handle:  # sparse: 300 MiB on paper, nothing on disk
        handle.truncate(300 * 2**20)


@pytest.mark.parametrize(
    ("file", "make", "reason"),
    [
        ("stock.csv", make_fifo, "not a regular file"),
        ("stock.csv", link_to("/dev/zero"), "a symbolic link"),
        ("region.csv", link_to("/etc/passwd"), "a symbolic link"),
        ("demand.csv", make_folder, "not a regular file"),
        ("trade_flow.csv", make_huge, "300 MiB, over the 256 MiB limit"),
    ],
    ids=["fifo", "dev-zero", "passwd", "folder", "huge"],
)
def test_special_files_are_refused_by_name_and_the_store_is_unchanged(world_folder, db, file, make, reason):
    with Store(db) as store:
        before = data_version(store.world())
    make(world_folder / file)
    result = import_world(world_folder, db)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert f"{world_folder / file}: {reason}" in output.splitlines()[2]  # the first problem shown: the cause
    assert "Traceback" not in output and "root:" not in output  # nothing of /etc/passwd echoed
    with Store(db) as store:
        assert data_version(store.world()) == before
