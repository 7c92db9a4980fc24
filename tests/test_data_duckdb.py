"""Data tests, run as SQL in DuckDB over the store built from the bundled world."""

import pytest

from critmin.schema import components
from critmin.store import Store
from critmin.world.validate import COMPOSITION_TOLERANCE_PCT

DATA = [c for c in components().values() if c.provenance]
RARE_EARTHS = ["Sc", "Y", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu"]


@pytest.fixture(scope="module")
def con(tmp_path_factory, bundled):
    store = Store(tmp_path_factory.mktemp("db") / "data.duckdb")
    store.load(bundled, origin="bundled")
    yield store.con
    store.close()


def scalar(con, sql):
    return con.execute(sql).fetchone()[0]


@pytest.mark.parametrize("comp", DATA, ids=lambda c: c.name)
def test_every_row_is_sourced(con, comp):
    table = f"world_{comp.name}"
    assert scalar(con, f"SELECT count(*) FROM {table} WHERE source IS NULL OR unit IS NULL OR year IS NULL") == 0
    unknown = scalar(
        con, f"SELECT count(*) FROM {table} t LEFT JOIN world_source s ON t.source = s.id WHERE s.id IS NULL"
    )
    assert unknown == 0
    assert (
        scalar(con, f"SELECT count(*) FROM {table} WHERE confidence NOT IN ('confirmed', 'secondary', 'assumption')")
        == 0
    )


@pytest.mark.parametrize("comp", DATA, ids=lambda c: c.name)
def test_quantities_are_non_negative(con, comp):
    numeric = [a.name for a in comp.attributes if a.type == "float" and a.min is not None and a.min >= 0]
    for column in numeric:
        assert scalar(con, f'SELECT count(*) FROM world_{comp.name} WHERE "{column}" < 0') == 0, column


def test_shares_are_at_most_one(con):
    assert scalar(con, "SELECT max(share) FROM world_composition") <= 100.0
    assert scalar(con, "SELECT max(quantity) FROM world_recipe WHERE output = 'NdFeB'") <= 1.0
    magnet_content = scalar(con, "SELECT sum(quantity) FROM world_recipe WHERE output = 'NdFeB'")
    assert 0.25 < magnet_content < 0.5  # t REO-eq per t magnet: ~31 % NdPr metal plus Dy/Tb


def test_compositions_sum_to_100(con):
    worst = scalar(
        con,
        "SELECT max(abs(total - 100)) FROM "
        "(SELECT product, sum(share) AS total FROM world_composition GROUP BY product)",
    )
    assert worst <= COMPOSITION_TOLERANCE_PCT


def test_every_assumption_says_why(con):
    for comp in DATA:
        missing = scalar(
            con,
            f"SELECT count(*) FROM world_{comp.name} WHERE confidence = 'assumption' "
            "AND (note IS NULL OR note = '') AND source NOT LIKE 'critmin-assumption%'",
        )
        assert missing == 0, comp.name


def test_coverage_of_elements_regions_and_stages(con):
    elements = {r[0] for r in con.execute("SELECT id FROM world_element").fetchall()}
    assert {*RARE_EARTHS, "Ga", "graphite", "REE"} <= elements
    regions = {r[0] for r in con.execute("SELECT id FROM world_region").fetchall()}
    assert {
        "CHN",
        "USA",
        "JPN",
        "AUS",
        "MYS",
        "MMR",
        "LAO",
        "VNM",
        "THA",
        "IND",
        "RUS",
        "BRA",
        "MDG",
        "NGA",
        "KOR",
        "EU",
        "ROW",
    } <= regions
    groups = {r[0] for r in con.execute('SELECT DISTINCT "group" FROM world_region_group').fetchall()}
    assert {"ally_us_jp", "allies"} <= groups
    stages = {
        r[0]
        for r in con.execute(
            "SELECT DISTINCT p.stage FROM world_production x JOIN world_product p ON x.product = p.id"
        ).fetchall()
    }
    assert stages == {"mine", "separation", "metal", "magnet"}
    assert scalar(con, "SELECT count(DISTINCT region) FROM world_demand") >= 6
    assert scalar(con, "SELECT count(*) FROM world_policy_event WHERE announced = '2025-04-04'") >= 1
    assert scalar(con, "SELECT count(*) FROM world_project") >= 20
    assert scalar(con, "SELECT count(*) FROM world_price WHERE element = 'Dy'") >= 10


def test_every_rare_earth_is_mined_or_produced_except_promethium(con):
    produced = {
        r[0]
        for r in con.execute(
            "SELECT DISTINCT c.element FROM world_composition c UNION SELECT p.element FROM world_production x "
            "JOIN world_product p ON x.product = p.id WHERE p.element IS NOT NULL"
        ).fetchall()
    }
    assert {*RARE_EARTHS, "Ga", "graphite"} - {"Pm"} <= produced
    assert "Pm" not in produced  # not mined commercially (elements.csv)
