"""Server settings: where the data are, the access token and the bounds on requests and runs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from critmin.errors import ConfigError

LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True)
class ServerConfig:
    db: Path | None = None  # DuckDB store [default: $CRITMIN_DB or the per-user data path]
    world: Path | None = None  # read this world folder instead of the store's active world
    token: str | None = None  # required on every request when set (Bearer header or login cookie)
    max_body_bytes: int = 256 * 1024  # request bodies above this are refused with 413
    max_run_seconds: float = 300.0  # a run still going after this is stopped and marked failed
    max_run_months: int = 240  # longer scenarios are refused at submission
    max_pending_jobs: int = 4  # queued + running; more are refused with 429
    max_risk_draws: int = 100_000  # draws of one risk study; more are refused with 422
    max_risk_workers: int = 4  # worker processes one risk study may ask for
    max_risk_seconds: float = 3600.0  # a risk study still going after this is stopped and marked failed
    max_plan_scenarios: int = 200  # scenarios of one posted plan; more are refused with 422
    max_plan_seconds: float = 3600.0  # a plan run still going after this is stopped and marked failed
    max_page_rows: int = 100_000  # rows per page of a result table
    wrong_token_delay_s: float = 0.25  # a client's first wrong token waits this long, each next one twice as long

    def __repr__(self) -> str:  # the token never reaches logs or tracebacks
        return f"ServerConfig(db={self.db!r}, world={self.world!r}, token={'***' if self.token else None})"


class InsecureBindError(ConfigError, ValueError):
    pass


MIN_TOKEN_LENGTH = 16


def check_bind(host: str, token: str | None) -> None:
    """Refuse to listen beyond loopback without a token of at least MIN_TOKEN_LENGTH characters (not counting
    surrounding blanks: a token of one space was accepted)."""
    if host in LOOPBACK:
        return
    if not token or not token.strip():
        raise InsecureBindError(
            f"refusing to serve on {host} without a token: pass --token or set CRITMIN_TOKEN (or bind 127.0.0.1)"
        )
    if len(token.strip()) < MIN_TOKEN_LENGTH:
        raise InsecureBindError(
            f"refusing to serve on {host} with a token of {len(token.strip())} characters: use at least "
            f"{MIN_TOKEN_LENGTH} (for example: python -c 'import secrets; print(secrets.token_urlsafe(24))')"
        )


class PortInUseError(ConfigError, OSError):
    pass


def check_port_free(host: str, port: int) -> None:
    """Refuse early when HOST:PORT cannot be bound (``serve`` printed its URL, then failed on a busy port)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no obstacle
        try:
            probe.bind((host, port))
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise PortInUseError(f"cannot serve on {host}:{port}: {reason}; choose another --port") from None
