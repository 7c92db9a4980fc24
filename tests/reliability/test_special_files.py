"""Issue 11, defect 3: a FIFO named stock.csv hung the import forever, a symbolic link to /dev/zero ended in
a MemoryError traceback, and symbolic links were followed (an error echoed the first line of /etc/passwd).
World files must be regular files inside the folder, of a bounded size; anything else is refused by name, and
the store keeps its world."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from critmin.store import Store, data_version
from critmin.world.model import World


def import_world(folder: Path, db: Path) -> subprocess.CompletedProcess:
    # a subprocess with a limit: an import that blocks (the FIFO) fails the test instead of hanging the suite
    command = [sys.executable, "-m", "critmin.cli.main", "world", "import", str(folder), "--db", str(db)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("export") / "world"
    World.bundled().to_folder(folder)
    return folder


@pytest.fixture
def world_folder(tmp_path, exported) -> Path:
    folder = tmp_path / "world"
    shutil.copytree(exported, folder)
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


def test_a_table_others_refer_to_saved_in_the_wrong_encoding_is_the_first_problem_shown(world_folder, db):
    """Issue 11, defect 9: region.csv saved as cp1252 gave 1,789 problems and the first 100 printed were the
    cascades (unknown regions everywhere), never the cause."""
    path = world_folder / "region.csv"
    text = path.read_text(encoding="utf-8").replace("Japan", "Japón", 1)
    path.write_bytes(text.encode("cp1252"))
    result = import_world(world_folder, db)
    assert result.returncode == 1
    problems = [line.strip() for line in result.stderr.splitlines() if line.startswith("  ")]
    assert problems[0].startswith(f"{path}:") and "not UTF-8 text" in problems[0], problems[:3]
