"""Issue 16, stored deals: `critmin deal value FILE --db` stores the valuation (deals and its long tables, in one
transaction), `critmin deal list/show` read it back, and `critmin report deal latest --out d.html|d.pdf` writes a
report that is byte-identical when made again, on tests/test_deal.py's small deal (three scenarios)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from critmin.api import (
    DEAL_TABLES,
    DealNotFoundError,
    Store,
    deal_info,
    list_deals,
    read_deal_table,
    resolve_deal,
)
from critmin.cli.main import app
from test_deal import small_deal

runner = CliRunner()


def invoke(*args, code=0):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A store with the small deal valued twice (tables, then --json): (db, folder, deal id, json payload)."""
    folder = tmp_path_factory.mktemp("deal-store")
    db = folder / "critmin.duckdb"
    path = small_deal(folder)
    table = invoke("deal", "value", path, "--db", db)
    last = table.stdout.strip().splitlines()[-1]
    assert last.startswith("stored deal id: us-japan-2025-"), last
    deal_id = last.split()[3]
    assert "break_even_premium_pct" in table.stdout  # the valuation's own output is kept
    payload = json.loads(invoke("deal", "value", path, "--db", db, "--json").stdout)
    return db, folder, deal_id, payload


def test_value_stores_the_valuation_under_one_id(stored):
    db, folder, deal_id, payload = stored
    assert payload["deal_id"] == deal_id  # same files, same world: same id (the second valuation replaced it)
    with Store(db) as store:
        assert list(list_deals(store)["deal_id"]) == [deal_id]
        assert resolve_deal(store, "latest") == resolve_deal(store, deal_id[:16]) == deal_id
        with pytest.raises(DealNotFoundError, match="critmin deal list"):
            resolve_deal(store, "nope")
        info = deal_info(store, deal_id)
        assert info["deal_yaml"] == (folder / "deal.yaml").read_text(encoding="utf-8")
        assert info["plan_yaml"] == (folder / "plan.yaml").read_text(encoding="utf-8")
        assert (info["before"], info["after"], info["tariff_scope"], info["scenarios"]) == (
            "2025-08-06", "2025-10-01", "sides", 3)  # fmt: skip
        tables = {t: read_deal_table(store, deal_id, t) for t in DEAL_TABLES}
    sides = tables["sides"]
    assert list(sides["side"]) == ["USA", "JPN"]
    # stored as computed
    for row, side in zip(payload["sides"], sides.itertuples(index=False), strict=True):
        assert side.net_musd_per_yr == pytest.approx(row["net_musd_per_yr"], rel=1e-12)
        assert side.break_even_premium_pct == pytest.approx(row["break_even_premium_pct"], rel=1e-12)
    assert len(tables["distribution"]) == len(payload["distribution"])
    scen = tables["scenarios"]
    assert len(scen) == 2 * 3 and set(scen["side"]) == {"USA", "JPN"}
    p = scen[scen.side == "USA"]
    expected = sides.set_index("side").loc["USA", "security_expected_musd_per_yr"]
    assert expected == pytest.approx(p.probability @ p.saved_musd, rel=1e-9)  # one-year plan
    flows = tables["flows"]
    cars = flows[(flows.importer == "USA") & (flows.exporter == "JPN") & (flows.good == "passenger_vehicles")]
    assert (cars.rate_before_pct.iloc[0], cars.rate_after_pct.iloc[0]) == pytest.approx((27.5, 15.0))
    assert ((flows.rate_before_pct != flows.rate_after_pct) | (flows.change_musd.abs() > 0)).all()
    welfare = tables["welfare"].set_index("country")
    np.testing.assert_allclose(welfare.loc[["USA", "JPN"], "total_musd"], sides.tariff_relief_musd_per_yr)


def test_list_and_show(stored):
    db, _, deal_id, _ = stored
    listed = invoke("deal", "list", "--db", db)
    assert deal_id in listed.stdout
    rows = json.loads(invoke("deal", "list", "--db", db, "--json").stdout)
    assert [r["deal_id"] for r in rows] == [deal_id]
    shown = invoke("deal", "show", deal_id[:18], "--db", db)
    assert deal_id in shown.stdout and "break_even_premium_pct" in shown.stdout
    welfare = json.loads(invoke("deal", "show", "latest", "--table", "welfare", "--db", db, "--json").stdout)
    assert welfare["table"] == "welfare" and welfare["deal"]["deal_id"] == deal_id
    assert {"USA", "JPN"} <= {r["country"] for r in welfare["rows"]}
    assert "no deal valuation 'nope'" in invoke("deal", "show", "nope", "--db", db, code=2).output


def test_report_is_reproducible_and_holds_the_sides(stored):
    db, folder, deal_id, _ = stored
    digests = {}
    for suffix in (".html", ".pdf"):
        files = [folder / f"d{i}{suffix}" for i in (1, 2)]
        for f in files:
            invoke("report", "deal", "latest", "--out", f, "--db", db)
        digests[suffix] = {sha256(f) for f in files}
        assert len(digests[suffix]) == 1, suffix
    html = (folder / "d1.html").read_text(encoding="utf-8")
    assert html.count("<svg") >= 2
    assert "<h3>Per side</h3>" in html and "break_even_premium_pct [%]" in html
    for word in ("tariff relief", "break-even premium", "Changed flows", "Welfare per country", "finance terms",
                 deal_id, "2025-08-06 -&gt; 2025-10-01"):  # fmt: skip
        assert word in html, word
    with Store(db) as store:
        created = deal_info(store, deal_id)["created_at"][:19]
    assert created.replace("T", " ") in html  # the record's date, not the clock's
    pdf = folder / "d1.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-")
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "break-even" in text and deal_id in text
