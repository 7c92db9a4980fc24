"""critmin serve: the REST API and the dashboard."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from critmin.cli.output import DB_OPTION, WORLD_OPTION, console, err_console, user_errors


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind. Anything but loopback needs a token."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port."),
    token: str = typer.Option(
        None,
        "--token",
        envvar="CRITMIN_TOKEN",
        show_envvar=True,
        show_default=False,
        help="Access token, required on every request (Bearer header, or the dashboard's sign-in form).",
    ),
    world: Path = WORLD_OPTION,
    db: Path = DB_OPTION,
    max_run_seconds: float = typer.Option(300.0, "--max-run-seconds", min=1, help="Stop runs longer than this (s)."),
    max_body_kib: int = typer.Option(256, "--max-body-kib", min=1, help="Largest request body accepted (KiB)."),
) -> None:
    """Serve the REST API (OpenAPI docs at /docs) and the dashboard on HOST:PORT (default 127.0.0.1:8000).

    The served world is read once at start-up from the store (or --world); runs submitted over HTTP are
    stored in the same DuckDB store. The server opens the store only for each request and each stored run, so
    other critmin commands can use it meanwhile (each waits briefly while the other has it open)."""
    import logging

    import uvicorn

    from critmin.server import ServerConfig, create_app
    from critmin.server.config import check_bind, check_port_free

    with user_errors():
        check_bind(host, token)
        check_port_free(host, port)  # before the store is opened and the URL is printed
        config = ServerConfig(
            db=db, world=world, token=token, max_run_seconds=max_run_seconds, max_body_bytes=max_body_kib * 1024
        )
        app = create_app(config)
    shown = f"[{host}]" if ":" in host else host
    console.print(f"critmin dashboard: [bold]http://{shown}:{port}/[/bold]   API docs: http://{shown}:{port}/docs")
    if token:
        err_console.print("[dim]token required: send 'Authorization: Bearer <token>' or sign in at /login[/dim]")
    # access logs go to stderr (stdout is silenced while the solver runs) and never carry the token, which is
    # only accepted in a header or a cookie
    log_config = uvicorn.config.LOGGING_CONFIG | {}
    log_config["handlers"] = {
        **log_config["handlers"],
        "access": {**log_config["handlers"]["access"], "stream": "ext://sys.stderr"},
    }
    logging.getLogger("uvicorn.error").propagate = False
    uvicorn.run(
        app, host=host, port=port, log_config=log_config, access_log=os.environ.get("CRITMIN_ACCESS_LOG") != "0"
    )
