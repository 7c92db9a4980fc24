"""Scenario runs submitted over HTTP: a bounded queue, one worker thread, progress, cancel and a time limit.
Finished runs are stored like `critmin run` stores them; the job keeps the run id."""

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

    def public(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}


class JobManager:
    def __init__(self, execute, *, max_pending: int, max_seconds: float):
        """``execute(scenario, yaml_text, progress)`` runs and stores a scenario and returns the run id;
        ``progress(done, total)`` raises SolveStopped when the job is cancelled or over time, and the solves
        inside stop at the same deadline and cancel (:mod:`critmin.market.limits`)."""
        self._execute, self.max_pending, self.max_seconds = execute, max_pending, max_seconds
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self.start()

    def start(self) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="critmin-run")

    def submit(self, scenario: Scenario, yaml_text: str) -> Job:
        with self._lock:
            pending = sum(j.status in ("queued", "running") for j in self._jobs.values())
            if pending >= self.max_pending:
                raise QueueFullError(f"{pending} runs are already queued or running (limit {self.max_pending})")
            job = Job(job_id=uuid.uuid4().hex[:12], scenario=scenario.name)
            self._jobs[job.job_id] = job
            self._forget_old()
        self.start()
        self._pool.submit(self._work, job, scenario, yaml_text)
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

    def _work(self, job: Job, scenario: Scenario, yaml_text: str) -> None:
        if job._cancel.is_set():
            return
        job.status, job.started_at = "running", dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        started = time.monotonic()
        deadline = started + self.max_seconds
        over_time = f"stopped: over the {self.max_seconds:g} s run-time limit"
        with solve_limits(deadline, job._cancel, over_time) as limits:

            def progress(done: int, total: int) -> None:
                job.done_steps, job.total_steps = done, total
                limits.seconds_left()  # raises SolveStopped once cancelled or past the deadline

            try:
                job.run_id = self._execute(scenario, yaml_text, progress)
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
