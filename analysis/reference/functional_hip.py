"""Functional hip joint centre: the femur's centre of rotation in the pelvis frame.

Harrington's regression (:func:`harrington_hip_centres`) predicts the hip
centre from the pelvis markers and a population fitted on adults whose
inter-ASIS distance is 20-30 cm; it cannot know a subject whose markers sit
elsewhere (UI-PRMD's s05 reads 43 cm between "ASIS" markers). A functional
method instead finds the point about which the subject's own thigh markers
rotate relative to the pelvis — a calibration of the reference from its own
marker data, standard practice (Leardini et al. 1999, J Biomech 32:99;
Camomilla et al. 2006, J Biomech 39:1096; Kainz et al. 2015, Gait Posture
41:73 review). No camera data is involved.

Method: every thigh marker (lateral thigh wand, lateral knee) is expressed in
the pelvis frame (Wu et al. 2002 ISB axes, origin mid-ASIS — the frame
Harrington's regression is written in), so the pelvis is fixed and each
marker moves on a sphere about the hip centre c with its own radius r_m. c
minimises the geometric residual sum_{t,m} (|p_tm - c| - r_m)^2 (Halvorsen
2003 "sphere fit" with several markers sharing one centre; with r_m =
mean_t |p_tm - c| eliminated, a Gauss-Newton in c alone), started from the
linear (algebraic) fit of Gamage & Lasenby 2002, which is biased towards the
markers when the arcs are short. Sphere fits need the movement to cover
flexion-extension and ab-adduction (Camomilla et al.'s "star arc"). SCoRE
(Ehrig et al. 2006) would need a rigid thigh pose from >= 3 markers; the
Plug-in-Gait thigh has two (wand, knee), so the sphere fit is the option here.

A rotation about one axis (or a tiny one) does not locate a centre: the
centre is free along that axis. :class:`DegenerateMotionError` is raised when
the per-marker-centred trajectories span less than
:data:`MIN_EXCURSION_MM` (RMS) in their least-spread direction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from analysis.errors import AnalysisError
from analysis.reference.joint_centres import harrington_hip_centres, pelvis_frame

#: Least RMS excursion (mm) of the per-marker-centred thigh markers along their
#: least-spread direction for a centre to be determined. Skin markers move
#: 3-4 mm relative to the bone even in walking (Vicon's own knee centre in
#: ``gait/walk.c3d`` keeps its distance to Vicon's hip centre only within
#: 3.7 mm SD), and the centre's error grows fast as the excursion shrinks:
#: walking (40° flexion, ~10° ab-adduction) spreads 5-12 mm and its
#: fits land 57-100 mm from Vicon's centre, a single UI-PRMD exercise spreads
#: 3-31 mm and its fits scatter by tens of mm, while the pooled lower-limb
#: exercises of one subject spread 27-45 mm.
MIN_EXCURSION_MM = 20.0
#: Markers rigidly attached (nominally) to each femur in the Plug-in-Gait set.
THIGH_MARKERS: dict[str, tuple[str, ...]] = {"left": ("LTHI", "LKNE"), "right": ("RTHI", "RKNE")}
#: Pelvis markers defining the frame.
PELVIS_MARKERS: tuple[str, str, str, str] = ("LASI", "RASI", "LPSI", "RPSI")


class DegenerateMotionError(AnalysisError):
    """The markers did not rotate enough, in enough planes, to locate a centre."""


@dataclass(frozen=True)
class SphereFit:
    """A common centre of several marker spheres, with how well it is determined."""

    centre: np.ndarray  #: (3,), in the input's frame and unit
    radii: np.ndarray  #: (M,), one per marker
    rms_residual: float  #: RMS of |p - c| - r over all samples
    centre_se: float  #: largest standard error of the centre (white-noise model; optimistic)
    min_excursion: float  #: RMS spread of the centred markers along their least-spread axis
    n_samples: int


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(n > 0, n, 1.0)


def fit_sphere_centre(
    points: np.ndarray, *, min_excursion: float = MIN_EXCURSION_MM, iterations: int = 50
) -> SphereFit:
    """Least-squares centre of rotation of (T, M, 3) points moving about one fixed centre.

    Samples with any non-finite coordinate are dropped. Raises
    :class:`DegenerateMotionError` when the motion cannot locate a centre.
    """
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim == 2:
        pts = pts[:, None, :]
    if pts.ndim != 3 or pts.shape[2] != 3:
        raise ValueError(f"points must have shape (T, M, 3), got {pts.shape}")
    per_marker = [pts[np.all(np.isfinite(pts[:, m]), axis=1), m] for m in range(pts.shape[1])]
    if any(len(p) < 10 for p in per_marker):
        raise DegenerateMotionError("fewer than 10 valid samples for a marker")
    centred = np.concatenate([p - p.mean(axis=0) for p in per_marker])
    spread = np.sqrt(np.linalg.eigvalsh(centred.T @ centred / len(centred)))
    if spread[0] < min_excursion:
        raise DegenerateMotionError(
            f"thigh markers move {spread[0]:.1f} (RMS) along their least-spread direction, "
            f"below {min_excursion:.1f}: rotation about one axis only, or too little, "
            "cannot locate a centre"
        )
    # Algebraic start: |p|^2 - 2 p.c = r^2 - |c|^2 is linear in c once each marker's
    # mean is removed.
    sq = np.concatenate([np.sum(p**2, axis=1) - np.mean(np.sum(p**2, axis=1)) for p in per_marker])
    c, *_ = np.linalg.lstsq(2.0 * centred, sq, rcond=None)
    stacked = np.concatenate(per_marker)
    marker = np.concatenate([np.full(len(p), m) for m, p in enumerate(per_marker)])
    n_m = np.bincount(marker).astype(np.float64)

    def state(c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        d = stacked - c
        dist = np.linalg.norm(d, axis=1)
        radii = np.bincount(marker, dist) / n_m
        u = d / dist[:, None]
        u_mean = np.stack([np.bincount(marker, u[:, k]) / n_m for k in range(3)], axis=1)
        jac = -(u - u_mean[marker])  # d residual / d c with r_m re-optimised
        return dist - radii[marker], radii, jac

    for _ in range(iterations):
        res, radii, jac = state(c)
        step, *_ = np.linalg.lstsq(jac, -res, rcond=None)
        c = c + step
        if np.linalg.norm(step) < 1e-6 * max(1.0, float(np.linalg.norm(c))):
            break
    res, radii, jac = state(c)
    dof = max(len(res) - 3 - len(per_marker), 1)
    sigma2 = float(res @ res) / dof
    cov = sigma2 * np.linalg.pinv(jac.T @ jac)
    return SphereFit(
        centre=c,
        radii=radii,
        rms_residual=float(np.sqrt(np.mean(res**2))),
        centre_se=float(np.sqrt(max(np.linalg.eigvalsh(cov)[-1], 0.0))),
        min_excursion=float(spread[0]),
        n_samples=len(res),
    )


def to_pelvis(points: np.ndarray, origin: np.ndarray, axes: np.ndarray) -> np.ndarray:
    """(T, 3) or (T, M, 3) lab points expressed in the pelvis frame."""
    if points.ndim == 2:
        return np.einsum("tji,tj->ti", axes, points - origin)
    return np.einsum("tji,tmj->tmi", axes, points - origin[:, None])


def from_pelvis(local: np.ndarray, origin: np.ndarray, axes: np.ndarray) -> np.ndarray:
    """A fixed (3,) pelvis-frame point as its (T, 3) lab trajectory."""
    return origin + np.einsum("tij,j->ti", axes, np.asarray(local, dtype=np.float64))


@dataclass(frozen=True)
class FunctionalHip:
    """One side's functional hip centre and the Harrington centre it replaces (pelvis frame, mm)."""

    side: str
    centre_mm: np.ndarray
    harrington_mm: np.ndarray
    fit: SphereFit

    @property
    def distance_from_harrington_mm(self) -> float:
        return float(np.linalg.norm(self.centre_mm - self.harrington_mm))


def functional_hip_centres(
    trials: Iterable[np.ndarray],
    marker_names: Sequence[str],
    *,
    step: int = 5,
    min_excursion: float = MIN_EXCURSION_MM,
) -> dict[str, FunctionalHip]:
    """Left and right functional hip centres from a subject's (T, M, 3) marker trials (mm).

    Pools every trial (different exercises move the hip in different planes);
    ``step`` subsamples frames (100 Hz marker data is highly correlated).
    Markers must already be gap-filled (NaN where lost); lost frames are dropped.
    """
    idx = {n: k for k, n in enumerate(marker_names)}
    local: dict[str, list[np.ndarray]] = {"left": [], "right": []}
    harrington: dict[str, list[np.ndarray]] = {"left": [], "right": []}
    for mk in trials:
        mk = np.asarray(mk, dtype=np.float64)[::step]
        pel = [mk[:, idx[n]] for n in PELVIS_MARKERS]
        origin, axes = pelvis_frame(*pel)
        hips = harrington_hip_centres(*pel)
        for side, hjc in zip(("left", "right"), hips, strict=True):
            thigh = mk[:, [idx[n] for n in THIGH_MARKERS[side]]]
            local[side].append(to_pelvis(thigh, origin, axes))
            harrington[side].append(to_pelvis(hjc, origin, axes))
    out = {}
    for side in ("left", "right"):
        if not local[side]:
            raise DegenerateMotionError("no trials")
        fit = fit_sphere_centre(np.concatenate(local[side]), min_excursion=min_excursion)
        harr = np.concatenate(harrington[side])
        out[side] = FunctionalHip(
            side, fit.centre, np.nanmedian(harr[np.all(np.isfinite(harr), axis=1)], axis=0), fit
        )
    return out
