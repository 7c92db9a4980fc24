"""The REST API and the browser dashboard: one FastAPI app over the Python API (critmin.api,
critmin.runs). ``create_app(ServerConfig(...))`` builds it; ``critmin serve`` runs it with uvicorn."""

from critmin.server.app import create_app
from critmin.server.config import ServerConfig

__all__ = ["ServerConfig", "create_app"]
