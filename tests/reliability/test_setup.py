"""Issue 11, defect 16: `make run` installed the dev extras (a 987 MB venv) in silence, and nothing pinned the
versions the tests passed with. Now `make run` installs the pinned runtime set, `make test` adds the pinned dev
set, and the venv the tests run in holds exactly the pinned versions."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from tests.reliability.test_one_store import ROOT

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")


def pins(name: str) -> dict[str, str]:
    found = {}
    for line in (ROOT / "requirements" / name).read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            found[canonicalize_name(match[1])] = match[2]
    return found


def declared() -> tuple[set[str], set[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = {canonicalize_name(Requirement(r).name) for r in project["dependencies"]}
    dev = {canonicalize_name(Requirement(r).name) for r in project["optional-dependencies"]["dev"]}
    return runtime, dev


def target_line(target: str) -> str:
    lines = (ROOT / "Makefile").read_text(encoding="utf-8").splitlines()
    return next(line for line in lines if line.startswith(f"{target}:"))


def stamp_recipe(stamp_variable: str) -> str:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    block = text.split(f"$({stamp_variable}):", 1)[1]
    return block.split("\n\n", 1)[0]


def test_run_lock_pins_every_runtime_dependency_and_no_dev_tool():
    runtime, dev = declared()
    run_pins = pins("run.txt")
    assert runtime <= set(run_pins), runtime - set(run_pins)
    assert not (dev - runtime) & set(run_pins), (dev - runtime) & set(run_pins)


def test_dev_lock_extends_the_run_lock_with_the_same_versions():
    _, dev = declared()
    run_pins, dev_pins = pins("run.txt"), pins("dev.txt")
    assert dev <= set(dev_pins), dev - set(dev_pins)
    assert {name: dev_pins.get(name) for name in run_pins} == run_pins


def test_make_run_installs_only_the_runtime_lock_and_make_test_the_dev_lock():
    assert "RUN_STAMP" in target_line("run") and "DEV_STAMP" not in target_line("run")
    assert "DEV_STAMP" in target_line("test")
    runtime_install = stamp_recipe("RUN_STAMP")
    assert "requirements/run.txt" in runtime_install and "[dev]" not in runtime_install
    assert "--quiet -r" not in runtime_install, "the dependency install must show progress"
    assert "requirements/dev.txt" in stamp_recipe("DEV_STAMP")


def test_the_installed_versions_are_the_pinned_ones():
    """The suite runs on what requirements/dev.txt pins, so the lock records versions the tests passed with."""
    drift = {}
    for name, version in pins("dev.txt").items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            drift[name] = (version, installed)
    assert not drift, f"pinned vs installed (run `make lock` after upgrading): {drift}"
