"""Fast enough to explore: the quick commands do not load the heavy libraries, and indicators computed once per
world are the same as computed afresh.

Import checks run in a fresh interpreter (a subprocess), since this test process has long since loaded pandas.
They are behavioural (which modules were imported), never timings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import critmin

HEAVY = ("pandas", "xarray", "linopy")
SRC = Path(critmin.__file__).resolve().parents[1]  # the critmin under test, first on the child's path


def python(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return result


def loaded_after(code: str) -> dict:
    """Run ``code`` in a fresh interpreter and return what it left: {"heavy": [...], "out": str}."""
    script = f"""
import contextlib, io, json, sys
out = io.StringIO()
with contextlib.redirect_stdout(out):
{_indent(code)}
heavy = sorted({{m.split(".")[0] for m in sys.modules}} & {set(HEAVY)!r})
print(json.dumps({{"heavy": heavy, "out": out.getvalue()}}))
"""
    return json.loads(python("-c", script).stdout.splitlines()[-1])


def _indent(code: str) -> str:
    return "\n".join("    " + line for line in code.strip().splitlines())


def invoke(*args: str) -> str:
    """Code that runs the critmin app as the console script does, swallowing its normal exit."""
    return f"""
from critmin.cli.main import app
try:
    app({list(args)!r}, prog_name="critmin")
except SystemExit as exc:
    assert exc.code in (0, None), exc.code
"""


def test_version_loads_no_heavy_library():
    result = loaded_after(invoke("--version"))
    assert result["heavy"] == []
    assert result["out"].strip() == f"critmin {critmin.__version__}"


@pytest.mark.parametrize(
    "args", [[], ["data"], ["world"], ["scenario"], ["runs"], ["indicators"], ["exposure"], ["serve"], ["run"]]
)
def test_help_loads_no_heavy_library(args):
    result = loaded_after(invoke(*args, "--help"))
    assert result["heavy"] == [], args
    assert "Usage" in result["out"]


def test_help_lists_every_command_with_its_help():
    from critmin.cli.main import app

    out = loaded_after(invoke("--help"))["out"]
    names = [c.name or c.callback.__name__ for c in app.registered_commands]
    names += [g.name for g in app.registered_groups]
    assert {"indicators", "exposure", "overview", "clear", "validate", "run", "serve"} <= set(names)
    assert {"data", "world", "scenario", "runs"} <= set(names)
    lines = out.splitlines()
    for name in names:
        row = [line for line in lines if line.strip(" │|").split(" ")[:1] == [name]]
        assert row, f"{name} missing from critmin --help"
        assert len(row[0].strip(" │|").split()) > 1, f"{name} has no help text in critmin --help"


def test_module_entry_point_imports_no_heavy_library():
    """``python -m critmin.cli.main --version``, traced with -X importtime (every module imported, in order)."""
    trace = python("-X", "importtime", "-m", "critmin.cli.main", "--version").stderr
    imported = {line.split("|")[-1].strip().split(".")[0] for line in trace.splitlines() if "|" in line}
    assert "typer" in imported  # the trace is real
    assert imported.isdisjoint(HEAVY), imported & set(HEAVY)


def test_import_critmin_is_lazy_and_names_still_work():
    code = """
import critmin
lazy = sorted({m.split(".")[0] for m in sys.modules} & {"pandas", "xarray", "linopy"})
print(json.dumps(lazy))
import critmin.api, critmin.world, critmin.world.model
assert critmin.exposure is critmin.api.exposure and critmin.indicators is critmin.api.indicators
assert critmin.load_world is critmin.api.load_world and critmin.overview is critmin.api.overview
assert critmin.World is critmin.world.model.World is critmin.world.World
assert critmin.WorldValidationError is critmin.world.problems.WorldValidationError
for name in critmin.__all__:
    getattr(critmin, name)
assert set(critmin.__all__) <= set(dir(critmin))
from critmin import World, exposure, metrics, schema
assert metrics.INDICATOR_UNITS and schema.STAGES
"""
    out = loaded_after(code)["out"]
    assert json.loads(out.splitlines()[0]) == []


def test_submodules_loaded_before_stay_reachable_as_attributes():
    code = """
import critmin
assert critmin.api.INDICATORS == tuple(critmin.metrics.INDICATOR_UNITS)
assert "mine" in critmin.schema.STAGES
assert critmin.world.World.bundled
"""
    loaded_after(code)
    with pytest.raises(AttributeError):
        critmin.no_such_name  # noqa: B018


# --- indicators: cached per world, same values as computed afresh -------------------------------------------


def _reference_supply_risk(flows, wgi, eol_rir_pct, substitution, regions, elements, stages):
    """The supply-risk loop as it was before its intermediates were cached: one look-through table per region x
    element, filtered with pandas. The values must agree to the last bit."""
    import numpy as np

    from critmin import metrics as ind

    shares = ind.production_shares(flows)
    records = []
    for element in elements:
        members = flows.element_groups.get(element, [element])
        if any(m not in eol_rir_pct for m in members):
            continue
        weights = flows.production[flows.production["element"].isin(members)].groupby("element")["quantity"].sum()
        eol = float(sum(eol_rir_pct[m] * weights.get(m, 0.0) for m in members) / max(weights.sum(), 1e-12)) / 100.0
        si = float(np.mean([substitution.get(m, 1.0) for m in members]))
        for region in regions:
            origins = ind.look_through_origin(flows, region, element)
            if origins.empty:
                continue
            for stage in stages:
                rows = shares[(shares["stage"] == stage) & (shares["element"] == element)]
                glob = rows.set_index("region")["share"].to_dict()
                src = origins[origins["origin_stage"] == stage].set_index("origin_region")["share"]
                if not glob or src.empty or any(r not in wgi for r in [*glob, *src.index]):
                    continue
                src = src / src.sum()
                ir = 1.0 - float(src.get(region, 0.0))
                records.append((stage, element, region, ind.eu_supply_risk(glob, src.to_dict(), wgi, ir, eol, si)))
    return records


def test_supply_risk_matches_the_uncached_computation(bundled):
    from critmin import metrics as ind
    from critmin.world.flows import element_flows

    params = bundled.table("element_parameter")
    by = {p: dict(zip(g["element"], g["value"], strict=True)) for p, g in params.groupby("parameter")}
    wgi_rows = bundled.table("region_parameter").query("parameter == 'wgi_mean'")
    wgi = dict(zip(wgi_rows["region"], wgi_rows["value"], strict=True))
    args = (
        wgi,
        by["eol_rir_pct"],
        by.get("substitution_index", {}),
        ["JPN", "USA", "EU", "CHN", "KOR"],
        ["Dy", "Tb", "Nd", "NdPr", "REE", "Ga", "graphite"],
        ("mine", "separation"),
    )
    table = ind.supply_risk(element_flows(bundled), *args)
    got = list(zip(table["stage"], table["element"], table["region"], table["value"], strict=True))
    want = _reference_supply_risk(element_flows(bundled), *args)
    assert len(want) > 20
    assert got == want  # exact: same arithmetic in the same order


def test_cached_intermediates_match_a_groupby_per_stage_and_element(bundled):
    import numpy as np
    import pandas as pd

    from critmin import metrics as ind
    from critmin.metrics import lookthrough
    from critmin.world.flows import element_flows

    flows = element_flows(bundled)
    regions = flows.regions
    keys = set(map(tuple, flows.production[["stage", "element"]].to_numpy())) | set(
        map(tuple, flows.trade[["stage", "element"]].to_numpy())
    )
    for stage, element in sorted(keys):
        prod = flows.production[(flows.production["stage"] == stage) & (flows.production["element"] == element)]
        total = prod.groupby("region")["quantity"].sum()
        primary = prod[prod["route"] == "primary"].groupby("region")["quantity"].sum()
        fraction = (primary.reindex(total.index, fill_value=0.0) / total.where(total > 0)).fillna(1.0)
        primary_vector = lookthrough._primary_vector(flows, stage, element)
        assert np.array_equal(primary_vector, fraction.reindex(regions, fill_value=1.0))
        mix = ind.supply_mix(flows, stage, element).reindex(index=regions, columns=regions).fillna(0.0)
        assert np.array_equal(lookthrough._mix_matrix(flows, stage, element), mix.to_numpy())
        assert not lookthrough._mix_matrix(flows, stage, element).flags.writeable  # shared: read-only
    use = flows.use
    for (region, element), (by_stage, quantity) in lookthrough._use_by_stage(flows).items():
        rows = use[(use["region"] == region) & (use["element"] == element)].groupby("stage")["quantity"].sum()
        assert by_stage == list(rows.items()) and quantity == float(rows.sum())
    assert isinstance(ind.supply_mix(flows, "mine", "Dy"), pd.DataFrame)


def test_indicators_are_the_same_computed_twice_and_filtered(bundled):
    from critmin.world.flows import element_flows

    flows = element_flows(bundled)
    first = critmin.indicators(bundled, flows=flows)
    again = critmin.indicators(bundled, flows=flows)  # from the flows' cache
    fresh = critmin.indicators(bundled)
    assert first.equals(again) and first.equals(fresh)
    japan = critmin.indicators(bundled, indicator="eu_supply_risk", region="JPN", flows=flows)
    full = first[(first["indicator"] == "eu_supply_risk") & (first["region"] == "JPN")].reset_index(drop=True)
    assert japan.equals(full)


# --- the server: the full indicator table is computed once, at start-up or by the first request ---------------


def test_server_computes_the_full_indicator_table_once(db, monkeypatch, bundled):
    import threading

    from fastapi.testclient import TestClient

    from critmin import api
    from critmin.server import ServerConfig, create_app

    calls = []
    real = api.indicators

    def counting(world, **kwargs):
        calls.append({k: v for k, v in kwargs.items() if k != "flows"})
        return real(world, **kwargs)

    monkeypatch.setattr(api, "indicators", counting)
    with TestClient(create_app(ServerConfig(db=db))) as client:
        # straight after start-up, while the warm-up is (most likely) still computing: the request waits for it
        response = client.get("/api/indicators")
        for thread in threading.enumerate():
            if thread.name == "critmin-warm-up":
                thread.join(timeout=120)
        again = client.get("/api/indicators")
        dy = client.get("/api/indicators", params={"element": "Dy"})
    full = {"indicator": None, "stage": None, "element": None, "region": None}
    assert calls.count(full) == 1, calls
    assert response.status_code == again.status_code == dy.status_code == 200
    assert response.json() == again.json()
    want = real(bundled)
    records = response.json()["records"]
    assert response.json()["total"] == len(want) == len(records)
    keys = ["indicator", "stage", "element", "region"]
    assert [tuple(r[k] for k in keys) for r in records] == list(zip(*(want[k] for k in keys), strict=True))
    # values as the API writes them (DataFrame.to_json rounds to 10 decimal places)
    assert [r["value"] for r in records] == pytest.approx(want["value"].tolist(), rel=1e-9, abs=1e-10)
    assert {r["element"] for r in dy.json()["records"]} == {"Dy"}
