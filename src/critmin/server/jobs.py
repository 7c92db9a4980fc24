"""Work submitted over HTTP: a bounded queue, one worker thread, progress, cancel and a time limit.

Three kinds of job share the machinery: scenario runs (:class:`Job`, progress in months; finished runs are
stored like `critmin run` stores them and the job keeps the run id), risk studies (:class:`RiskJob`, progress in
draws; the job keeps the study id) and plan runs (:class:`PlanJob`, progress by phase; the job keeps the plan
id) and deal valuations (:class:`DealJob`, progress by phase; the job keeps the result itself, as JSON, for the
life of the server process). Each kind has its own :class:`JobManager`, so its JSON fields stay its own."""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from critmin.api import Scenario, SolveStopped, solve_limits
from critmin.errors import ConfigError

FINAL = ("done", "failed", "cancelled")
KEEP_FINISHED = 200


class QueueFullError(ConfigError, RuntimeError):
    pass


@dataclass
class Job:
    job_id: str
    scenario: str
    status: str = "queued"  # queued, running, done, failed, cancelled
    done_steps: int = 0
    total_steps: int | None = None
    run_id: str | None = None
    error: str | None = None
    submitted_at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    started_at: str | None = None
    finished_at: str | None = None
    wall_s: float | None = None
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)

    @classmethod
    def create(cls, job_id: str, scenario: Scenario, _payload) -> Job:
        return cls(job_id=job_id, scenario=scenario.name)

    def public(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def set_progress(self, done: int, total: int) -> None:
        self.done_steps, self.total_steps = done, total

    def set_result(self, run_id: str) -> None:
        self.run_id = run_id


@dataclass
class RiskJob:
    """A risk study (``kind`` "study": ``study_id`` once stored) or a sensitivity screening of a stored study's
    model ("sensitivity": ``study_id`` the study it screens); ``model`` the disruption model's name, progress in
    draws."""

    job_id: str
    kind: str
    model: str
    status: str = "queued"  # queued, running, done, failed, cancelled
    done_draws: int = 0
    total_draws: int | None = None
    study_id: str | None = None
    error: str | None = None
    submitted_at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    started_at: str | None = None
    finished_at: str | None = None
    wall_s: float | None = None
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)

    @classmethod
    def create(cls, job_id: str, model, payload: dict) -> RiskJob:
        kind = payload.get("kind", "study")
        return cls(job_id=job_id, kind=kind, model=model.name, total_draws=payload.get("draws"),
                   study_id=payload.get("study_id"))  # fmt: skip

    public = Job.public

    def set_progress(self, done: int, total: int) -> None:
        self.done_draws, self.total_draws = done, total

    def set_result(self, study_id: str) -> None:
        self.study_id = study_id or self.study_id


@dataclass
class PlanJob:
    """A plan run (``plan`` the plan's name): progress by phase (``phase``: scenarios sampled, coalitions
    solved, measures, options evaluated, frontier; ``done_items`` of ``total_items`` in it), ``plan_id`` once
    stored (or found already stored)."""

    job_id: str
    plan: str
    status: str = "queued"  # queued, running, done, failed, cancelled
    phase: str | None = None
    done_items: int = 0
    total_items: int | None = None
    plan_id: str | None = None
    error: str | None = None
    submitted_at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    started_at: str | None = None
    finished_at: str | None = None
    wall_s: float | None = None
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)

    @classmethod
    def create(cls, job_id: str, plan, _payload) -> PlanJob:
        return cls(job_id=job_id, plan=plan.name)

    public = Job.public

    def set_progress(self, phase: str, done: int, total: int) -> None:
        """``run_plan``'s ``progress(what, done, total)``."""
        self.phase, self.done_items, self.total_items = phase, done, total

    def set_result(self, plan_id: str) -> None:
        self.plan_id = plan_id


@dataclass
class DealJob:
    """A deal valuation (``deal`` the deal's name): progress by phase as a plan job's (``phase``: scenarios
    sampled, then ``deal``: scenarios valued; ``done_items`` of ``total_items`` in it), and once done the
    ``result`` itself (JSON: sides, distribution, scenarios, the trade welfare and the flows that changed): deal
    results are kept in the job, not stored."""

    job_id: str
    deal: str
    status: str = "queued"  # queued, running, done, failed, cancelled
    phase: str | None = None
    done_items: int = 0
    total_items: int | None = None
    result: dict | None = None
    error: str | None = None
    submitted_at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    started_at: str | None = None
    finished_at: str | None = None
    wall_s: float | None = None
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)

    @classmethod
    def create(cls, job_id: str, deal, _payload) -> DealJob:
        return cls(job_id=job_id, deal=deal.name)

    public = Job.public
    set_progress = PlanJob.set_progress

    def set_result(self, result: dict) -> None:
        self.result = result


class JobManager:
    def __init__(self, execute, *, max_pending: int, max_seconds: float, kind: type = Job, what: str = "runs"):
        """``execute(subject, payload, progress)`` does the work and returns what the job keeps (for scenario
        runs: runs and stores a scenario, returns the run id); ``progress(done, total)`` (for plan runs
        ``progress(what, done, total)``, passed on to the job's ``set_progress``) raises SolveStopped when the job
        is cancelled or over time, and the solves inside stop at the same deadline and cancel
        (:mod:`critmin.market.limits`). ``kind`` makes the job records (:class:`Job`, :class:`RiskJob`,
        :class:`PlanJob`); ``what`` names the work in messages."""
        self._execute, self.max_pending, self.max_seconds = execute, max_pending, max_seconds
        self._kind, self._what = kind, what
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self.start()

    def start(self) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"critmin-{self._what}")

    def submit(self, subject, payload) -> Job:
        """Queue ``execute(subject, payload, progress)``: for runs a Scenario and its YAML text."""
        with self._lock:
            pending = sum(j.status in ("queued", "running") for j in self._jobs.values())
            if pending >= self.max_pending:
                what, limit = self._what, self.max_pending
                raise QueueFullError(f"{pending} {what} are already queued or running (limit {limit})")
            job = self._kind.create(uuid.uuid4().hex[:12], subject, payload)
            self._jobs[job.job_id] = job
            self._forget_old()
        self.start()
        self._pool.submit(self._work, job, subject, payload)
        return job

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def all(self) -> list[Job]:
        return list(self._jobs.values())

    def cancel(self, job_id: str) -> Job | None:
        job = self._jobs.get(job_id)
        if job is not None and job.status not in FINAL:
            job._cancel.set()
            if job.status == "queued":
                self._finish(job, "cancelled", "cancelled before it started")
        return job

    def shutdown(self) -> None:
        """Stop: cancel what is queued or running and wait for the worker."""
        for job in self._jobs.values():
            if job.status not in FINAL:
                job._cancel.set()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        for job in self._jobs.values():
            if job.status == "queued":
                self._finish(job, "cancelled", "the server stopped before it started")

    def _work(self, job: Job, subject, payload) -> None:
        if job._cancel.is_set():
            return
        job.status, job.started_at = "running", dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        started = time.monotonic()
        deadline = started + self.max_seconds
        over_time = f"stopped: over the {self.max_seconds:g} s run-time limit"
        with solve_limits(deadline, job._cancel, over_time) as limits:

            def progress(*args) -> None:  # (done, total); a plan run's (what, done, total)
                job.set_progress(*args)
                limits.seconds_left()  # raises SolveStopped once cancelled or past the deadline

            try:
                job.set_result(self._execute(subject, payload, progress))
            except SolveStopped as stop:
                self._finish(job, "cancelled" if stop.reason == "cancelled" else "failed", stop.reason, started)
                return
            except Exception as exc:  # a failed run is reported on the job, not raised into the worker
                self._finish(job, "failed", f"{type(exc).__name__}: {exc}", started)
                return
        self._finish(job, "done", None, started)

    def _finish(self, job: Job, status: str, error: str | None, started: float | None = None) -> None:
        job.status, job.error = status, error
        job.finished_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        if started is not None:
            job.wall_s = round(time.monotonic() - started, 3)

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if j.status in FINAL]
        for job in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self._jobs[job.job_id]
