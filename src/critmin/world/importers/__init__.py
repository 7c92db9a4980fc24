"""Importers of the trade and production data analysts have (CEPII BACI, UN Comtrade, USGS Mineral
Commodity Summaries) into override layers of the store, all or nothing, with file:line: field errors.
HS codes map to products through ``critmin/data/hs_map.csv``; shared codes are split by a declared
allocation rule (``composition`` or ``unit_value``), recorded in the layer. See docs/data.md."""

from __future__ import annotations

from critmin.world.importers.baci import import_baci
from critmin.world.importers.common import ALLOCATIONS, ImportFileError, ImportResult, hs_map
from critmin.world.importers.comtrade import import_comtrade
from critmin.world.importers.usgs import import_usgs

TRADE_FORMATS = ("baci", "comtrade")
PRODUCTION_FORMATS = ("usgs",)


def import_trade(store, path, *, fmt: str, override: str, **options) -> ImportResult:
    """Import a trade file of format ``fmt`` (baci or comtrade) as override layer ``override``."""
    from critmin.errors import UsageError

    if fmt == "baci":
        return import_baci(store, path, override=override, **options)
    if fmt == "comtrade":
        return import_comtrade(store, path, override=override, **options)
    raise UsageError(f"format {fmt!r}: choose one of {', '.join(TRADE_FORMATS)}")


def import_production(store, path, *, fmt: str, override: str, **options) -> ImportResult:
    """Import a production file of format ``fmt`` (usgs) as override layer ``override``."""
    from critmin.errors import UsageError

    if fmt == "usgs":
        return import_usgs(store, path, override=override, **options)
    raise UsageError(f"format {fmt!r}: choose one of {', '.join(PRODUCTION_FORMATS)}")


__all__ = [
    "ALLOCATIONS",
    "PRODUCTION_FORMATS",
    "TRADE_FORMATS",
    "ImportFileError",
    "ImportResult",
    "hs_map",
    "import_baci",
    "import_comtrade",
    "import_production",
    "import_trade",
    "import_usgs",
]
