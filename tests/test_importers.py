"""Issue 16, importers: CEPII BACI, UN Comtrade and USGS files (small synthetic fixtures written here) to
override layers, with HS codes mapped through hs_map.csv, shared codes split by a declared allocation rule,
countries aggregated to the world's regions, and file:line: field errors that leave the store unchanged."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from critmin.api import ImportFileError, Store, hs_map, import_production, import_trade
from critmin.cli.main import app

runner = CliRunner()

BACI = """t,i,j,k,v,q
2024,156,392,284690,5000,1000
2024,156,842,280530,300,20
2024,156,276,850511,9000,150
2024,156,251,850511,1000,20
2024,124,410,250490,800,1000
2024,76,124,250490,50,30
2024,156,392,284610,40,10
2024,156,392,999999,1,1
2024,276,251,284610,10,5
2024,156,392,811292,2000,NA
"""
CODES = """country_code,country_name,country_iso2,country_iso3
156,China,CN,CHN
392,Japan,JP,JPN
842,USA,US,USA
276,Germany,DE,DEU
251,France,FR,FRA
124,Canada,CA,CAN
410,Rep. of Korea,KR,KOR
76,Brazil,BR,BRA
"""
COMTRADE = (
    "refYear,reporterCode,reporterISO,flowCode,partnerCode,partnerISO,cmdCode,qty,qtyUnitAbbr,netWgt,primaryValue\n"
    """2024,392,JPN,M,156,CHN,284690,,,500000,2500000
2024,392,JPN,M,0,W00,284690,,,900000,4000000
2024,392,JPN,X,156,CHN,284690,,,1000,5000
2024,842,USA,M,124,CAN,811292,2000,kg,,1000000
2024,276,DEU,M,156,CHN,250410,,,300000,600000
2024,250,FRA,M,276,DEU,250410,,,1000,2000
"""
)
USGS = """SOURCE,COUNTRY,COMMODITY,TYPE,UNIT_MEAS,PROD_2023,PROD_EST_2024
MCS2025,United States,Rare earths,Mine production,metric tons of rare-earth-oxide equivalent,43000,45000
MCS2025,Burma,Rare earths,Mine production,metric tons of rare-earth-oxide equivalent,43000,31000
MCS2025,Canada,Rare earths,Mine production,metric tons of rare-earth-oxide equivalent,,1000
MCS2025,Greenland,Rare earths,Mine production,metric tons of rare-earth-oxide equivalent,,500
MCS2025,World total (rounded),Rare earths,Mine production,metric tons of rare-earth-oxide equivalent,376000,390000
MCS2025,Madagascar,Graphite (natural),Mine production,metric tons,100000,"89,000"
MCS2025,Germany,Graphite (natural),Mine production,metric tons,200,300
MCS2025,China,Gallium,Primary production,kilograms,,750000
MCS2025,Japan,Gallium,Primary production,kilograms,W,W
MCS2025,Chile,Copper,Mine production,thousand metric tons,5000,5300
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def imported(store, layer):
    flows = store.active_world().table("trade_flow")
    sources = {s for s in flows["source"] if s.startswith(layer)}
    return flows[flows["source"].isin(sources)]


def test_hs_map_covers_the_issue_codes_with_world_products(bundled):
    table = hs_map()
    codes = {"280530", "284610", "284690", "850511", "811292", "250410", "250490", "380110", "380190"}
    assert codes <= set(table["hs6"])
    assert set(table["product"]) <= set(bundled.table("product")["id"])
    assert table["note"].notna().all() and table["source"].notna().all()
    assert set(table["confidence"]) <= {"confirmed", "secondary", "assumption"}
    assert set(table["share"]) == {"all", "split"}
    products = table.groupby("hs6")["product"].count()
    shares = table.groupby("hs6")["share"].first()
    assert (shares == (products > 1).map({True: "split", False: "all"})).all()


def test_baci_import_aggregates_regions_and_splits_by_composition(tmp_path, db, bundled):
    baci, codes = write(tmp_path, "baci.csv", BACI), write(tmp_path, "codes.csv", CODES)
    with Store(db) as store:
        result = import_trade(store, baci, fmt="baci", override="baci-2024", codes=codes)
        flows = imported(store, "cepii-baci")
        layers = store.layers()
    assert result.allocation == "composition" and result.year == 2024
    assert result.skipped == {
        "HS code not in hs_map.csv": 1,
        "no quantity (q)": 1,
        "within one region (EU or ROW)": 1,  # DEU->FRA: EU to EU
    }
    assert list(layers["name"]) == ["base", "baci-2024"]
    assert "allocation=composition" in layers["origin"].iat[1]
    by_arc = flows.groupby(["origin", "destination"])["quantity"].sum()
    # DEU and FRA are EU members: China's two magnet flows aggregate to CHN->EU (150 + 20 t)
    assert by_arc[("CHN", "EU")] == pytest.approx(170)
    # Canada is outside the world: ROW
    assert by_arc[("ROW", "KOR")] == pytest.approx(1000)
    assert by_arc[("BRA", "ROW")] == pytest.approx(30)
    # the shared 2846.90 code keeps its 1000 t, split as the world's CHN->JPN trade of the candidates
    chn_jpn = flows[(flows["origin"] == "CHN") & (flows["destination"] == "JPN")]
    oxides = chn_jpn[chn_jpn["product"].str.endswith("_oxide")]
    ce = oxides[oxides["product"] == "Ce_oxide"]["quantity"].sum()
    assert ce == pytest.approx(10)  # 2846.10: all to cerium oxide
    shared = oxides[oxides["product"] != "Ce_oxide"].set_index("product")["quantity"]
    assert shared.sum() == pytest.approx(1000)
    candidates = set(hs_map().query("hs6 == '284690'")["product"])
    base = bundled.table("trade_flow")
    ref = base[(base["origin"] == "CHN") & (base["destination"] == "JPN") & base["product"].isin(candidates)]
    ref = ref.groupby("product")["quantity"].sum()
    expected = (ref / ref.sum() * 1000)[lambda s: s > 0]
    assert shared.sort_index().to_numpy() == pytest.approx(expected.sort_index().to_numpy())
    # metals counted as oxide equivalent (factor 1.17 in hs_map.csv): 20 t of 2805.30 -> 23.4 t REO
    assert by_arc[("CHN", "USA")] == pytest.approx(23.4)
    assert set(flows["confidence"]) == {"secondary"} and set(flows["year"]) == {2024}
    assert all(unit.endswith("/yr") for unit in flows["unit"])
    source = result.source_id
    assert source.startswith("cepii-baci-baci-")
    with Store(db) as store:
        cited = store.active_world().table("source").set_index("id").loc[source, "citation"]
    assert "baci.csv" in cited and "composition" in cited


def test_baci_unit_value_rule_brackets_the_unit_value(tmp_path, db, bundled):
    # 8112.92 candidates: Ga_primary (reference price p1) and Ga_refined (p2); a unit value between them
    prices = bundled.table("reference_price").set_index("product")["price"]
    p1, p2 = prices["Ga_primary"], prices["Ga_refined"]
    uv = p1 + 0.25 * (p2 - p1)  # USD/kg
    tonnes = 40
    value_kusd = uv * tonnes * 1000 / 1000
    baci = write(tmp_path, "ga.csv", f"t,i,j,k,v,q\n2024,156,392,811292,{value_kusd},{tonnes}\n")
    with Store(db) as store:
        result = import_trade(store, baci, fmt="baci", override="ga", allocation="unit_value")
        flows = imported(store, "cepii-baci").set_index("product")["quantity"]
        origin = store.layers()["origin"].iat[1]
    assert result.allocation == "unit_value" and "allocation=unit_value" in origin
    assert flows.sum() == pytest.approx(tonnes)
    assert flows["Ga_refined"] == pytest.approx(0.25 * tonnes)
    assert flows["Ga_primary"] == pytest.approx(0.75 * tonnes)


def test_comtrade_import_reads_importer_reported_flows(tmp_path, db):
    path = write(tmp_path, "comtrade.csv", COMTRADE)
    with Store(db) as store:
        result = import_trade(store, path, fmt="comtrade", override="ct", allocation="unit_value")
        flows = imported(store, "un-comtrade")
    assert result.skipped["partner or reporter is World"] == 1
    assert result.skipped["flowCode other than M"] == 1
    assert result.skipped["within one region (EU or ROW)"] == 1  # FRA from DEU
    by_arc = flows.groupby(["origin", "destination"])["quantity"].sum()
    assert by_arc[("CHN", "JPN")] == pytest.approx(500)  # kg -> t
    assert by_arc[("ROW", "USA")] == pytest.approx(2)  # qty in kg where netWgt is empty; Canada -> ROW
    assert by_arc[("CHN", "EU")] == pytest.approx(300)
    assert set(flows["year"]) == {2024}


def test_usgs_import_writes_mine_production(tmp_path, db, bundled):
    path = write(tmp_path, "mcs2025_world.csv", USGS)
    with Store(db) as store:
        result = import_production(store, path, fmt="usgs", override="usgs-2024")
        production = store.active_world().table("production")
    assert result.year == 2024 and result.skipped["world total"] == 1
    mine = production[production["source"] == result.source_id]
    by_region = mine.groupby(["region", "product"])["quantity"].sum()
    assert by_region[("USA", "conc_bastnaesite_mp")] == pytest.approx(45000)
    assert mine[mine["region"] == "MMR"]["quantity"].sum() == pytest.approx(31000)
    assert mine[mine["region"] == "ROW"]["quantity"].sum() == pytest.approx(1500)  # Canada + Greenland
    assert by_region[("MDG", "graphite_natural")] == pytest.approx(89000)
    assert by_region[("EU", "graphite_natural")] == pytest.approx(300)
    assert by_region[("CHN", "Ga_primary")] == pytest.approx(750)  # kg -> t
    assert set(mine["route"]) == {"primary"} and set(mine["confidence"]) == {"secondary"}


def test_a_malformed_row_names_file_line_and_field_and_changes_nothing(tmp_path, db):
    good = write(tmp_path, "good.csv", BACI)
    bad = write(tmp_path, "baci.csv", BACI.replace("2024,156,842,280530,300,20", "2024,156,842,280530,300,lots"))
    with Store(db) as store:
        import_trade(store, good, fmt="baci", override="first")
        before = store.layers()[["name", "data_version", "row_count"]]
        with pytest.raises(ImportFileError) as info:
            import_trade(store, bad, fmt="baci", override="second")
        assert f"{bad}:3: q: not a number: 'lots'" in str(info.value)
        with pytest.raises(ImportFileError):
            import_trade(store, bad, fmt="baci", override="first")  # replacing a layer: also nothing changes
        after = store.layers()[["name", "data_version", "row_count"]]
    assert before.equals(after)


def test_cli_import_trade_and_production(tmp_path, db):
    baci = write(tmp_path, "baci.csv", BACI)
    out = runner.invoke(
        app, ["world", "import-trade", "--format", "baci", str(baci), "--override", "baci-2024", "-f", "json"]
    )
    assert out.exit_code == 0, out.output
    [record] = json.loads(out.stdout)
    assert record["layer"] == "baci-2024" and record["allocation"] == "composition"
    layers = json.loads(runner.invoke(app, ["world", "layers", "--format", "json"]).stdout)
    assert [layer["name"] for layer in layers] == ["base", "baci-2024"]
    usgs = write(tmp_path, "usgs.csv", USGS)
    out = runner.invoke(app, ["world", "import-production", "--format", "usgs", str(usgs), "--override", "usgs"])
    assert out.exit_code == 0, out.output
    bad = write(tmp_path, "bad.csv", BACI.replace("2024,124,410", "2024,CA,410"))
    out = runner.invoke(app, ["world", "import-trade", "--format", "baci", str(bad), "--override", "x"])
    assert out.exit_code == 1
    assert "bad.csv:6: i: not a numeric country code: 'CA'" in out.output.replace("\n", "")
    layers = json.loads(runner.invoke(app, ["world", "layers", "--format", "json"]).stdout)
    assert [layer["name"] for layer in layers] == ["base", "baci-2024", "usgs"]
    out = runner.invoke(
        app, ["world", "import-trade", "--format", "baci", str(baci), "--override", "y", "--allocation", "nope"]
    )
    assert out.exit_code == 2
