"""Exercise catalogue: what each prescribed exercise is measured by.

Keyed to the ten UI-PRMD exercises (Vakanski et al. 2018). ``primary`` are
the measures the exercise is prescribed for (the ones the validation must
get within 5°); ``secondary`` are reported for context (compensations).
``side`` None means both sides move (bilateral); otherwise the side UI-PRMD
subjects used, overridable per session. ``direction`` says whether the
driving measure rises ("peak") or falls ("valley") during a repetition.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.errors import AnalysisError


class UnknownExerciseError(AnalysisError):
    """An exercise name the catalogue does not define."""


@dataclass(frozen=True)
class Exercise:
    name: str
    uiprmd_id: int
    primary: tuple[str, ...]
    secondary: tuple[str, ...]
    default_side: str | None
    direction: str = "peak"

    @property
    def driver(self) -> str:
        """The measure whose excursions define repetitions."""
        return self.primary[0] if self.primary else self.secondary[0]


EXERCISES: dict[str, Exercise] = {
    e.name: e
    for e in (
        Exercise("deep_squat", 1, ("knee_flexion", "hip_flexion"), ("ankle_dorsiflexion", "trunk_flexion"), None),
        Exercise("hurdle_step", 2, ("hip_flexion", "knee_flexion"), ("trunk_flexion", "trunk_lateral_flexion"), "right"),
        Exercise("inline_lunge", 3, ("knee_flexion", "hip_flexion"), ("trunk_flexion",), "right"),
        Exercise("side_lunge", 4, ("knee_flexion", "hip_flexion"), ("hip_abduction", "trunk_flexion"), "right"),
        Exercise("sit_to_stand", 5, ("knee_flexion", "hip_flexion"), ("trunk_flexion",), None, "valley"),
        Exercise("standing_active_straight_leg_raise", 6, ("hip_flexion",), ("knee_flexion", "trunk_flexion"), "right"),
        Exercise("standing_shoulder_abduction", 7, ("shoulder_abduction",), ("elbow_flexion", "trunk_lateral_flexion"), "right"),
        Exercise("standing_shoulder_extension", 8, ("shoulder_extension",), ("elbow_flexion", "trunk_flexion"), "right"),
        Exercise("standing_shoulder_internal_external_rotation", 9, ("shoulder_external_rotation",), ("elbow_flexion", "shoulder_abduction"), "right"),
        Exercise("standing_shoulder_scaption", 10, ("shoulder_flexion",), ("shoulder_abduction", "elbow_flexion"), "right"),
    )
}  # fmt: skip

BY_UIPRMD_ID: dict[int, Exercise] = {e.uiprmd_id: e for e in EXERCISES.values()}


def get_exercise(name: str) -> Exercise:
    """The catalogue entry; raises UnknownExerciseError naming the known ones."""
    try:
        return EXERCISES[name]
    except KeyError:
        raise UnknownExerciseError(
            f"unknown exercise {name!r}; known: {', '.join(EXERCISES)}"
        ) from None


def prescribed_sides(exercise: Exercise, side: str | None) -> tuple[str, ...]:
    """Sides a primary measure is prescribed on: the chosen/default side, or both."""
    chosen = side or exercise.default_side
    return (chosen,) if chosen else ("left", "right")
