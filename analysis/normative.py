"""Normative active range of motion (healthy adults), one table, one source.

Source: American Academy of Orthopaedic Surgeons, *Joint Motion: Method of
Measuring and Recording* (AAOS, Chicago, 1965), as tabulated in Norkin &
White, *Measurement of Joint Motion: A Guide to Goniometry*, 5th ed. (F.A.
Davis, 2016), Appendix A. Thoracolumbar values are the AAOS figures for
forward and lateral flexion. Values are degrees from the neutral zero of the
measure's own convention (see :mod:`analysis.measures`).
"""

from __future__ import annotations

from typing import NamedTuple


class NormativeRange(NamedTuple):
    low_deg: float
    high_deg: float
    source: str


_AAOS = "AAOS 1965 (Norkin & White 2016, App. A)"

AAOS_NORMATIVE: dict[str, NormativeRange] = {
    "knee_flexion": NormativeRange(0.0, 135.0, _AAOS),
    "hip_flexion": NormativeRange(0.0, 120.0, _AAOS),
    "hip_abduction": NormativeRange(0.0, 45.0, _AAOS),
    "shoulder_flexion": NormativeRange(0.0, 180.0, _AAOS),
    "shoulder_extension": NormativeRange(0.0, 60.0, _AAOS),
    "shoulder_abduction": NormativeRange(0.0, 180.0, _AAOS),
    "shoulder_external_rotation": NormativeRange(-70.0, 90.0, _AAOS),  # internal 70, external 90
    "elbow_flexion": NormativeRange(0.0, 150.0, _AAOS),
    "ankle_dorsiflexion": NormativeRange(0.0, 20.0, _AAOS),
    "trunk_flexion": NormativeRange(0.0, 80.0, _AAOS),
    "trunk_lateral_flexion": NormativeRange(0.0, 35.0, _AAOS),
}
