"""Loopback load test of critmin's read endpoints: `python benchmarks/load.py [--record]` (or `make load`).

Why: the dashboard and API clients hit the same few read routes over and over, and each request re-serialises a
(cached) pandas table to JSON. This measures how many such requests per second one `critmin serve` process
answers, and at what latency, against the target of >= 200 requests/s with p99 < 100 ms per read endpoint.

By default it starts its own server (`critmin serve` on 127.0.0.1, a free port, a temporary DuckDB store, access
log off), stores one short bundled run through the API so the run endpoints have something to read, warms every
endpoint, then sends a bounded number of GETs per endpoint from a pool of concurrent keep-alive connections, and
stops the server at the end (also on error or Ctrl-C). With --url it measures a server that is already running,
loopback only, and writes nothing to it. The load is bounded three ways: --requests per endpoint, --concurrency,
and --max-seconds for the whole measurement.

Client and server share the same machine (and its cores), so the figures are a floor on what the server alone
would do: the asyncio httpx client takes CPU time the server would otherwise have.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
TARGET_RPS = 200.0
TARGET_P99_MS = 100.0
FLOW_PRODUCT = "Dy_oxide"  # a separation-stage product of the bundled world with trade flows
SEED_SCENARIO = "baseline-2024"  # the shortest bundled scenario (36 months, no shocks)

# The read endpoints measured, in order. The run summary is added only when the server holds a run.
ENDPOINTS = [
    "/api/health",
    "/api/world/regions",
    "/api/world/capacities?region=CHN",
    f"/api/world/flows?product={FLOW_PRODUCT}",
    "/api/indicators?element=Dy",
    "/api/exposure?region=JPN&element=Dy",
    "/api/supply-chain/Dy",
    "/api/scenarios",
    "/api/runs",
]
RUN_SUMMARY = "/api/runs/latest/summary"


@dataclass
class Result:
    path: str
    latencies_ms: list[float] = field(default_factory=list)  # every completed request, errors included
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    body_kib: float = 0.0  # size of one warm-up response
    rows: int | None = None  # `total` of one warm-up response, where it is a page of records
    truncated: bool = False  # stopped by the time budget before --requests were sent

    @property
    def requests(self) -> int:
        return len(self.latencies_ms)

    @property
    def rps(self) -> float:
        return self.requests / self.wall_s if self.wall_s > 0 else 0.0

    def meets_target(self) -> bool:
        return (
            self.errors == 0
            and self.requests > 0
            and self.rps >= TARGET_RPS
            and percentile(self.latencies_ms, 99) < TARGET_P99_MS
        )


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (no interpolation), NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil(n * p / 100)
    return ordered[int(rank) - 1]


# ----------------------------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_command() -> list[str]:
    """`critmin serve` from the same environment as this interpreter: the entry point next to it, else -m."""
    entry = Path(sys.executable).with_name("critmin")
    return [str(entry)] if entry.exists() else [sys.executable, "-m", "critmin.cli.main"]


class OwnServer:
    """`critmin serve` in a subprocess on a free loopback port with a throwaway store; stopped on exit."""

    def __init__(self, startup_timeout: float):
        self.startup_timeout = startup_timeout
        self.tmp = tempfile.TemporaryDirectory(prefix="critmin-load-")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(self.tmp.name) / "server.log"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> OwnServer:
        db = Path(self.tmp.name) / "critmin.duckdb"
        cmd = [*serve_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port), "--db", str(db)]
        env = {**os.environ, "CRITMIN_ACCESS_LOG": "0"}  # one log line per request would dominate the server
        env.pop("CRITMIN_TOKEN", None)  # loopback and throwaway: no token
        self.log = open(self.log_path, "wb")  # closed in __exit__
        # Own session, so a Ctrl-C in the terminal reaches only this script, which then stops the server itself.
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:
            self._wait_healthy()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"critmin serve exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"critmin serve not healthy after {self.startup_timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        self.log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # uvicorn shuts down cleanly on SIGTERM
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        self.tmp.cleanup()


def seed_run(client: httpx.Client, scenario: str, timeout: float) -> str:
    """Run a bundled scenario through POST /api/jobs and wait for it; returns the stored run's id."""
    response = client.post("/api/jobs", json={"scenario": scenario})
    response.raise_for_status()
    job_id = response.json()["job_id"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").raise_for_status().json()
        if job["status"] == "done":
            return job["run_id"]
        if job["status"] in ("failed", "cancelled"):
            raise RuntimeError(f"seed run of {scenario} {job['status']}: {job['error']}")
        time.sleep(0.5)
    raise RuntimeError(f"seed run of {scenario} not done after {timeout:.0f} s")


def check_loopback(url: str) -> str:
    """The URL without a trailing slash, or ValueError when it is not http(s) on a loopback host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"--url must look like http://127.0.0.1:PORT, got {url!r}")
    if parts.hostname not in LOOPBACK_HOSTS:
        raise ValueError(
            f"refusing to load-test {parts.hostname!r}: only loopback hosts ({', '.join(LOOPBACK_HOSTS)}) are allowed"
        )
    return url.rstrip("/")


# ------------------------------------------------------------------------------------------------- the load


async def warm(client: httpx.AsyncClient, result: Result, times: int = 3) -> None:
    """A few sequential requests, so first-request work (cached derived tables) is not measured."""
    for _ in range(times):
        response = await client.get(result.path)
        if not response.is_success:
            result.error_samples.append(f"warm-up: HTTP {response.status_code} {response.text[:200]}")
            return
    result.body_kib = len(response.content) / 1024
    try:
        body = response.json()
        result.rows = body.get("total") if isinstance(body, dict) else len(body)
    except ValueError:
        pass


async def hammer(client: httpx.AsyncClient, result: Result, requests: int, concurrency: int, seconds: float):
    """Send `requests` GETs from `concurrency` workers, each on its own keep-alive connection, within `seconds`."""
    issued = 0
    deadline = time.perf_counter() + seconds

    async def worker():
        nonlocal issued
        while issued < requests:
            if time.perf_counter() >= deadline:
                result.truncated = True
                return
            issued += 1  # no await between the check and the increment, so never more than `requests`
            start = time.perf_counter()
            try:
                response = await client.get(result.path)
                failed = None if response.is_success else f"HTTP {response.status_code} {response.text[:200]}"
            except httpx.HTTPError as exc:
                failed = f"{type(exc).__name__}: {exc}"
            result.latencies_ms.append((time.perf_counter() - start) * 1000)
            if failed:
                result.errors += 1
                if len(result.error_samples) < 3:
                    result.error_samples.append(failed)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.wall_s = time.perf_counter() - start


async def measure(base_url: str, paths: list[str], args, headers: dict[str, str]) -> list[Result]:
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30.0, headers=headers) as client:
        results = [Result(path) for path in paths]
        for result in results:
            await warm(client, result)
        started = time.perf_counter()
        for index, result in enumerate(results):
            # An equal share of the remaining time budget for each endpoint still to go.
            left = args.max_seconds - (time.perf_counter() - started)
            budget = max(0.0, left / (len(results) - index))
            print(f"  {result.path} ...", end="", flush=True, file=sys.stderr)
            await hammer(client, result, args.requests, args.concurrency, budget)
            print(f" {result.rps:.0f} req/s", file=sys.stderr)
        return results


# ----------------------------------------------------------------------------------------------- reporting


def cpu_snapshot(server_pid: int | None) -> dict[str, float] | None:
    """CPU seconds so far: the machine's busy time (all cores), this client's and the server's (Linux only)."""
    try:
        tick = os.sysconf("SC_CLK_TCK")
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        user, nice, system, _idle, _iowait, irq, softirq, steal = fields
        server = 0.0
        if server_pid is not None:
            stat = Path(f"/proc/{server_pid}/stat").read_text().rsplit(")", 1)[1].split()
            server = (int(stat[11]) + int(stat[12])) / tick  # utime, stime
    except (OSError, ValueError, IndexError):
        return None
    own = os.times()
    busy = (user + nice + system + irq + softirq + steal) / tick
    return {"busy": busy, "client": own.user + own.system, "server": server, "time": time.monotonic()}


def cpu_split(before, after, own: bool) -> tuple[str, float]:
    """Where the machine's CPU went during the measurement, as % of one core, and the share of processes other
    than this client and its server (which skew the figures)."""
    if before is None or after is None:
        return "CPU use not measured", 0.0
    wall = after["time"] - before["time"]
    share = {k: 100 * (after[k] - before[k]) / wall for k in ("busy", "client", "server")}
    capacity = 100 * (os.cpu_count() or 1)
    if own:
        other = max(0.0, share["busy"] - share["client"] - share["server"])
        text = f"client {share['client']:.0f}, server {share['server']:.0f}, other processes {other:.0f}"
        return f"CPU during the measurement, % of one core (of {capacity:.0f}): {text}", other
    other = max(0.0, share["busy"] - share["client"])
    text = f"client {share['client']:.0f}, server and other processes {other:.0f}"
    return f"CPU during the measurement, % of one core (of {capacity:.0f}): {text}", 0.0


def table_rows(results: list[Result]) -> tuple[list[str], list[list[str]]]:
    header = ["endpoint", "requests", "errors", "req/s", "p50 ms", "p99 ms", "KiB", "rows", "target"]
    rows = []
    for r in results:
        rows.append(
            [
                r.path,
                f"{r.requests}{'*' if r.truncated else ''}",
                str(r.errors),
                f"{r.rps:.0f}",
                f"{percentile(r.latencies_ms, 50):.1f}",
                f"{percentile(r.latencies_ms, 99):.1f}",
                f"{r.body_kib:.1f}",
                "" if r.rows is None else str(r.rows),
                "met" if r.meets_target() else "missed",
            ]
        )
    everything = [ms for r in results for ms in r.latencies_ms]
    wall = sum(r.wall_s for r in results)
    rows.append(
        [
            "all endpoints",
            str(len(everything)),
            str(sum(r.errors for r in results)),
            f"{len(everything) / wall:.0f}" if wall else "0",
            f"{percentile(everything, 50):.1f}",
            f"{percentile(everything, 99):.1f}",
            "",
            "",
            f"{sum(r.meets_target() for r in results)}/{len(results)} met",
        ]
    )
    return header, rows


def plain_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]

    def fmt(line):
        cells = zip(line, widths, strict=True)
        return "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(cells))

    return "\n".join([fmt(header), "  ".join("-" * w for w in widths), *(fmt(line) for line in rows)])


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    align = ["---"] + ["---:"] * (len(header) - 1)
    lines = [header, align, *rows]
    return "\n".join("| " + " | ".join(cell.replace("|", "\\|") for cell in line) + " |" for line in lines)


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()} ({platform.system()})"


def checkout() -> str:
    """The git commit of this checkout, flagged when src/ has uncommitted changes (the server runs src/)."""
    try:
        git = ["git", "-C", str(HERE.parent)]
        commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run([*git, "status", "--porcelain", "--", "src"], capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown commit"
    return f"commit {commit.stdout.strip()}" + (" with uncommitted changes in src/" if dirty.strip() else "")


def record(results: list[Result], header, rows, args, info: dict) -> None:
    now = dt.datetime.now(dt.UTC)
    date_u = now.strftime("%a %b %d %H:%M:%S UTC %Y")  # as `date -u` prints it
    met = [r.path for r in results if r.meets_target()]
    missed = [r.path for r in results if not r.meets_target()]
    command = shlex.join(["python", os.path.relpath(__file__), *sys.argv[1:]])
    lines = [
        "",
        f"## {now:%Y-%m-%d}, loopback load test of the read endpoints",
        "",
        f"- Date: {date_u}",
        f"- Machine: {machine()}; client and server share these cores. {info['cpu']}.",
        f"- Command: `{command}`",
        f"- Parameters: {args.requests} requests per endpoint, concurrency {args.concurrency} (asyncio httpx "
        f"client, HTTP/1.1 keep-alive), time cap {args.max_seconds:g} s in all; each endpoint warmed with 3 "
        "requests first.",
        f"- Server: {info['server']}; critmin {info['critmin_version']} ({checkout()} of this checkout), data "
        f"version {info['data_version']}"
        f"{'; runs read from ' + info['run'] if info.get('run') else ''}.",
        "",
        markdown_table(header, rows),
        "",
        f"KiB is one response's body size and rows its `total`; `*` marks an endpoint cut short by the time cap. "
        f"Target per read endpoint: >= {TARGET_RPS:.0f} requests/s with p99 < {TARGET_P99_MS:.0f} ms and no errors.",
        "",
        f"- **Met ({len(met)}/{len(results)}):** {', '.join(f'`{p}`' for p in met) or 'none'}.",
        f"- **Missed ({len(missed)}/{len(results)}):** {', '.join(f'`{p}`' for p in missed) or 'none'}.",
    ]
    errors = [f"`{r.path}`: {s}" for r in results for s in r.error_samples]
    if errors:
        lines += ["- Errors seen: " + "; ".join(errors)]
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    RESULTS.write_text(text.rstrip("\n") + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"appended to {os.path.relpath(RESULTS)}", file=sys.stderr)


# ---------------------------------------------------------------------------------------------------- main


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Bounded loopback load test of critmin's read endpoints (GET /api/...). Starts its own "
        "`critmin serve` on 127.0.0.1 with a temporary store unless --url is given. Exits 1 if any request "
        "failed (non-2xx or a transport error).",
        epilog=f"Target: >= {TARGET_RPS:.0f} requests/s with p99 < {TARGET_P99_MS:.0f} ms per read endpoint. "
        "Client and server share the machine's cores, so the figures understate the server alone.",
    )
    parser.add_argument("--url", help="measure a running server at this loopback URL (e.g. http://127.0.0.1:8000)")
    parser.add_argument(
        "--token", default=os.environ.get("CRITMIN_TOKEN"), help="bearer token for --url [default: $CRITMIN_TOKEN]"
    )
    parser.add_argument("--requests", type=int, default=500, help="requests per endpoint [default: 500]")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent connections [default: 8]")
    parser.add_argument(
        "--max-seconds", type=float, default=60.0, help="time cap for the whole measurement [default: 60]"
    )
    parser.add_argument(
        "--seed-scenario",
        default=SEED_SCENARIO,
        help=f"bundled scenario run on our own server so the run endpoints have data; 'none' to skip "
        f"[default: {SEED_SCENARIO}]",
    )
    parser.add_argument(
        "--startup-timeout", type=float, default=120.0, help="seconds to wait for our server and seed run"
    )
    parser.add_argument("--record", action="store_true", help=f"append a dated section to {os.path.relpath(RESULTS)}")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.concurrency < 1 or args.max_seconds <= 0:
        parser.error("--requests and --concurrency must be >= 1 and --max-seconds > 0")
    if args.url:
        try:
            args.url = check_loopback(args.url)
        except ValueError as exc:
            parser.error(str(exc))
    return args


def run(args, base_url: str, server: str, server_pid: int | None = None) -> int:
    own = server_pid is not None
    headers = {"Authorization": f"Bearer {args.token}"} if args.token and not own else {}
    with httpx.Client(base_url=base_url, timeout=30.0, headers=headers) as client:
        health = client.get("/api/health").raise_for_status().json()
        products = client.get("/api/world/products").raise_for_status().json()["records"]
        if FLOW_PRODUCT not in {p["id"] for p in products}:
            raise RuntimeError(f"the served world has no product {FLOW_PRODUCT!r}")
        run_id = None
        if own and args.seed_scenario != "none":
            print(f"storing a run of {args.seed_scenario} ...", file=sys.stderr)
            run_id = seed_run(client, args.seed_scenario, args.startup_timeout)
        paths = list(ENDPOINTS)
        if client.get("/api/runs").raise_for_status().json()["total"] > 0:
            paths.append(RUN_SUMMARY)
        else:
            print(f"no stored run: {RUN_SUMMARY} is not measured", file=sys.stderr)

    cores = os.cpu_count()
    print(
        f"{len(paths)} endpoints x {args.requests} requests, concurrency {args.concurrency}, cap "
        f"{args.max_seconds:g} s. Client and server share this machine's {cores} cores.",
        file=sys.stderr,
    )
    before = cpu_snapshot(server_pid)
    results = asyncio.run(measure(base_url, paths, args, headers))
    cpu, other = cpu_split(before, cpu_snapshot(server_pid), own)
    header, rows = table_rows(results)
    print()
    print(plain_table(header, rows))
    print(
        f"\nTarget: >= {TARGET_RPS:.0f} req/s and p99 < {TARGET_P99_MS:.0f} ms per endpoint. {machine()}; client "
        f"and server share the {cores} cores, so the server alone would do better."
    )
    print(f"{cpu}.")
    if other > 25:
        print("warning: other processes were busy during the measurement; the figures understate the server")
    if any(r.truncated for r in results):
        print("* cut short by --max-seconds")
    for r in results:
        for sample in r.error_samples:
            print(f"error {r.path}: {sample}", file=sys.stderr)
    if args.record:
        info = {
            **health,
            "server": server,
            "cpu": cpu,
            "run": run_id and f"run {run_id} ({args.seed_scenario})",
        }
        record(results, header, rows, args, info)
    failed = any(r.errors or r.error_samples for r in results)
    return 1 if failed else 0


def _interrupt(signum, frame):
    """SIGTERM unwinds like Ctrl-C, so the server we started is stopped either way."""
    raise KeyboardInterrupt


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even where the shell started us ignoring SIGINT
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        if args.url:
            return run(args, args.url, f"already running at {args.url}")
        with OwnServer(args.startup_timeout) as server:
            described = "`critmin serve` started by the script (uvicorn, one process, access log off, temporary store)"
            status = run(args, server.url, described, server.proc.pid)
            if status:  # the server's log says why requests failed (tracebacks of 5xx)
                print(f"server log (tail):\n{server.log_tail()}", file=sys.stderr)
            return status
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except (httpx.HTTPError, RuntimeError, json.JSONDecodeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        if isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code == 401:
            print("the server wants a token: pass --token or set CRITMIN_TOKEN", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
