"""Issue 13, risk studies: a small real study of the bundled world (exact engine) is stored with the documented
tables and sane values; running it again returns it, resumes it after a lost chunk (evaluating that chunk
only), and two workers give the same tables as one, to the last bit."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from critmin.errors import NotFoundError, UsageError
from critmin.risk import engines, parse_risk_model
from critmin.risk.chunk import histogram_quantiles, ratio_histogram
from critmin.risk.study import (
    STUDY_TABLES,
    StudyIncompleteError,
    StudyNotFoundError,
    compare_studies,
    default_directory,
    list_studies,
    resolve_study,
    run_study,
    study_info,
    study_key,
    study_table,
)
from critmin.risk.study_files import marker_file, prepare
from critmin.risk.study_store import put_row
from critmin.risk.study_tables import COLUMNS, MAX_LEVELS, USGS_2025_TOP_RISKS
from critmin.store import Store, data_version
from critmin.world.model import World
from test_risk_evaluate import ONE_CONTROL

DRAWS, SEED, CHUNK = 24, 7, 8
PARAMS = {"draws": DRAWS, "seed": SEED, "chunk": CHUNK, "engine": "exact"}


@pytest.fixture(scope="module")
def world():
    return World.bundled()


@pytest.fixture(scope="module")
def model(world):
    return parse_risk_model(ONE_CONTROL, world=world)


def _run(world, model, db, **extra):
    return run_study(world, model, model_text=ONE_CONTROL, store=db, **{"workers": 1, **PARAMS, **extra})


def _tables(db, sid) -> dict[str, pd.DataFrame]:
    with Store(db) as store:
        return {name: study_table(store, sid, name) for name in STUDY_TABLES}


@pytest.fixture(scope="module")
def study(world, model, tmp_path_factory):
    """The study, run once in process: (db path, study id, its tables, progress calls)."""
    db = tmp_path_factory.mktemp("study") / "critmin.duckdb"
    calls = []
    sid = _run(world, model, db, progress=lambda done, total: calls.append((done, total)))
    return db, sid, _tables(db, sid), calls


def test_the_id_is_a_hash_of_what_the_numbers_depend_on(study, world):
    _, sid, _, calls = study
    assert sid == study_key(ONE_CONTROL, data_version(world), sampler="mc", **PARAMS)
    assert study_key(ONE_CONTROL, data_version(world), sampler="lhs", **PARAMS) != sid
    assert calls == [(8, DRAWS), (16, DRAWS), (24, DRAWS)]  # after each chunk, in draws


def test_tables_have_the_documented_columns_and_sane_values(study):
    _, _, tables, _ = study
    for name in STUDY_TABLES:
        assert list(tables[name].columns) == COLUMNS[name], name
        assert len(tables[name]), name

    m = tables["measures"]
    assert set(m["loss"]) == {"shortfall_pct", "shortfall_t"}
    assert (m["draws"] == DRAWS).all() and np.allclose(m["weight"], DRAWS)
    assert m["prob_any_shortfall"].between(0, 1).all()
    assert (m["expected_loss"] >= 0).all()
    assert (m["cvar_95"] >= m["var_95"] - 1e-12).all() and (m["cvar_99"] >= m["var_99"] - 1e-12).all()
    assert (m["var_99"] >= m["var_95"]).all() and (m["cvar_99"] >= m["cvar_95"] - 1e-12).all()
    assert set(m.loc[m["loss"] == "shortfall_pct", "unit"]) == {"% of baseline demand"}
    assert set(m.loc[(m["loss"] == "shortfall_t") & (m["element"] == "Dy"), "unit"]) == {"t REO"}
    jpn_dy = m[(m["region"] == "JPN") & (m["element"] == "Dy") & (m["loss"] == "shortfall_pct")].iloc[0]
    assert jpn_dy["prob_any_shortfall"] > 0, "seed 7 gives no Dy shortfall to Japan: pick another seed"

    r = tables["ranking"]
    jpn = r[r["region"] == "JPN"]
    assert list(jpn["rank"]) == list(range(1, len(jpn) + 1))
    assert jpn["expected_cost"].is_monotonic_decreasing and (jpn["expected_cost"] >= 0).all()
    assert jpn["share"].sum() == pytest.approx(1.0)
    assert set(jpn.loc[jpn["on_reference_list"], "element"]) == set(USGS_2025_TOP_RISKS) & set(jpn["element"])
    assert set(r["unit"]) == {"USD (shortfall valued at the reference price)"}

    f = tables["fan"]
    quantiles = f[["q05", "q25", "q50", "q75", "q95"]].to_numpy()
    assert (np.diff(quantiles, axis=1) >= 0).all() and (quantiles > 0).all()
    assert (f["baseline_price_usd_per_kg"] > 0).all()
    assert {d[-2:] for d in f["date"]} == {"01"} and f["date"].nunique() == 12  # first of each month, one year
    assert set(f.loc[f["element"] == "Dy", "product"]) == {"Dy_oxide"}
    calm = f[f["mean"] == 1.0]  # months where no draw moved the price: every quantile is exactly 1
    assert len(calm) and (calm[["q05", "q25", "q50", "q75", "q95"]] == 1.0).all().all()
    moved = f[(f["region"] == "JPN") & (f["element"] == "Dy")]
    assert moved["q95"].max() > 1.05, "no draw moved Japan's Dy price: pick another seed"

    e = tables["exceedance"]
    assert e["exceedance_prob"].between(0, 1).all()
    for (region, element, loss), cell in e.groupby(["region", "element", "loss"]):
        assert len(cell) <= MAX_LEVELS and cell["exceedance_prob"].is_monotonic_decreasing
        at_zero = m[(m["region"] == region) & (m["element"] == element) & (m["loss"] == loss)]
        assert cell["level"].iloc[0] == 0 and cell["exceedance_prob"].iloc[0] == pytest.approx(
            at_zero["prob_any_shortfall"].iloc[0]
        )
        assert at_zero["prob_any_shortfall"].iloc[0] > 0  # cells with a shortfall only

    d = tables["durations"]
    assert set(d["column"]) == {"tts_days", "ttr_days"} and set(d["unit"]) == {"days"}
    assert d["share_defined"].between(0, 1).all()
    defined = d.dropna(subset=["q50"])
    assert len(defined) and ((defined["min"] <= defined["q50"]) & (defined["q50"] <= defined["max"])).all()


def test_list_info_and_resolve(study):
    db, sid, _, _ = study
    with Store(db) as store:
        studies = list_studies(store)
        assert list(studies.columns) == ["study_id", "name", "model", "draws", "seed", "sampler", "engine",
                                         "workers", "created_at", "wall_s", "status"]  # fmt: skip
        assert studies.set_index("study_id").loc[sid, "status"] == "complete"
        info = study_info(store, sid[:5])
        assert resolve_study(store, "latest") == sid and resolve_study(store, sid[:3]) == sid
        with pytest.raises(StudyNotFoundError) as unknown:
            resolve_study(store, "nope")
        assert isinstance(unknown.value, NotFoundError) and "critmin risk list" in str(unknown.value)
    assert info["model_yaml"] == ONE_CONTROL and info["draws"] == DRAWS and info["status"] == "complete"
    assert info["engine_stats"]["draws"] == DRAWS and info["engine_stats"]["engine"] == "exact"
    assert (info["chunks"], info["chunks_evaluated"], info["chunks_resumed"]) == (3, 3, 0)
    assert info["directory"] == str(default_directory(db, sid).resolve())
    assert isinstance(info["notes"], list) and info["workers"] == 1


def test_a_prefix_of_several_studies_is_ambiguous(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        for sid in ("abc111", "abc222"):
            put_row(store, {"study_id": sid, "status": "complete", "created_at": pd.Timestamp("2026-01-01")})
        with pytest.raises(StudyNotFoundError, match="start of 2 study ids"):
            resolve_study(store, "abc")
        assert resolve_study(store, "abc2") == "abc222"


def test_a_complete_study_is_returned_without_evaluating_anything(study, world, model, monkeypatch):
    db, sid, _, _ = study
    monkeypatch.setattr(engines, "evaluate_chunk", _refuse)
    calls = []
    assert _run(world, model, db, progress=lambda d, t: calls.append(d)) == sid
    assert calls == []


def _refuse(*args, **kwargs):
    raise AssertionError("evaluated a chunk of a complete study")


def test_resume_evaluates_only_the_chunk_whose_marker_is_gone(study, world, model, tmp_path, monkeypatch):
    db, sid, tables, _ = study
    copy = tmp_path / "copy.duckdb"
    shutil.copy(db, copy)
    shutil.copytree(default_directory(db, sid), default_directory(copy, sid))
    with Store(copy) as store:  # as if the study had been stopped before its end
        store.con.execute("UPDATE risk_studies SET status = 'interrupted' WHERE study_id = ?", [sid])
    marker_file(default_directory(copy, sid), 1).unlink()
    evaluated = []
    original = engines.evaluate_chunk

    def counting(world, part, engine):
        evaluated.append(sorted(part.table["draw"].unique()))
        return original(world, part, engine)

    monkeypatch.setattr(engines, "evaluate_chunk", counting)
    calls = []
    assert _run(world, model, copy, progress=lambda d, t: calls.append(d)) == sid
    assert evaluated == [list(range(8, 16))]
    assert calls == [16, 24]  # the resumed draws first, then the chunk
    resumed = _tables(copy, sid)
    for name in STUDY_TABLES:
        pd.testing.assert_frame_equal(resumed[name], tables[name], check_exact=True)
    with Store(copy) as store:
        info = study_info(store, sid)
    assert (info["chunks_resumed"], info["chunks_evaluated"], info["draws_evaluated"]) == (2, 1, 8)


def test_two_workers_give_the_tables_of_one(study, world, model, tmp_path):
    _, sid, tables, _ = study
    other = tmp_path / "two.duckdb"
    assert _run(world, model, other, workers=2) == sid
    spread = _tables(other, sid)
    for name in STUDY_TABLES:
        pd.testing.assert_frame_equal(spread[name], tables[name], check_exact=True)  # identical, not close
    with Store(other) as store:
        assert study_info(store, sid)["workers"] == 2


def test_compare_a_study_with_itself_changes_nothing(study):
    db, sid, tables, _ = study
    with Store(db) as store:
        table = compare_studies(store, sid, sid[:6])
    assert len(table) == len(tables["measures"])
    assert {"region", "element", "loss", "unit", "study_a", "study_b"} <= set(table.columns)
    for measure in ("expected_loss", "cvar_95", "prob_any_shortfall"):
        assert (table[f"{measure}_change"] == 0).all()
        assert table[f"{measure}_a"].equals(table[f"{measure}_b"])


@pytest.mark.parametrize(
    ("extra", "flag"),
    [
        ({"workers": 2, "scheduler": "tcp://127.0.0.1:1"}, "--workers and --scheduler"),
        ({"workers": 0}, "--workers"),
        ({"chunk": 0}, "--chunk"),
        ({"sampler": "grid"}, "--sampler"),
        ({"engine": "quick"}, "--engine"),
        ({"draws": 0}, "--draws"),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_written(world, model, tmp_path, extra, flag):
    db = tmp_path / "bad.duckdb"
    with pytest.raises(UsageError, match=flag):
        run_study(world, model, model_text=ONE_CONTROL, store=db, **{**PARAMS, **extra})
    with Store(db) as store:
        assert list_studies(store).empty


def test_a_failed_study_is_marked_and_has_no_tables(world, model, tmp_path, monkeypatch):
    db = tmp_path / "f.duckdb"
    seen = []

    def broken(*args, **kwargs):
        with Store(db) as store:  # given a path, the study holds no store while it evaluates
            seen.append(list_studies(store)["status"].tolist())
        raise RuntimeError("solver exploded")

    monkeypatch.setattr(engines, "evaluate_chunk", broken)
    with pytest.raises(RuntimeError, match="solver exploded"):
        _run(world, model, db, draws=4, chunk=4)
    with Store(db) as store:
        sid = resolve_study(store, "latest")
        info = study_info(store, sid)
        assert info["status"] == "failed" and "solver exploded" in info["error"]
        assert seen == [["running"]]  # the row is written when the study starts
        with pytest.raises(StudyIncompleteError, match="run the same"):
            study_table(store, sid, "measures")
        with pytest.raises(UsageError, match="--table"):
            study_table(store, sid, "prices")


def test_a_directory_holding_another_study_is_refused(tmp_path):
    prepare(tmp_path, {"study_id": "aaaaaaaaaaaa"})
    prepare(tmp_path, {"study_id": "aaaaaaaaaaaa"})  # the same study: fine
    assert json.loads((tmp_path / "study.json").read_text())["study_id"] == "aaaaaaaaaaaa"
    with pytest.raises(UsageError, match="another study"):
        prepare(tmp_path, {"study_id": "bbbbbbbbbbbb"})


def test_fan_quantiles_read_a_shared_ratio_exactly():
    ratio = np.ones((4, 1, 1, 2))  # draws x region x element x month
    ratio[3, 0, 0, 1] = 2.0
    table = histogram_quantiles(ratio_histogram(ratio, np.ones(4), ["JPN"], ["Dy"]))
    assert table["q50"].tolist() == [1.0, 1.0] and table["q95"].tolist() == [1.0, 2.0]
    assert table["mean"].tolist() == [1.0, 1.25]
