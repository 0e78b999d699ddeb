"""The exercise catalogue therapists prescribe from, keyed to the measures analysis/ computes.

The catalogue is analysis.exercises.EXERCISES itself, so a prescribed exercise
is always one the server can measure; this module only adds the words a
clinician reads and the normative range of the measure the target applies to.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.exercises import EXERCISES, Exercise, UnknownExerciseError
from analysis.measures import MEASURES
from analysis.normative import AAOS_NORMATIVE


@dataclass(frozen=True)
class CatalogueEntry:
    key: str
    label: str
    target_measure: str | None  # the measure a target ROM refers to (the exercise's driver)
    measures: tuple[str, ...]
    default_side: str | None
    sided: bool
    normative_deg: tuple[float, float] | None


def measure_label(measure: str, side: str | None = None) -> str:
    """'Right knee flexion' — a measure as a clinician says it."""
    words = measure.replace("_", " ")
    return f"{side.capitalize()} {words}" if side else words.capitalize()


def _entry(exercise: Exercise) -> CatalogueEntry:
    target = exercise.primary[0] if exercise.primary else None
    norm = AAOS_NORMATIVE.get(target) if target else None
    return CatalogueEntry(
        key=exercise.name,
        label=exercise.name.replace("_", " ").capitalize(),
        target_measure=target,
        measures=exercise.primary,
        default_side=exercise.default_side,
        sided=MEASURES[target].sided if target else exercise.default_side is not None,
        normative_deg=None if norm is None else (norm.low_deg, norm.high_deg),
    )


CATALOGUE: dict[str, CatalogueEntry] = {name: _entry(e) for name, e in EXERCISES.items()}


def catalogue_entry(key: str) -> CatalogueEntry:
    """The entry for ``key``; UnknownExerciseError names the known ones."""
    try:
        return CATALOGUE[key]
    except KeyError:
        raise UnknownExerciseError(
            f"unknown exercise {key!r}; known: {', '.join(CATALOGUE)}"
        ) from None


def exercises_measuring(measure: str) -> tuple[str, ...]:
    """Catalogue exercises whose target ROM refers to ``measure``."""
    return tuple(k for k, e in CATALOGUE.items() if e.target_measure == measure)
