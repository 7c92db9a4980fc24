"""critmin's controlled vocabularies, declared once. The scenario schema, the market settings, the API's query
types and the data schema (``data/schema.csv`` names them as ``vocabulary:<name>``) all take them from here.

>>> STAGES
('mine', 'separation', 'metal', 'magnet', 'use')
>>> vocabulary("holder")
('public', 'private', 'producer')
"""

from __future__ import annotations

from typing import Literal, get_args

Stage = Literal["mine", "separation", "metal", "magnet", "use"]
STAGES: tuple[Stage, ...] = get_args(Stage)
# stages a region's supply can be traced to (look-through origin); "use" is where it ends
OriginStage = Literal["mine", "separation", "metal", "magnet"]
ORIGIN_STAGES: tuple[OriginStage, ...] = get_args(OriginStage)
# stages whose intake look-through origin traces back from ("use": final consumption)
IntakeStage = Literal["use", "magnet", "metal", "separation"]
INTAKE_STAGES: tuple[IntakeStage, ...] = get_args(IntakeStage)

Process = Literal["extract", "separate", "convert", "recycle"]
PROCESSES: tuple[Process, ...] = get_args(Process)

Holder = Literal["public", "private", "producer"]
HOLDERS: tuple[Holder, ...] = get_args(Holder)
PolicyHolder = Literal["public", "private"]  # who a stockpile policy may make buy: producers' stocks are theirs

Instrument = Literal["grant", "loan", "guarantee", "equity", "offtake", "price_floor"]
INSTRUMENTS: tuple[Instrument, ...] = get_args(Instrument)

Confidence = Literal["confirmed", "secondary", "assumption"]
CONFIDENCE_LEVELS: tuple[Confidence, ...] = get_args(Confidence)

RunPath = Literal["baseline", "scenario"]  # the two paths of a run: unshocked and shocked
PATHS: tuple[RunPath, ...] = get_args(RunPath)

_BY_NAME: dict[str, tuple[str, ...]] = {
    "stage": STAGES,
    "origin_stage": ORIGIN_STAGES,
    "intake_stage": INTAKE_STAGES,
    "process": PROCESSES,
    "holder": HOLDERS,
    "instrument": INSTRUMENTS,
    "confidence": CONFIDENCE_LEVELS,
    "path": PATHS,
}


def vocabulary(name: str) -> tuple[str, ...]:
    """The allowed values of the vocabulary ``name`` (as ``data/schema.csv`` refers to it)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no vocabulary {name!r}; known: {', '.join(_BY_NAME)}") from None
