"""The indicators critmin computes and their units. Kept free of heavy imports: the command line's help text
lists these names without loading pandas (:mod:`critmin.metrics` re-exports ``INDICATOR_UNITS``)."""

INDICATOR_UNITS = {
    "hhi": "index 0-10000",
    "top3_share": "%",
    "production": "t/yr (element content)",
    "production_share": "%",
    "import_reliance": "%",
    "eu_supply_risk": "index (EU CRM 2017 method)",
}
INDICATORS = tuple(INDICATOR_UNITS)
