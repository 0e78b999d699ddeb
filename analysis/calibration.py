"""Device calibration models shipped as data (``analysis/models/*.json``).

A model maps one device's angle to the marker reference, per measure:
``reference ≈ intercept + slope · device``, fitted by the validation harness
leave-one-subject-out for reporting, and on all subjects for the shipped
file. It also carries ``uncertainty_scale``: the factor that makes the stated
uncertainty cover ~68 % of true errors on the validation set. Devices without
a model get the identity (no correction, scale 1) — an uncalibrated device is
reported as such in the session's quality flags.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

MODEL_FILES = {"kinect_v2": "kinect_v2_uiprmd.json"}


@dataclass(frozen=True)
class LinearCorrection:
    intercept_deg: float = 0.0
    slope: float = 1.0

    def apply(self, values_deg: np.ndarray) -> np.ndarray:
        return self.intercept_deg + self.slope * values_deg


@dataclass(frozen=True)
class CalibrationModel:
    device: str
    corrections: dict[str, LinearCorrection] = field(default_factory=dict)
    uncertainty_scale: float = 1.0
    systematic_deg: dict[str, float] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def is_identity(self) -> bool:
        return not self.corrections and self.uncertainty_scale == 1.0 and not self.systematic_deg

    def combine(self, measure: str, data_sigma_deg: Any, *, rom: bool = False) -> Any:
        """Total standard uncertainty: scaled data-quality part ⊕ the measure's systematic part.

        The systematic part is the device-vs-reference disagreement that data
        quality cannot see (where each system puts a joint centre). It is
        fitted on ranges of motion; a single peak or minimum gets it / √2.
        """
        sys_deg = self.systematic_deg.get(measure, 0.0) * (1.0 if rom else np.sqrt(0.5))
        return np.hypot(np.asarray(data_sigma_deg) * self.uncertainty_scale, sys_deg)

    def correct(self, measure: str, values_deg: np.ndarray) -> np.ndarray:
        corr = self.corrections.get(measure)
        return values_deg if corr is None else corr.apply(values_deg)

    def to_json(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "uncertainty_scale": self.uncertainty_scale,
            "systematic_deg": dict(sorted(self.systematic_deg.items())),
            "corrections": {
                m: {"intercept_deg": c.intercept_deg, "slope": c.slope}
                for m, c in sorted(self.corrections.items())
            },
            "provenance": self.provenance,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CalibrationModel:
        return cls(
            device=str(data["device"]),
            corrections={
                m: LinearCorrection(float(c["intercept_deg"]), float(c["slope"]))
                for m, c in data.get("corrections", {}).items()
            },
            uncertainty_scale=float(data.get("uncertainty_scale", 1.0)),
            systematic_deg={m: float(v) for m, v in data.get("systematic_deg", {}).items()},
            provenance=dict(data.get("provenance", {})),
        )


def load_model(device: str | None) -> CalibrationModel:
    """The shipped model for a device, or the identity when none exists."""
    filename = MODEL_FILES.get(device or "")
    if filename is None:
        return CalibrationModel(device=device or "unknown")
    ref = resources.files("analysis.models").joinpath(filename)
    if not ref.is_file():
        return CalibrationModel(device=device or "unknown")
    return CalibrationModel.from_json(json.loads(ref.read_text(encoding="utf-8")))


def save_model(model: CalibrationModel, path: Path) -> None:
    path.write_text(json.dumps(model.to_json(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
