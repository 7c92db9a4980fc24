"""The FastAPI app: REST routes, dashboard pages, local static assets (plotly, Swagger UI) and middleware."""

from __future__ import annotations

from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from critmin import __version__
from critmin.api import StoreBusyError
from critmin.server.api import analysis, deals, plans, risk, runs, scenarios, world
from critmin.server.config import ServerConfig
from critmin.server.context import AppContext
from critmin.server.dashboard import pages
from critmin.server.errors import allowed_methods, known_query_parameters
from critmin.server.security import BodyLimitMiddleware, FailedAttempts, SecurityMiddleware

HERE = Path(__file__).parent
DESCRIPTION = """REST API of critmin: the sourced world (regions, products, capacities, flows, sources),
exposure indicators, scenario validation and runs (as jobs with progress), stored run results, and risk
studies (Monte Carlo over a disruption model, as jobs with progress) with their risk measures, and plans
(two-stage portfolios of projects, financing instruments, stockpiles and recycling, as jobs with progress) with
their value measures, cooperation and cost-risk frontier, trade policy (GSIM between two dated tariff regimes)
and deals (a tariff change plus cooperation measures valued per side, as jobs with progress).

Errors are `{"detail": [{"loc": [field path], "msg": reason, "type": kind}]}`. When the server was started with
a token, send it as `Authorization: Bearer <token>`."""


def _printable(value, limit: int = 200):
    """``value`` with every string UTF-8-encodable (lone surrogates escaped) and at most ``limit`` characters."""
    if isinstance(value, str):
        text = value.encode("utf-8", "backslashreplace").decode("utf-8")
        return text if len(text) <= limit else text[:limit] + "..."
    if isinstance(value, dict):
        return {k: _printable(v, limit) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_printable(v, limit) for v in value]
    return value


def _vendor_files() -> dict[str, Path]:
    """Third-party browser assets, served from their Python packages (the machine may be offline)."""
    plotly_js = Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))
    swagger = Path(str(resources.files("fastapi_offline") / "static"))
    return {
        "plotly.min.js": plotly_js,
        "swagger-ui-bundle.js": swagger / "swagger-ui-bundle.js",
        "swagger-ui.css": swagger / "swagger-ui.css",
    }


def create_app(config: ServerConfig | None = None) -> FastAPI:
    config = config or ServerConfig()
    ctx = AppContext(config)
    ctx.attempts = FailedAttempts(config.wrong_token_delay_s)  # shared by the API check and the sign-in form

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        ctx.start()
        yield
        ctx.close()

    app = FastAPI(
        title="critmin",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,  # served below from local assets
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    routers = (world.router, analysis.router, scenarios.router, runs.router, risk.router, plans.router, deals.router)
    for router in routers:
        app.include_router(router, dependencies=[Depends(known_query_parameters)])
    app.include_router(pages.router)
    vendor = _vendor_files()

    @app.get("/static/vendor/{name}", include_in_schema=False)
    def vendor_asset(name: str):
        if name not in vendor:  # a fixed set of names, never a path
            return HTMLResponse("not found", status_code=404)
        media = "text/css" if name.endswith(".css") else "text/javascript"
        return FileResponse(vendor[name], media_type=media, headers={"Cache-Control": "public, max-age=86400"})

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon():
        return Response(status_code=204)

    @app.get("/docs", include_in_schema=False, response_class=HTMLResponse)
    def docs():
        return (HERE / "templates" / "docs.html").read_text(encoding="utf-8")

    @app.get("/api/health", tags=["meta"], summary="Liveness, versions and the served world's data version")
    def health() -> dict[str, str]:
        return {"status": "ok", "critmin_version": __version__, "data_version": ctx.data_version}

    @app.exception_handler(StarletteHTTPException)
    async def uniform_errors(request, exc: StarletteHTTPException):
        """Framework errors (unknown route, wrong method) in the same shape as the API's own."""
        detail = exc.detail
        if not isinstance(detail, list):
            detail = [{"loc": ["path"], "msg": str(detail), "type": f"http_{exc.status_code}"}]
        headers = exc.headers
        if exc.status_code == 405:  # every method of the path, not only the first route's
            headers = {**(headers or {}), "Allow": allowed_methods(request)}
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=headers)

    @app.exception_handler(StoreBusyError)
    async def store_busy(request, exc: StoreBusyError):
        """Another process kept the store open too long: try again later (not a server fault)."""
        detail = [{"loc": ["store"], "msg": str(exc), "type": "store_busy"}]
        return JSONResponse({"detail": detail}, status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request, exc: RequestValidationError):
        """FastAPI's 422, with the echoed input made safe to send: a lone surrogate (``"\\ud800"``) cannot be
        encoded as UTF-8 and turned the error into a 500; long inputs are cut."""
        return JSONResponse({"detail": jsonable_encoder(_printable(exc.errors()))}, status_code=422)

    app.add_middleware(BodyLimitMiddleware, limit=config.max_body_bytes)
    app.add_middleware(SecurityMiddleware, token=config.token, attempts=ctx.attempts)
    return app
