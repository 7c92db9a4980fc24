"""Readers for the sourced facts files (../shared/data/facts) and the source registry.

The facts files are the raw material; nothing here decides numbers. Each reader returns plain rows, and
the :class:`Sources` registry turns free-text citations into short ids with a confidence level.
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

# The facts' `confirmed` flags mapped onto critmin's three confidence levels (see facts/README.md).
_CONFIDENCE = {
    "yes": "confirmed",
    "secondary": "secondary",
    "partial": "secondary",
    "derived": "secondary",
    "low-quality secondary": "secondary",
    "unconfirmed": "assumption",
    "not found": "assumption",
}


def confidence(flag: str) -> str:
    """Map a facts `confirmed` flag (for example 'yes (reported NA)') to confirmed|secondary|assumption."""
    base = flag.split("(")[0].strip().lower()
    try:
        return _CONFIDENCE[base]
    except KeyError:
        raise ValueError(f"unknown confirmation flag {flag!r}") from None


def read_facts(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def number(text: str) -> float | None:
    """First number in a free-text cell ('12,000', '~530 million', '1.09-1.16 billion'), else None."""
    match = re.search(r"\d[\d,]*\.?\d*", text or "")
    if not match:
        return None
    value = float(match.group(0).replace(",", ""))
    lowered = text.lower()
    if "billion" in lowered:
        value *= 1000.0  # express in millions
    return value


@dataclass
class Sources:
    """Registry of citations; ids are stable slugs so that rebuilding gives the same files."""

    rows: dict[str, dict[str, str]] = field(default_factory=dict)

    def cite(self, citation: str, confirmed_raw: str = "", url: str = "") -> str:
        citation = " ".join(citation.split())
        digest = hashlib.sha1(citation.encode()).hexdigest()[:6]
        words = re.findall(r"[a-z0-9]+", citation.lower())[:4]
        sid = "-".join([*words, digest])
        if sid not in self.rows:
            if not url:
                found = re.search(
                    r"\b((?:https?://)?[\w.-]+\.(?:com|org|gov|net|int|au|jp|eu|io|news)[/\w.\-?=&%]*)", citation
                )
                url = found.group(1) if found else ""
            self.rows[sid] = {"id": sid, "citation": citation, "url": url, "confirmed_raw": confirmed_raw}
        return sid

    def assumption(self, topic: str) -> str:
        """The source id for a critmin assumption; the citation says that it is one and on what it rests."""
        return self.cite(f"critmin assumption: {topic}", confirmed_raw="assumption")
