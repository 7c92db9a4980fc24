"""python -m critmin.build --facts ../shared/data/facts --out src/critmin/data/world"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from critmin.build import build_world
from critmin.build.targets import build_targets, write_targets
from critmin.world.problems import WorldValidationError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the bundled critmin world from the facts files.")
    parser.add_argument("--facts", type=Path, default=Path("../shared/data/facts"), help="facts folder")
    parser.add_argument("--out", type=Path, default=Path("src/critmin/data/world"), help="world folder to write")
    args = parser.parse_args(argv)
    try:
        world = build_world(args.facts)
    except WorldValidationError as exc:
        print(exc, file=sys.stderr)
        return 1
    for path in world.to_folder(args.out):
        print(path)
    print(write_targets(build_targets(args.facts), args.out.parent / "calibration_targets.csv"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
