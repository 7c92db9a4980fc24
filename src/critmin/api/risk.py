"""Risk models for the front ends: the bundled disruption models (risks/*.yaml) and a short description of one,
as :func:`critmin.scenario.describe` gives of a scenario."""

from __future__ import annotations

from pathlib import Path

from critmin.risk.model import RiskModel


def bundled_risk_models() -> dict[str, Path]:
    """Disruption models shipped in the repository's risks/ folder (or the package copy), by file stem."""
    from importlib import resources

    roots = [Path(__file__).resolve().parents[3] / "risks", Path(str(resources.files("critmin"))) / "risks"]
    for root in roots:
        if root.is_dir():
            return {p.stem: p for p in sorted(root.glob("*.yaml"))}
    return {}


def describe_risk_model(model: RiskModel) -> dict:
    """Name, description, horizon (start, end, years, months), how many events and common causes, and what the
    events touch (elements, event types); per event its id, type, annual probability and elements."""
    elements = sorted({e for event in model.events for e in event.elements})
    return {
        "name": model.name,
        "description": model.description,
        "start": model.start.isoformat(),
        "end": model.end.isoformat(),
        "years": model.years,
        "months": model.months,
        "events": len(model.events),
        "causes": len(model.causes),
        "elements": elements,
        "event_types": sorted({event.type for event in model.events}),
        "event_list": [
            {
                "id": event.id,
                "type": event.type,
                "probability": event.probability,
                "elements": list(event.elements),
                "description": event.description,
            }
            for event in model.events
        ],
        "cause_list": [
            {"id": cause.id, "probability": cause.probability, "events": list(cause.events)} for cause in model.causes
        ],
    }
