"""Joint centres from Plug-in-Gait-style skin markers, in the canonical skeleton.

The validation compares a camera's skeleton with one computed from optical
markers; the comparison is only as good as where the reference puts each
joint centre, so every model here is a published one, cited, and every
anthropometric number it needs is an explicit, documented assumption:

* Hip: Harrington et al. (2007) regression from ASIS/PSIS markers
  (J Biomech 40:595-602), in the ISB pelvis frame (Wu et al. 2002):
  x = -0.24·PD - 9.9, y = -0.30·PW - 10.9, z = ±(0.33·PW + 7.3) mm,
  PW = inter-ASIS distance, PD = mid-ASIS to mid-PSIS distance.
* Hip, alternative: Hara et al. (2016) regression on leg length alone
  (Sci Rep 6:37707; the Conventional Gait Model 2's default):
  x = 11 - 0.063·LL, y = -9 - 0.078·LL, z = ±(8 + 0.086·LL) mm in the same
  frame, LL = ASIS to medial malleolus. It does not depend on where the
  pelvis markers sit, so it stays sane when the ASIS/PSIS markers are placed
  (or read) wider than any pelvis Harrington's sample held.
* Knee and ankle: the Plug-in-Gait "chord function" (Davis et al. 1991,
  Hum Mov Sci 10:575-587; Vicon Plug-in Gait reference guide; pyCGM,
  Kainz et al. 2017): the centre lies in the plane of the proximal joint
  centre, the lateral marker and the wand/segment marker, at
  ``width/2 + marker radius`` from the lateral marker, with the marker-to-
  centre line perpendicular to the segment.
* Shoulder: Rab, Petuskey & Bagley (2002, Gait Posture 15:113-119): the
  glenohumeral centre lies inferior to the acromion marker by 17 % of the
  inter-acromion distance, along the thorax long axis. (Plug-in Gait instead
  uses a measured "shoulder offset"; UI-PRMD records none.)
* Elbow: the lateral epicondyle marker moved medially by ``elbow width/2 +
  marker radius`` along the thorax's medio-lateral axis made perpendicular to
  the humerus — a simplification of Plug-in Gait's wand-based chord, adequate
  for flexion (the offset lies along the flexion axis).
* Wrist: midpoint of the two wrist-bar markers (Plug-in Gait).

UI-PRMD publishes no subject anthropometrics (knee, ankle, elbow width,
marker size), so population values are assumed in
:data:`MARKER_ASSUMPTIONS_MM`; the validation report states how much the
measures move when they change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from analysis.errors import SkeletonValidationError
from analysis.skeleton import CANONICAL_JOINTS, JOINT_INDEX, JointSource, SkeletonSequence

#: The 39-marker Plug-in-Gait full-body set in UI-PRMD's column order
#: (0-based; C7=4, CLAV=6, LSHO=9, ... as established in the data README).
PLUG_IN_GAIT_MARKERS: tuple[str, ...] = (
    "LFHD", "RFHD", "LBHD", "RBHD", "C7", "T10", "CLAV", "STRN", "RBAK",
    "LSHO", "LUPA", "LELB", "LFRM", "LWRA", "LWRB", "LFIN",
    "RSHO", "RUPA", "RELB", "RFRM", "RWRA", "RWRB", "RFIN",
    "LASI", "RASI", "LPSI", "RPSI",
    "LTHI", "LKNE", "LTIB", "LANK", "LHEE", "LTOE",
    "RTHI", "RKNE", "RTIB", "RANK", "RHEE", "RTOE",
)  # fmt: skip

#: Anthropometrics UI-PRMD does not record; adult population values.
#: Knee (femoral bicondylar) ~100 mm, ankle (bimalleolar) ~70 mm and elbow
#: (humeral bicondylar) ~65 mm breadths are typical adult means (e.g. NASA
#: Anthropometric Source Book, 1978, vol. II); 14 mm is the usual Vicon marker.
MARKER_ASSUMPTIONS_MM: dict[str, float] = {
    "knee_width": 100.0,
    "ankle_width": 70.0,
    "elbow_width": 65.0,
    "marker_diameter": 14.0,
    "rab_shoulder_fraction": 0.17,
}


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(n > 0, n, 1.0)


def pelvis_frame(
    lasi: np.ndarray, rasi: np.ndarray, lpsi: np.ndarray, rpsi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Origin (T, 3) = mid-ASIS and axes (T, 3, 3), columns x anterior, y superior, z right.

    The ISB pelvis frame (Wu et al. 2002) Harrington's regression is written
    in; a functional hip centre is stored in it too, so the two compare directly.
    """
    mid_asis = 0.5 * (lasi + rasi)
    z = _unit(rasi - lasi)  # to the right
    x = mid_asis - 0.5 * (lpsi + rpsi)
    x = _unit(x - np.sum(x * z, axis=-1, keepdims=True) * z)  # anterior
    y = np.cross(z, x)  # superior
    return mid_asis, np.stack([x, y, z], axis=-1)


def harrington_hip_centres(
    lasi: np.ndarray, rasi: np.ndarray, lpsi: np.ndarray, rpsi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Left and right hip joint centres (T, 3) in the markers' unit (mm).

    Harrington et al. 2007 chose PW/PD regressions because they were the most
    accurate of the predictive methods against MRI (mean error ~14 mm in
    adults), far better than leg-length based ones.
    """
    mid_asis, axes = pelvis_frame(lasi, rasi, lpsi, rpsi)
    x, y, z = axes[..., 0], axes[..., 1], axes[..., 2]
    pw = np.linalg.norm(rasi - lasi, axis=-1, keepdims=True)
    pd = np.linalg.norm(mid_asis - 0.5 * (lpsi + rpsi), axis=-1, keepdims=True)
    ap = -0.24 * pd - 9.9
    vert = -0.30 * pw - 10.9
    ml = 0.33 * pw + 7.3
    base = mid_asis + ap * x + vert * y
    return base - ml * z, base + ml * z


def hara_hip_centres_pelvis_mm(leg_length_mm: Mapping[str, float]) -> dict[str, np.ndarray]:
    """Left and right hip centres in the :func:`pelvis_frame` (mm) from each leg's length.

    Hara et al. 2016 fitted these on MRI of children and adults (aged 5-40);
    leave-one-out error ~4-5 mm per axis, as good as Harrington's without its
    reliance on pelvic width and depth, which marker placement over soft
    tissue distorts most. ``leg_length_mm``: {"left": LL, "right": LL}.
    """
    out: dict[str, np.ndarray] = {}
    for side, sign in (("left", -1.0), ("right", 1.0)):
        ll = float(leg_length_mm[side])
        if not np.isfinite(ll) or ll <= 0:
            raise ValueError(f"{side} leg length must be a positive length in mm, got {ll!r}")
        out[side] = np.array([11.0 - 0.063 * ll, -9.0 - 0.078 * ll, sign * (8.0 + 0.086 * ll)])
    return out


#: Share of frames whose ASIS-to-ankle distance is at or below the leg-length
#: estimate: high enough to take the extended (standing) leg, below 1 so a
#: few frames of marker swap or skin wobble cannot set it.
LEG_LENGTH_PERCENTILE = 95.0


def marker_leg_lengths_mm(
    markers_mm: np.ndarray, marker_names: Sequence[str] = PLUG_IN_GAIT_MARKERS
) -> dict[str, float]:
    """Each leg's ASIS-to-ankle-marker length (mm) over a trial, for Hara's regression.

    Hara's LL is taped from ASIS to the medial malleolus with the subject
    standing; with markers only, the straight ASIS-to-lateral-malleolus
    distance on the frames where the leg is extended is the nearest measure.
    It runs short of the tape (35-55 mm on gait/walk.c3d, whose taped lengths
    are recorded), which moves Hara's centre by 4-7 mm. NaN where a side's
    markers are never seen.
    """
    names = tuple(marker_names)
    mk = np.asarray(markers_mm, dtype=np.float64)
    out: dict[str, float] = {}
    for side, s in (("left", "L"), ("right", "R")):
        d = np.linalg.norm(mk[:, names.index(f"{s}ASI")] - mk[:, names.index(f"{s}ANK")], axis=-1)
        d = d[np.isfinite(d)]
        out[side] = float(np.percentile(d, LEG_LENGTH_PERCENTILE)) if d.size else float("nan")
    return out


def chord_joint_centre(
    wand: np.ndarray, proximal_centre: np.ndarray, lateral_marker: np.ndarray, delta: float
) -> np.ndarray:
    """Plug-in Gait chord function: the joint centre from three points.

    The centre X lies in the plane (wand, proximal centre, lateral marker), on
    the side away from the wand (the wand is lateral, the centre medial), at
    distance ``delta`` from the lateral marker, with (X - marker) ⟂ (X -
    proximal centre). Solving |w| = delta, w·(w - u) = 0 with u the vector to
    the proximal centre gives cos φ = delta / |u| for the angle from u.
    """
    u = proximal_centre - lateral_marker
    length = np.linalg.norm(u, axis=-1, keepdims=True)
    u_hat = u / length
    a = wand - lateral_marker
    perp = a - np.sum(a * u_hat, axis=-1, keepdims=True) * u_hat
    away = -_unit(perp)
    cos_phi = np.clip(delta / length, -1.0, 1.0)
    sin_phi = np.sqrt(1.0 - cos_phi**2)
    return lateral_marker + delta * (cos_phi * u_hat + sin_phi * away)


def fill_marker_gaps(markers_mm: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """Markers with gaps filled where that is defensible; the rest NaN.

    UI-PRMD stores an occluded marker as exactly (0, 0, 0). Such samples become
    NaN and are linearly interpolated inside the repetition (a marker seen
    before and after a gap moved smoothly in between; at 100 Hz gaps are
    short). A pelvis marker missing in *every* frame (e.g. RASI in some
    s03/s04 files) is rebuilt by the pelvis's left-right symmetry: mirrored
    from its partner across the mid-sagittal plane of the other pair.
    """
    mk = np.array(markers_mm, dtype=np.float64)
    mk[np.all(mk == 0.0, axis=-1)] = np.nan
    t = np.arange(mk.shape[0])
    for j in range(mk.shape[1]):
        ok = np.isfinite(mk[:, j, 0])
        if ok.sum() >= 2 and not ok.all():
            inside = (t >= t[ok][0]) & (t <= t[ok][-1])
            for c in range(3):
                mk[inside, j, c] = np.interp(t[inside], t[ok], mk[ok, j, c])
    idx = {n: k for k, n in enumerate(names)}
    pairs = (("LASI", "RASI", "LPSI", "RPSI"), ("LPSI", "RPSI", "LASI", "RASI"))
    for left, right, ref_l, ref_r in pairs:
        if not all(n in idx for n in (left, right, ref_l, ref_r)):
            continue
        axis = _unit(mk[:, idx[ref_r]] - mk[:, idx[ref_l]])
        mid = 0.5 * (mk[:, idx[ref_l]] + mk[:, idx[ref_r]])
        for lost, partner in ((left, right), (right, left)):
            if np.all(np.isnan(mk[:, idx[lost], 0])):
                p = mk[:, idx[partner]]
                mk[:, idx[lost]] = p - 2.0 * np.sum((p - mid) * axis, axis=-1, keepdims=True) * axis
    return mk


def _thorax_axes(m: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Plug-in Gait thorax: z up (lower→upper midpoints), x anterior, y left."""
    upper = 0.5 * (m["C7"] + m["CLAV"])
    lower = 0.5 * (m["T10"] + m["STRN"])
    z = _unit(upper - lower)
    front = 0.5 * (m["CLAV"] + m["STRN"]) - 0.5 * (m["C7"] + m["T10"])
    x = _unit(front - np.sum(front * z, axis=-1, keepdims=True) * z)
    y = np.cross(z, x)
    return x, y, z


def vicon_joint_centres(
    markers_mm: np.ndarray,
    timestamps_s: np.ndarray | Sequence[float],
    *,
    marker_names: Sequence[str] = PLUG_IN_GAIT_MARKERS,
    assumptions_mm: Mapping[str, float] | None = None,
    hip_centres_pelvis_mm: Mapping[str, np.ndarray] | None = None,
) -> SkeletonSequence:
    """Canonical skeleton (metres, source MARKER) from (T, M, 3) markers in mm.

    The result stays in the lab frame (Vicon: z up), recorded in
    ``metadata["up_axis"]`` so gravity-referenced measures know which way is up.
    Joints without a marker model (nose, neck), or whose markers are lost
    even after :func:`fill_marker_gaps`, are MISSING.

    ``hip_centres_pelvis_mm`` ({"left": (3,), "right": (3,)}, pelvis frame of
    :func:`pelvis_frame`, mm) replaces Harrington's regression with fixed
    per-subject centres, e.g. functional ones
    (:mod:`analysis.reference.functional_hip`).
    """
    mk = np.asarray(markers_mm, dtype=np.float64)
    names = tuple(marker_names)
    if mk.ndim != 3 or mk.shape[1:] != (len(names), 3):
        raise SkeletonValidationError(
            f"markers_mm must have shape (T, {len(names)}, 3), got {mk.shape}"
        )
    mk = fill_marker_gaps(mk, names)
    a = {**MARKER_ASSUMPTIONS_MM, **(assumptions_mm or {})}
    r = a["marker_diameter"] / 2.0
    m = {n: mk[:, i] for i, n in enumerate(names)}
    n_frames = mk.shape[0]
    out = np.zeros((n_frames, len(CANONICAL_JOINTS), 3))
    present = np.zeros(len(CANONICAL_JOINTS), dtype=bool)

    def put(name: str, value: np.ndarray) -> None:
        out[:, JOINT_INDEX[name]] = value
        present[JOINT_INDEX[name]] = True

    pelvis = (m["LASI"], m["RASI"], m["LPSI"], m["RPSI"])
    if hip_centres_pelvis_mm is None:
        lhjc, rhjc = harrington_hip_centres(*pelvis)
    else:
        origin, axes = pelvis_frame(*pelvis)
        lhjc, rhjc = (
            origin + np.einsum("tij,j->ti", axes, np.asarray(hip_centres_pelvis_mm[side], float))
            for side in ("left", "right")
        )
    x_th, y_th, z_th = _thorax_axes(m)
    biacromial = np.linalg.norm(m["LSHO"] - m["RSHO"], axis=-1, keepdims=True)
    put("pelvis", 0.5 * (lhjc + rhjc))
    put("spine_mid", 0.5 * (m["T10"] + m["STRN"]))
    put("spine_chest", 0.5 * (m["C7"] + m["CLAV"]))
    put("head", 0.25 * (m["LFHD"] + m["RFHD"] + m["LBHD"] + m["RBHD"]))
    for side, s, hjc in (("left", "L", lhjc), ("right", "R", rhjc)):
        kjc = chord_joint_centre(m[f"{s}THI"], hjc, m[f"{s}KNE"], a["knee_width"] / 2 + r)
        ajc = chord_joint_centre(m[f"{s}TIB"], kjc, m[f"{s}ANK"], a["ankle_width"] / 2 + r)
        sjc = m[f"{s}SHO"] - a["rab_shoulder_fraction"] * biacromial * z_th
        medial = -y_th if side == "left" else y_th
        humerus = _unit(m[f"{s}ELB"] - sjc)
        medial = _unit(medial - np.sum(medial * humerus, axis=-1, keepdims=True) * humerus)
        ejc = m[f"{s}ELB"] + (a["elbow_width"] / 2 + r) * medial
        put(f"{side}_hip", hjc)
        put(f"{side}_knee", kjc)
        put(f"{side}_ankle", ajc)
        put(f"{side}_heel", m[f"{s}HEE"])
        put(f"{side}_toe", m[f"{s}TOE"])
        put(f"{side}_shoulder", sjc)
        put(f"{side}_elbow", ejc)
        put(f"{side}_wrist", 0.5 * (m[f"{s}WRA"] + m[f"{s}WRB"]))
        put(f"{side}_hand", m[f"{s}FIN"])
    observed = present[None, :] & np.all(np.isfinite(out), axis=-1)
    out[~observed] = 0.0
    source = np.where(observed, JointSource.MARKER, JointSource.MISSING).astype(np.uint8)
    return SkeletonSequence.build(
        joint_names=CANONICAL_JOINTS,
        timestamps_s=np.asarray(timestamps_s, dtype=np.float64),
        positions_m=out / 1000.0,
        confidence=observed.astype(np.float32),
        source=source,
        metadata={
            "device": "vicon",
            "frame": "lab",
            "up_axis": [0.0, 0.0, 1.0],
            "joint_centre_assumptions_mm": dict(a),
            "hip_centre": "harrington" if hip_centres_pelvis_mm is None else "given",
        },
    )
