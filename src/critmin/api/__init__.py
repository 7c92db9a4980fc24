"""critmin's Python API: the one door to the system. The CLI and the REST server import only this (and
:mod:`critmin.errors`); ``import critmin`` exposes the same names.

World and exposure::

    world = load_world()                                  # the bundled, sourced 2024 world
    indicators(world, stage="mine", element="REE")        # HHI, top-3 share, shares, import reliance
    exposure(world, region="JPN", element="Dy")           # look-through origin at every upstream stage
    supply_chain(world, "Dy")                             # Sankey links, mine to use

Shocks::

    scenario = load_scenario("scenarios/china-2025-04-licensing.yaml", world)
    clear(world, scenario=scenario)                       # one step with the shocks active on its start
    run, summary, wall_s = run_scenario(world, scenario)  # month by month against the baseline
    run_id, run, summary, wall_s = run_and_store(world, scenario, yaml_text)

Stored runs: ``Store``, ``list_runs``, ``run_summary``, ``run_table``, ``compare_runs``, ``run_tables`` and
``write_export`` (csv, parquet, xlsx, netcdf).

Risk studies (docs/risk.md)::

    model = load_risk_model("risks/china-controls.yaml", world)
    study_id = run_study(world, model, model_text=text, draws=1000, seed=1, store=db_path)  # resumes if re-run
    list_studies(store); study_table(store, study_id, "measures"); compare_studies(store, a, b)
    export_study(store, study_id, Path("study.xlsx"))

Plans (docs/plan.md)::

    plan = load_plan("plans/us-japan-2025.yaml", world)
    run = run_plan(world, plan)                           # every coalition, EVPI, VSS, Shapley split
    plan_id = save_plan_run(store, run, "plans/us-japan-2025.yaml", data_version=data_version(world))
    list_plans(store); read_plan_table(store, plan_id, "portfolio"); export_plan(store, plan_id, Path("out"))

Reports (docs/reports.md)::

    write_report(store, "run", "latest", Path("r.pdf"))   # or .html; kinds run, risk, plan, deal; reproducible

Trade policy (docs/deals.md)::

    world = load_trade_world()                            # the bundled US-Japan 2025 trade world
    run = run_trade(world, "2025-04-01", "2025-10-01")    # GSIM between two dated tariff regimes
    run.flows; run.prices; run.welfare                    # tidy tables, MUSD and %
    solve_gsim(V, T0, T1, E_m, E_s, E_x); smart(M, t0, t1, E_m, E_s)

Deals (docs/deals.md)::

    value = value_deal(world, load_deal("deals/us-japan-2025.yaml"))   # per side: relief, security, cost
    deal_id = save_deal_value(store, value, "deals/us-japan-2025.yaml", data_version(world))
    list_deals(store); read_deal_table(store, deal_id, "sides"); deal_info(store, "latest")

Names are imported on first use, so a command that only needs indicators does not load the market model.
"""

from __future__ import annotations

import importlib

# exported name -> module that defines it
_EXPORTS = {
    # worlds, indicators and exposure
    **dict.fromkeys(
        (
            "OVERVIEW_ELEMENTS",
            "UnknownChoiceError",
            "element_units",
            "exposure",
            "exposure_through",
            "indicators",
            "load_world",
            "overview",
            "supply_chain",
            "through_share",
        ),
        "critmin.api.world",
    ),
    "INDICATORS": "critmin.indicator_units",
    "INDICATOR_UNITS": "critmin.indicator_units",
    **dict.fromkeys(("UnknownComponentError", "cited_rows", "sources_table"), "critmin.api.sources"),
    **dict.fromkeys(("World", "bundled_folder"), "critmin.world.model"),
    **dict.fromkeys(("Problem", "ProblemList", "WorldValidationError"), "critmin.world.problems"),
    **dict.fromkeys(("element_content", "element_flows"), "critmin.world.flows"),
    "balance_report": "critmin.world.balance",
    # importers of trade and production data (issue 16): BACI, Comtrade, USGS to override layers
    **dict.fromkeys(
        (
            "ALLOCATIONS",
            "PRODUCTION_FORMATS",
            "TRADE_FORMATS",
            "ImportFileError",
            "ImportResult",
            "hs_map",
            "import_production",
            "import_trade",
        ),
        "critmin.world.importers",
    ),
    "calibration_report": "critmin.metrics.calibration",
    **dict.fromkeys(("TOLERANCE_PCT", "arc_calibration"), "critmin.market.trade_calibration"),
    **dict.fromkeys(("Attribute", "Component", "component", "components", "render_markdown"), "critmin.schema"),
    # scenarios and the engine
    **dict.fromkeys(
        ("Scenario", "ScenarioError", "describe", "load_scenario", "parse_scenario", "scenario_hash"),
        "critmin.scenario",
    ),
    **dict.fromkeys(
        (
            "AFFECTED_PRICE_RATIO",
            "affected",
            "bundled_scenarios",
            "clear",
            "run_and_store",
            "run_scenario",
        ),
        "critmin.api.engine",
    ),
    **dict.fromkeys(("MarketDataError", "MarketSettings", "StepResult"), "critmin.market"),
    "SolverSettings": "critmin.market.solver_settings",
    "RunResult": "critmin.simulate.loop",
    "plausibility_flags": "critmin.simulate.plausibility",
    "simulate": "critmin.simulate.loop",
    **dict.fromkeys(("DrawResult", "simulate_draws"), "critmin.simulate.draws"),
    **dict.fromkeys(("SolveStopped", "solve_limits"), "critmin.market.limits"),
    **dict.fromkeys(("MemoryCache", "StoreCache"), "critmin.simulate.baseline"),
    # the store and stored runs
    **dict.fromkeys(("Store", "StoreBusyError", "data_version"), "critmin.store"),
    **dict.fromkeys(
        (
            "RESULT_TABLES",
            "TABLE_COLUMNS",
            "RunNotFoundError",
            "compare_runs",
            "ensure_tables",
            "list_runs",
            "resolve_run",
            "run_flags",
            "run_info",
            "run_element_units",
            "run_policies",
            "run_summary",
            "run_table",
            "save_run",
        ),
        "critmin.runs",
    ),
    **dict.fromkeys(("FORMATS", "run_tables", "write_export"), "critmin.run_export"),
    **dict.fromkeys(("cached_indicators", "keep_indicators"), "critmin.indicator_cache"),
    # risk: disruption models and stored studies
    **dict.fromkeys(("RiskModelError", "load_risk_model", "parse_risk_model"), "critmin.risk.load"),
    "RiskModel": "critmin.risk.model",
    "SAMPLERS": "critmin.risk.sample",
    **dict.fromkeys(("MAX_DEFAULT_WORKERS", "default_workers"), "critmin.risk.scale"),
    **dict.fromkeys(
        (
            "DEFAULT_CHUNK",
            "STUDY_ENGINES",
            "STUDY_TABLES",
            "StudyIncompleteError",
            "StudyNotFoundError",
            "compare_studies",
            "default_directory",
            "list_studies",
            "resolve_study",
            "run_study",
            "study_info",
            "study_key",
            "study_table",
        ),
        "critmin.risk.study",
    ),
    **dict.fromkeys(("EXPORT_SUFFIXES", "export_study", "export_targets"), "critmin.risk.study_export"),
    # plans (issue 14): two-stage planning of projects, instruments, stockpiles and recycling, and stored runs
    **dict.fromkeys(("Plan", "PlanError", "load_plan", "parse_plan"), "critmin.plan.load"),
    **dict.fromkeys(("PlanRun", "run_plan"), "critmin.plan.run"),
    **dict.fromkeys(
        (
            "PLAN_TABLES",
            "PlanNotFoundError",
            "compare_plans",
            "export_plan",
            "list_plans",
            "plan_id_of",
            "plan_info",
            "read_plan_table",
            "resolve_plan",
            "save_plan_run",
        ),
        "critmin.plan.store",
    ),
    # deals (issue 15): a tariff regime change plus cooperation measures, valued per side
    **dict.fromkeys(("Deal", "DealError", "load_deal", "parse_deal"), "critmin.deal.load"),
    **dict.fromkeys(("DealValue", "check_measures", "value_deal"), "critmin.deal.value"),
    **dict.fromkeys(
        (
            "DEAL_TABLES",
            "DealNotFoundError",
            "deal_info",
            "list_deals",
            "read_deal_table",
            "resolve_deal",
            "save_deal_value",
        ),
        "critmin.deal.store",
    ),
    # reports (issue 16): reproducible HTML/PDF reports of stored runs, risk studies, plans and deals
    **dict.fromkeys(
        ("REPORT_KINDS", "REPORT_SUFFIXES", "build_report", "render_report", "write_report"), "critmin.report"
    ),
    # trade policy (issue 15): GSIM, WITS-SMART, trade worlds with dated tariff schedules
    **dict.fromkeys(("GsimResult", "solve_gsim"), "critmin.trade.gsim"),
    **dict.fromkeys(("SmartResult", "smart"), "critmin.trade.smart"),
    "TradeWorld": "critmin.trade.data",
    **dict.fromkeys(("TradeWorldError", "bundled_trade_world", "load_trade_world"), "critmin.trade.load"),
    **dict.fromkeys(("TradeRun", "run_trade"), "critmin.trade.run"),
    # vocabularies
    **dict.fromkeys(
        (
            "CONFIDENCE_LEVELS",
            "HOLDERS",
            "INSTRUMENTS",
            "INTAKE_STAGES",
            "ORIGIN_STAGES",
            "PATHS",
            "PROCESSES",
            "STAGES",
            "IntakeStage",
            "OriginStage",
            "RunPath",
            "Stage",
        ),
        "critmin.vocabulary",
    ),
    # errors
    **dict.fromkeys(
        ("ConfigError", "CritminError", "DataError", "NotFoundError", "SolveError", "StoreError"), "critmin.errors"
    ),
    # risk models for the front ends, and the Morris screening of a model's probabilities
    **dict.fromkeys(
        (
            "bundled_risk_models",
            "describe_risk_model",
            "morris_probabilities",
            "screened_probabilities",
            "screening_draws",
        ),
        "critmin.api.risk",
    ),
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'critmin.api' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
