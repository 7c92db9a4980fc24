"""The World: one typed table per component, read from and written to a world folder."""

from __future__ import annotations

import stat
from importlib import resources
from pathlib import Path

import pandas as pd

from critmin.schema import component_for_file, components
from critmin.world.problems import Problem, WorldValidationError
from critmin.world.tables import HIDDEN, empty_table, parse_csv, to_csv_text
from critmin.world.validate import check_parsed, check_world

CORE_COMPONENTS = ("source", "region", "element", "product")


class World:
    """A complete world: every component present (possibly empty), validated as a whole."""

    def __init__(self, tables: dict[str, pd.DataFrame], *, validate: bool = True):
        missing = [c for c in components() if c not in tables]
        self.tables = {**tables, **{c: empty_table(components()[c]) for c in missing}}
        self.validated = validate  # checked as a whole here (False: the caller vouches, or nobody has)
        if validate:
            problems = check_world(self.tables)
            if problems:
                raise WorldValidationError(problems)

    def table(self, name: str) -> pd.DataFrame:
        """A component's rows without the bookkeeping columns."""
        return self.tables[name].drop(columns=list(HIDDEN)).reset_index(drop=True)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={len(v)}" for k, v in self.tables.items() if len(v))
        return f"World({sizes})"

    # --- folders -------------------------------------------------------------------------------------

    @classmethod
    def from_folder(cls, folder: str | Path) -> World:
        """Read and validate a complete world folder. Raises WorldValidationError listing every problem."""
        tables, problems = parse_layer(folder)
        problems += [
            Problem(str(Path(folder) / components()[c].file), None, None, "required file is missing")
            for c in CORE_COMPONENTS
            if c not in tables
        ]
        if not problems:
            return cls(tables)
        # the cross-table problems of the rows that parsed too: one pass lists everything to fix (defect 10)
        problems += check_parsed(tables, problems)
        raise WorldValidationError(problems)

    @classmethod
    def bundled(cls) -> World:
        """The sourced world shipped with critmin (reference year 2024)."""
        return cls.from_folder(bundled_folder())

    def to_folder(self, folder: str | Path) -> list[Path]:
        """Write every component as CSV. Written to a temporary folder first, then moved into place."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name, comp in components().items():
            path = folder / comp.file
            tmp = path.with_suffix(".csv.tmp")
            tmp.write_text(to_csv_text(comp, self.tables[name]), encoding="utf-8")
            written.append((tmp, path))
        for tmp, path in written:
            tmp.replace(path)
        return [path for _, path in written]

    def with_layer(self, layer: dict[str, pd.DataFrame]) -> World:
        """A new world with an override layer on top: rows with the same key replace, new rows append."""
        return World({name: overlay(self.tables[name], layer.get(name), name) for name in components()})


def bundled_folder() -> Path:
    """The folder of the bundled, sourced 2024 world (CSV files)."""
    return Path(str(resources.files("critmin.data").joinpath("world")))


def read_layer(folder: str | Path) -> dict[str, pd.DataFrame]:
    """Parse every known CSV file in a folder. Unknown files and per-row problems raise."""
    tables, problems = parse_layer(folder)
    if problems:
        raise WorldValidationError(problems)
    return tables


def parse_layer(folder: str | Path) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """Parse every known CSV file in a folder, returning the tables and every problem found."""
    folder = Path(folder)
    if not folder.is_dir():
        return {}, [Problem(str(folder), None, None, "not a directory")]
    tables: dict[str, pd.DataFrame] = {}
    problems: list[Problem] = []
    for path in sorted(folder.glob("*.csv")):
        comp = component_for_file(path.name)
        if comp is None:
            known = ", ".join(c.file for c in components().values())
            problems.append(Problem(str(path), None, None, f"unknown world file; expected one of: {known}"))
            continue
        refused = _not_a_plain_file(path)
        if refused:
            problems.append(Problem(str(path), None, None, refused))
            tables[comp.name] = empty_table(comp)  # present, though unreadable: not also 'missing'
            continue
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            line = path.read_bytes()[: exc.start].count(b"\n") + 1
            problems.append(
                Problem(str(path), line, None, f"not UTF-8 text (byte {exc.start}): save the file as UTF-8")
            )
            tables[comp.name] = empty_table(comp)  # present, though unreadable: not also 'missing'
            continue
        frame, found = parse_csv(comp, text, str(path))
        tables[comp.name] = frame
        problems += found
    if not tables and not problems:
        problems.append(Problem(str(folder), None, None, "no world CSV files found"))
    return tables, problems


MAX_FILE_BYTES = 256 * 2**20  # the bundled world is about 1 MiB; a table this size is a mistake or an attack


def _not_a_plain_file(path: Path) -> str | None:
    """Why ``path`` may not be read as a world table (None if it may). Checked without following or opening
    it: a symbolic link could point outside the folder (its first line would be echoed in error messages), a
    FIFO would block the import forever, and /dev/zero would fill memory."""
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode):
        return "a symbolic link: world files must be regular files inside the folder"
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file (a pipe, device or folder): world files must be regular files"
    if info.st_size > MAX_FILE_BYTES:
        return f"{info.st_size / 2**20:.0f} MiB, over the {MAX_FILE_BYTES // 2**20} MiB limit for a world table"
    return None


def overlay(base: pd.DataFrame, top: pd.DataFrame | None, name: str) -> pd.DataFrame:
    if top is None or top.empty:
        return base
    key = components()[name].key
    base_keys = pd.MultiIndex.from_frame(base[key]) if len(base) else pd.MultiIndex.from_tuples([], names=key)
    top_keys = pd.MultiIndex.from_frame(top[key])
    replace = dict(zip(top_keys, range(len(top)), strict=True))
    rows = [top.iloc[replace[k]] if k in replace else base.iloc[i] for i, k in enumerate(base_keys)]
    seen = set(base_keys)
    rows += [top.iloc[i] for i, k in enumerate(top_keys) if k not in seen]
    merged = pd.DataFrame(rows, columns=base.columns).reset_index(drop=True)
    return merged.astype(base.dtypes.to_dict())
