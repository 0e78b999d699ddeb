"""Reading the figures of one stored session result, whichever analysis method wrote it.

RecordingResult.measures holds analysis.pipeline's MeasureResult dicts
(session_peak / reps / …) or, from the transport helper's fallback, flat dicts
(max_deg / uncertainty_deg / …). Both become the same MeasureFigures here so
no page has to know the difference.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.uncertainty import FLAG_THRESHOLD_DEG


@dataclass(frozen=True)
class RepRow:
    number: int
    start_s: float | None
    end_s: float | None
    partial: bool
    peak_deg: float | None
    min_deg: float | None
    rom_deg: float | None
    uncertainty_deg: float | None
    flagged: bool


@dataclass(frozen=True)
class MeasureFigures:
    measure: str
    side: str  # "" when unsided
    primary: bool
    available: bool
    peak_deg: float | None
    min_deg: float | None
    rom_deg: float | None
    uncertainty_deg: float | None
    flagged: bool
    reps: tuple[RepRow, ...]
    reason: str = ""

    @property
    def full_rep_peaks_deg(self) -> list[float]:
        return [r.peak_deg for r in self.reps if not r.partial and r.peak_deg is not None]


def _figure(d: dict | None) -> tuple[float | None, float | None, bool]:
    if not isinstance(d, dict):
        return None, None, True
    value, sigma = d.get("value_deg"), d.get("uncertainty_deg")
    flagged = bool(d.get("flagged", sigma is None or (sigma or 0) > FLAG_THRESHOLD_DEG))
    return value, sigma, flagged


def measure_figures(entry: dict) -> MeasureFigures:
    side = entry.get("side") or ""
    if "session_peak" in entry or "available" in entry:
        peak, sigma, flagged = _figure(entry.get("session_peak"))
        low, _, _ = _figure(entry.get("session_min"))
        rom, _, _ = _figure(entry.get("session_rom"))
        reps = []
        for n, r in enumerate(entry.get("reps") or [], start=1):
            rp, rs, rf = _figure(r.get("peak"))
            rl, _, _ = _figure(r.get("min"))
            rr, _, _ = _figure(r.get("rom"))
            reps.append(
                RepRow(
                    n, r.get("start_s"), r.get("end_s"), bool(r.get("partial")), rp, rl, rr, rs, rf
                )
            )
        available = bool(entry.get("available", peak is not None))
        return MeasureFigures(
            entry["measure"], side, bool(entry.get("primary", True)), available,
            peak, low, rom, sigma, flagged if available else True, tuple(reps),
            entry.get("reason") or "",
        )  # fmt: skip
    sigma = entry.get("uncertainty_deg")
    return MeasureFigures(
        measure=entry["measure"],
        side=side,
        primary=True,
        available=entry.get("max_deg") is not None,
        peak_deg=entry.get("max_deg"),
        min_deg=entry.get("min_deg"),
        rom_deg=entry.get("rom_deg"),
        uncertainty_deg=sigma,
        flagged=bool(entry.get("uncertain", sigma is None or sigma > FLAG_THRESHOLD_DEG)),
        reps=(),
    )


def result_figures(measures) -> list[MeasureFigures]:
    """Every measure of one result, in stored order; unknown shapes are skipped, not guessed."""
    out = []
    for entry in measures or []:
        if isinstance(entry, dict) and entry.get("measure"):
            out.append(measure_figures(entry))
    return out
