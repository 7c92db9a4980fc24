"""Deals (issue 15): a tariff regime change plus cooperation measures, valued per side (docs/deals.md)."""

from critmin.deal.load import DealError, load_deal, parse_deal
from critmin.deal.schema import Deal

__all__ = ["Deal", "DealError", "load_deal", "parse_deal"]
