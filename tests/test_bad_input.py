"""One test per class of bad input: each names file, line, column and reason, and changes nothing."""

import csv
import io
from pathlib import Path

import pytest

from critmin.store import Store
from critmin.world import World, WorldValidationError


@pytest.fixture
def folder(tmp_path, bundled_folder_copy) -> Path:
    return bundled_folder_copy(tmp_path / "world")


def edit(folder: Path, file: str, row_index: int, **changes) -> int:
    """Change cells of data row ``row_index`` (0-based) of a world file; returns its line number."""
    path = folder / file
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    header = list(rows[0].keys())
    rows[row_index].update(changes)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return row_index + 2


def problems_of(folder: Path):
    with pytest.raises(WorldValidationError) as info:
        World.from_folder(folder)
    return info.value.problems


def only(problems, file, line, column):
    matching = [p for p in problems if p.file.endswith(file) and p.line == line and p.column == column]
    assert matching, f"no problem at {file}:{line}:{column}; got {[str(p) for p in problems]}"
    return matching[0]


def test_negative_capacity(folder):
    line = edit(folder, "capacity.csv", 2, capacity="-5")
    problem = only(problems_of(folder), "capacity.csv", line, "capacity")
    assert "negative" in problem.reason


def test_unknown_region(folder):
    line = edit(folder, "production.csv", 0, region="ATLANTIS")
    assert "unknown region 'ATLANTIS'" in only(problems_of(folder), "production.csv", line, "region").reason


def test_composition_not_summing_to_100(folder):
    line = edit(folder, "composition.csv", 0, share="60")
    assert "sums to" in only(problems_of(folder), "composition.csv", line, "share").reason


def test_unit_mismatch(folder):
    line = edit(folder, "trade_flow.csv", 0, unit="kg/yr")
    reason = only(problems_of(folder), "trade_flow.csv", line, "unit").reason
    assert "unit mismatch" in reason and "'kg/yr'" in reason


def test_missing_source(folder):
    line = edit(folder, "demand.csv", 3, source="")
    assert "missing" in only(problems_of(folder), "demand.csv", line, "source").reason


def test_unknown_source(folder):
    line = edit(folder, "price.csv", 1, source="made-up")
    assert "unknown source" in only(problems_of(folder), "price.csv", line, "source").reason


def test_not_a_number(folder):
    line = edit(folder, "production.csv", 4, quantity="lots")
    assert "not a number" in only(problems_of(folder), "production.csv", line, "quantity").reason


def test_value_not_allowed(folder):
    line = edit(folder, "production.csv", 1, confidence="probably")
    assert "not one of" in only(problems_of(folder), "production.csv", line, "confidence").reason


def test_duplicate_key(folder):
    path = folder / "region.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([*lines, lines[1]]) + "\n", encoding="utf-8")
    problem = only(problems_of(folder), "region.csv", len(lines) + 1, "id")
    assert "duplicate key" in problem.reason and "line 2" in problem.reason


def test_unknown_column_and_missing_required_column(folder):
    path = folder / "stock.csv"
    text = path.read_text(encoding="utf-8").replace("holder,", "owner,", 1)
    path.write_text(text, encoding="utf-8")
    problems = problems_of(folder)
    only(problems, "stock.csv", 1, "owner")
    only(problems, "stock.csv", 1, "holder")


def test_ragged_row(folder):
    path = folder / "recipe.csv"
    path.write_text(path.read_text(encoding="utf-8") + "NdFeB_gbd,Nd_metal\n", encoding="utf-8")
    lines = path.read_text(encoding="utf-8").count("\n")
    problems = problems_of(folder)
    assert any(p.line == lines and "fields" in p.reason for p in problems)


def test_unknown_file(folder):
    (folder / "mystery.csv").write_text("a\n1\n", encoding="utf-8")
    assert any("unknown world file" in p.reason for p in problems_of(folder))


def test_unknown_element_in_policy_event_list(folder):
    line = edit(folder, "policy_event.csv", 7, elements="Dy|Unobtainium")
    assert "Unobtainium" in only(problems_of(folder), "policy_event.csv", line, "elements").reason


def test_every_problem_is_reported_at_once(folder):
    edit(folder, "capacity.csv", 0, capacity="-1")
    edit(folder, "production.csv", 0, region="NOWHERE")
    assert len(problems_of(folder)) >= 2


def test_bad_import_leaves_the_store_unchanged(folder, db):
    with Store(db) as store:
        store.world()
        before = store.layers()["data_version"].tolist()
        edit(folder, "capacity.csv", 0, capacity="-10")
        with pytest.raises(WorldValidationError):
            store.import_folder(folder)
        with pytest.raises(WorldValidationError):
            store.import_folder(folder, override="bad")
        assert store.layers()["data_version"].tolist() == before
        assert store.active_world().table("capacity")["capacity"].min() >= 0


def test_bad_date(folder):
    line = edit(folder, "policy_event.csv", 2, effective="2025-02-30")
    assert "not a date" in only(problems_of(folder), "policy_event.csv", line, "effective").reason


def test_recipe_cycle(folder):
    path = folder / "recipe.csv"
    row = path.read_text(encoding="utf-8").splitlines()[1].split(",")
    row[0], row[1] = row[1], row[0]  # the reverse of the first recipe closes a loop
    path.write_text(path.read_text(encoding="utf-8") + ",".join(row) + "\n", encoding="utf-8")
    assert any("recipe cycle" in p.reason for p in problems_of(folder))


def test_trade_flow_to_itself(folder):
    first = (folder / "trade_flow.csv").read_text(encoding="utf-8").splitlines()[1].split(",")
    line = edit(folder, "trade_flow.csv", 0, destination=first[0])
    assert "two different regions" in only(problems_of(folder), "trade_flow.csv", line, "destination").reason


def test_repeated_header_column(folder):
    path = folder / "stock.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([lines[0] + ",quantity", *(line + ",1" for line in lines[1:])]) + "\n")
    assert "more than once" in only(problems_of(folder), "stock.csv", 1, "quantity").reason
