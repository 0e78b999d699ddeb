"""From a validated skeleton to clinical figures, through the analysis library.

``analysis.pipeline.analyse_session`` (the analysis library's full pipeline)
is used when it is installed; until then a small, explicit fallback computes
the exercise's measure with analysis' own angle, repetition and uncertainty
functions.  Either way the result names the method that produced it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from analysis import SkeletonSequence
from analysis.errors import MeasureUnavailableError
from analysis.measures import MEASURES, compute_measure, measure_sides


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _jsonable(dataclasses.asdict(value))
    if hasattr(value, "to_dict"):
        return _jsonable(value.to_dict())
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


class UnknownExerciseError(Exception):
    """The recording names an exercise neither the pipeline nor the measure table knows."""


def exercise_is_known(exercise: str) -> bool:
    from analysis.exercises import EXERCISES

    return exercise in EXERCISES or exercise in MEASURES


def session_analyse(sequence: SkeletonSequence, *, exercise: str) -> tuple[str, list, dict]:
    """(method, measures, quality) for one session, JSON-ready.

    Exercises the analysis pipeline knows go through ``analyse_session``; a
    recording labelled with a bare measure name (``knee_flexion``) gets that
    measure alone; anything else is an UnknownExerciseError.
    """
    from analysis.exercises import EXERCISES
    from analysis.pipeline import analyse_session

    if exercise in EXERCISES:
        result = _jsonable(analyse_session(sequence, exercise=exercise))
        quality = dict(result.get("quality") or {})
        for key in ("exercise", "side", "duration_s", "n_frames", "rep_count"):
            quality[key] = result.get(key)
        return "analysis.pipeline", list(result.get("measures") or []), quality
    if exercise in MEASURES:
        return "single-measure-v1", _fallback_measures(sequence, exercise), {}
    raise UnknownExerciseError(f"exercise {exercise!r} is not known to the analysis library")


def _fallback_measures(sequence: SkeletonSequence, exercise: str) -> list[dict]:
    from analysis.reps import segment_repetitions
    from analysis.uncertainty import angle_sigma_deg, joint_sigma_m

    names = [exercise]
    wanted_side = sequence.metadata.get("side")
    sigma_m = joint_sigma_m(sequence, np.zeros(sequence.n_joints), {})
    out: list[dict] = []
    for name in names:
        for side in measure_sides(name):
            if wanted_side in ("left", "right") and side not in (None, wanted_side):
                continue
            try:
                values = compute_measure(sequence, name, side)
            except MeasureUnavailableError:
                continue
            finite = values[np.isfinite(values)]
            if finite.size < 3:
                continue
            lo, hi = np.percentile(finite, [2.5, 97.5])
            sigma = angle_sigma_deg(sequence, name, side, sigma_m)
            uncertainty = float(np.sqrt(2) * np.nanmedian(sigma))
            reps = segment_repetitions(sequence.timestamps_s, values)
            out.append(
                {
                    "measure": name,
                    "side": side,
                    "rom_deg": round(float(hi - lo), 2),
                    "min_deg": round(float(lo), 2),
                    "max_deg": round(float(hi), 2),
                    "uncertainty_deg": round(uncertainty, 2),
                    "uncertain": bool(uncertainty > 5.0),
                    "repetitions": len(reps),
                    "valid_fraction": round(float(finite.size / values.size), 3),
                }
            )
    return out
