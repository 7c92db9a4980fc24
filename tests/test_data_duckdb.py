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
    assert scalar(con, "SELECT max(quantity) FROM world_recipe WHERE output LIKE 'NdFeB%'") <= 1.0
    contents = con.execute(
        "SELECT output, sum(quantity) FROM world_recipe WHERE output LIKE 'NdFeB%' GROUP BY output"
    ).fetchall()
    assert len(contents) == 3
    for grade, magnet_content in contents:
        assert 0.25 < magnet_content < 0.5, grade  # t REO-eq per t magnet: ~31 % NdPr metal plus Dy/Tb


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


MAGNET_GRADES = ("NdFeB_hree", "NdFeB_gbd", "NdFeB_free")


def test_magnet_grades_differ_only_in_heavy_rare_earths(con):
    rows = con.execute(
        "SELECT output, input, quantity FROM world_recipe WHERE output LIKE 'NdFeB%' ORDER BY output, input"
    ).fetchall()
    recipe = {(o, i): q for o, i, q in rows}
    for element in ("Nd_metal", "Pr_metal"):
        assert len({recipe[(g, element)] for g in MAGNET_GRADES}) == 1
    hre = {g: recipe.get((g, "Dy_metal"), 0.0) + recipe.get((g, "Tb_metal"), 0.0) for g in MAGNET_GRADES}
    assert hre["NdFeB_hree"] > hre["NdFeB_gbd"] > hre["NdFeB_free"] == 0.0
    # bulk-alloyed grade: 2-8 % Dy+Tb metal by mass (t REO-eq x oxide-to-metal factor ~0.86)
    assert 0.02 < hre["NdFeB_hree"] * 0.86 < 0.08
    assert recipe[("NdFeB_hree", "Dy_metal")] > recipe[("NdFeB_hree", "Tb_metal")]


def test_magnet_grades_share_every_region_in_the_same_proportions(con):
    shares = con.execute(
        "SELECT region, product, quantity / sum(quantity) OVER (PARTITION BY region) FROM world_production "
        "WHERE product LIKE 'NdFeB%'"
    ).fetchall()
    by_grade: dict[str, set] = {}
    for _, grade, share in shares:
        by_grade.setdefault(grade, set()).add(round(share, 4))
    assert set(by_grade) == set(MAGNET_GRADES)
    assert all(len(values) == 1 for values in by_grade.values())


def test_demand_response_costs_stay_below_the_value_of_lost_load(con):
    worst = scalar(
        con,
        "SELECT max(d.cost / (p.price * s.voll_multiple)) FROM world_demand_response d "
        "JOIN world_reference_price p ON d.product = p.product JOIN world_sector s ON d.sector = s.id",
    )
    assert worst < 1.0
    combos = con.execute(
        "SELECT DISTINCT sector, product FROM world_demand WHERE product LIKE 'NdFeB%' EXCEPT "
        "SELECT sector, product FROM world_demand_response GROUP BY sector, product HAVING count(*) = 2"
    ).fetchall()
    assert combos == []


def test_every_sector_and_processed_product_is_parameterised(con):
    assert (
        scalar(
            con,
            "SELECT count(*) FROM (SELECT DISTINCT sector FROM world_demand) d "
            "LEFT JOIN world_sector s ON d.sector = s.id WHERE s.id IS NULL",
        )
        == 0
    )
    assert scalar(con, "SELECT voll_multiple FROM world_sector WHERE id = 'defence'") > scalar(
        con, "SELECT max(voll_multiple) FROM world_sector WHERE id <> 'defence'"
    )
    missing = scalar(
        con,
        "SELECT count(*) FROM world_product p LEFT JOIN world_reservation_price r ON p.id = r.product "
        "WHERE p.stage IN ('separation', 'metal', 'magnet') AND r.product IS NULL",
    )
    assert missing == 0
    switches = {tuple(r) for r in con.execute("SELECT product, alternative FROM world_product_switch").fetchall()}
    assert {("NdFeB_hree", "NdFeB_gbd"), ("NdFeB_gbd", "NdFeB_free"), ("NdFeB_hree", "NdFeB_free")} <= switches


def test_private_stocks_hold_their_target_days_of_use(con):
    users = con.execute(
        "SELECT s.region, s.product, s.quantity, s.days_of_cover_target, sum(d.quantity) FROM world_stock s "
        "JOIN world_demand d ON d.region = s.region AND d.product = s.product "
        "WHERE s.holder = 'private' AND s.product LIKE 'NdFeB%' GROUP BY ALL"
    ).fetchall()
    makers = con.execute(
        "SELECT s.region, s.product, s.quantity, s.days_of_cover_target, sum(x.quantity * r.quantity) "
        "FROM world_stock s JOIN world_recipe r ON r.input = s.product "
        "JOIN world_production x ON x.product = r.output AND x.region = s.region "
        "WHERE s.holder = 'private' AND s.product LIKE '%_metal' AND r.output LIKE 'NdFeB%' GROUP BY ALL"
    ).fetchall()
    assert len(users) >= 12 and len(makers) >= 20
    assert {r[0] for r in users + makers}.isdisjoint({"CHN"})
    for region, product, quantity, days, use in users + makers:
        assert quantity == pytest.approx(use * days / 365, abs=2e-3), (region, product)
