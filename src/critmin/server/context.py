"""What the app holds for its lifetime: the store, the world it serves (loaded once), derived tables cached
per query, the bundled trade world, and the job managers (scenario runs, risk studies, plan runs, deal
valuations)."""

from __future__ import annotations

import contextlib
import tempfile
import threading
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import pandas as pd

from critmin import api
from critmin.api import (
    Scenario,
    Store,
    data_version,
    describe,
    element_content,
    element_flows,
    ensure_tables,
    load_scenario,
)
from critmin.server.config import ServerConfig
from critmin.server.deal_support import bundled_deals, bundled_plans, deal_result
from critmin.server.jobs import DealJob, JobManager, PlanJob, RiskJob

KEEP_SCREENINGS = 32  # sensitivity screenings kept in memory (each holds its draws' outcomes)


class AppContext:
    def __init__(self, config: ServerConfig):
        self.config = config
        # The store is opened per request and per stored run, never held: the CLI and this server share it
        # (DuckDB lets one process at a time open the file; the others wait briefly, see critmin.store).
        if config.world:
            self.world = api.load_world(config.world)
        else:
            with Store(config.db) as store:
                self.world = store.world()
        self.data_version = data_version(self.world)
        self.flows = element_flows(self.world)
        self.content = element_content(self.world)  # product x element, element per unit of product
        self.units = api.element_units(self.world)
        self.regions = self.world.table("region")["id"].tolist()
        self.products = self.world.table("product")["id"].tolist()
        # element ids (aggregates such as REE and NdPr are rows of the element table too)
        self.elements = list(dict.fromkeys([*self.world.table("element")["id"], *sorted(self.flows.element_groups)]))
        self.scenario_files = api.bundled_scenarios()
        self.jobs = JobManager(self._execute, max_pending=config.max_pending_jobs, max_seconds=config.max_run_seconds)
        self.risk_files = api.bundled_risk_models()
        self.risk_jobs = JobManager(
            self._execute_study,
            max_pending=config.max_pending_jobs,
            max_seconds=config.max_risk_seconds,
            kind=RiskJob,
            what="studies",
        )
        self.risk_model = lru_cache(maxsize=16)(self._risk_model)
        self.plan_jobs = JobManager(
            self._execute_plan,
            max_pending=config.max_pending_jobs,
            max_seconds=config.max_plan_seconds,
            kind=PlanJob,
            what="plan runs",
        )
        self.plan_files = bundled_plans()
        self.deal_files = bundled_deals()
        self.deal_jobs = JobManager(
            self._execute_deal,
            max_pending=config.max_pending_jobs,
            max_seconds=config.max_plan_seconds,
            kind=DealJob,
            what="deal valuations",
        )
        self._trade_world = None
        self._trade_lock = threading.Lock()
        self.trade_run = lru_cache(maxsize=64)(self._trade_run)
        # sensitivity screenings of stored studies, by study id: the draws and their outcomes (kept in memory for
        # this server process), and the Morris tables computed from them, by (region, element, trajectories)
        self.screenings: dict[str, dict] = {}
        # The world is fixed for the app's life, so derived tables are cached by their arguments (and their
        # intermediates in self.flows.cache). Indicators are computed under a lock, so that the start-up warm-up
        # (see start) and requests arriving meanwhile compute each table once: they wait, then hit the cache.
        self._indicators_cached = lru_cache(maxsize=256)(self._indicators)
        self._indicators_lock = threading.Lock()
        self.exposure = lru_cache(maxsize=1024)(self._exposure)
        self.sankey = lru_cache(maxsize=64)(self._sankey)
        self.bundled = lru_cache(maxsize=64)(self._bundled)
        self.bundled_summary = lru_cache(maxsize=64)(lambda name: describe(self.bundled(name)[0]))
        self.run_cache: dict[tuple, tuple[bytes, str]] = {}  # encoded run answers; cleared when a run is stored

    def start(self) -> None:
        """Start the job worker (again after ``close``: the app survives more than one lifespan)."""
        with Store(self.config.db) as store:
            ensure_tables(store)
        self.jobs.start()
        self.risk_jobs.start()
        self.plan_jobs.start()
        self.deal_jobs.start()
        threading.Thread(target=self._warm_up, name="critmin-warm-up", daemon=True).start()

    def _warm_up(self) -> None:
        """Compute the full indicator table (and with it the intermediates every filtered query reuses) in the
        background, so the first /api/indicators request finds it ready or waits for it, never recomputes."""
        with contextlib.suppress(Exception):  # a request asking for it reports the error
            self.indicators(None, None, None, None)

    def indicators(self, indicator, stage, element, region) -> pd.DataFrame:
        with self._indicators_lock:
            return self._indicators_cached(indicator, stage, element, region)

    def close(self) -> None:
        self.jobs.shutdown()
        self.risk_jobs.shutdown()
        self.plan_jobs.shutdown()
        self.deal_jobs.shutdown()

    def cursor(self) -> Store:
        """The store, opened for one request or one stored run; the caller closes it."""
        store = Store(self.config.db)
        store.run_tables_ready = True  # made at start
        return store

    def _bundled(self, name: str) -> tuple[Scenario, str]:
        path = self.scenario_files[name]
        return load_scenario(path, self.world), path.read_text(encoding="utf-8")

    def _indicators(self, indicator, stage, element, region) -> pd.DataFrame:
        return api.indicators(
            self.world, indicator=indicator, stage=stage, element=element, region=region, flows=self.flows
        )

    def _exposure(self, region: str, element: str, stage: str) -> pd.DataFrame:
        return api.exposure(self.world, region=region, element=element, stage=stage, flows=self.flows)

    def _sankey(self, element: str, top: int) -> pd.DataFrame:
        return api.supply_chain(self.world, element, top=top, flows=self.flows)

    def _execute(self, scenario: Scenario, yaml_text: str, progress: Callable[[int, int], None]) -> str:
        try:
            return api.run_and_store(self.world, scenario, yaml_text, self.config.db, progress)[0]
        finally:
            self.run_cache.clear()

    def _risk_model(self, name: str) -> tuple[api.RiskModel, str]:
        """A bundled disruption model, validated against the served world, and its YAML text."""
        path = self.risk_files[name]
        text = path.read_text(encoding="utf-8")
        return api.parse_risk_model(text, str(path.name), self.world), text

    def _execute_study(self, model, request: dict, progress: Callable[[int, int], None]) -> str:
        """Run and store a risk study (``request``: the model's YAML text and the study's settings), or with
        ``kind`` "sensitivity" evaluate the draws of a screening of a stored study's model."""
        request = dict(request)
        if request.pop("kind", "study") == "sensitivity":
            study_id = request.pop("study_id")
            started = time.monotonic()
            sampled, outcomes = api.screening_draws(self.world, model, progress=progress, **request)
            while len(self.screenings) >= KEEP_SCREENINGS:  # the oldest go first (dicts keep insertion order)
                self.screenings.pop(next(iter(self.screenings)))
            self.screenings.pop(study_id, None)
            self.screenings[study_id] = {
                "model": model, "sampled": sampled, "outcomes": outcomes, "tables": {},
                "settings": {**request, "wall_s": round(time.monotonic() - started, 3)},
            }  # fmt: skip
            return study_id
        # the store's path, not an open store: a study opens it only at its start and end, so requests and the CLI
        # use it meanwhile
        return api.run_study(self.world, model, store=self.config.db, progress=progress, **request)

    def _execute_plan(self, plan, request: dict, progress: Callable[..., None]) -> str:
        """Run and store a posted plan (``plan``: validated, its risk model a bundled file; ``request``: the plan's
        YAML text and ``rerun``) and return its plan id. A plan already stored (same text, disruption model and
        data version) is not run again unless ``rerun``. The text is written to a temporary file for the run's
        record (``plan_file``; ``plan_yaml`` keeps the text)."""
        with tempfile.TemporaryDirectory(prefix="critmin-plan-") as folder:
            path = Path(folder) / f"{plan.name}.yaml"
            path.write_text(request["plan_text"], encoding="utf-8")
            plan_id = api.plan_id_of(path, plan, self.data_version)
            if not request.get("rerun"):
                with Store(self.config.db) as store, contextlib.suppress(api.PlanNotFoundError):
                    if api.resolve_plan(store, plan_id) == plan_id:
                        progress("stored", 1, 1)
                        return plan_id
            run = api.run_plan(self.world, plan, progress)
            progress("storing", 1, 1)  # the last check for a cancel: once stored, the job is done
            # the store is opened only to save, so requests and the CLI use it while the plan runs
            with Store(self.config.db) as store:
                return api.save_plan_run(store, run, path, data_version=self.data_version)

    def trade_world(self):
        """The bundled trade world (loaded once, on first use)."""
        with self._trade_lock:
            if self._trade_world is None:
                self._trade_world = api.load_trade_world()
            return self._trade_world

    def _trade_run(self, before, after, between: tuple[str, ...] | None):
        """GSIM on the bundled trade world from the regime on ``before`` to the one on ``after`` (cached)."""
        return api.run_trade(self.trade_world(), before, after, list(between) if between else None)

    def _execute_deal(self, deal, request: dict, progress: Callable[..., None]) -> dict:
        """Value a posted deal (``deal``: validated, its plan a bundled file or, with ``request["plan_text"]``, a
        posted plan whose risk model was set to the bundled file) and return its result as JSON."""
        with tempfile.TemporaryDirectory(prefix="critmin-deal-") as folder:
            if request.get("plan_text") is not None:
                path = Path(folder) / "plan.yaml"
                path.write_text(request["plan_text"], encoding="utf-8")
                deal = deal.model_copy(update={"plan": str(path)})
            return deal_result(api.value_deal(self.world, deal, progress))

    def morris(self, study_id: str, region: str, element: str, trajectories: int = 10) -> pd.DataFrame | None:
        """The Morris table of a screened study for one region and element (None when it was not screened)."""
        screening = self.screenings.get(study_id)
        if screening is None:
            return None
        key = (region, element, trajectories)
        if key not in screening["tables"]:
            screening["tables"][key] = api.morris_probabilities(
                screening["model"], screening["sampled"], screening["outcomes"], region=region, element=element,
                trajectories=trajectories, seed=screening["settings"].get("seed", 0),
            )  # fmt: skip
        return screening["tables"][key]
