"""Train, evaluate and export the agent's 2D→3D lifter from UI-PRMD Vicon motion.

Training-time tool only (torch never ships with the agent). Environment:

    python3.11 -m venv var/train-venv
    var/train-venv/bin/pip install torch==2.13.0 numpy scipy onnx onnxscript onnxruntime
    PYTHONPATH=. var/train-venv/bin/python tools/train_lifter.py --holdout 5 --out var/lifter-fold-s05
    PYTHONPATH=. var/train-venv/bin/python tools/train_lifter.py --out capture_agent/models

Data: joint centres from the Vicon markers of ../shared/data/ui-prmd (s01-s05,
correct and incorrect executions) by the reference joint-centre model of
:mod:`analysis.reference` (Harrington hips, Plug-in-Gait chord knees and
ankles, Rab shoulders). Frames where any marker is missing (exported as 0,0,0)
are cut out; windows never span a cut.

Each training window is seen through a fresh random virtual camera: 1.5-4 m
from the subject, 0.4-1.8 m high, anywhere in the front half-circle (yaw
±90°), aimed near the pelvis (pitch follows), roll ±3°, horizontal field of
view 50-90° at 640×480. Per-joint 3D offsets (σ 2 cm) stand in for the
difference between BlazePose's skin keypoints and marker joint centres; 2D
noise of 0.5-6 px and keypoint dropout (random and whole limbs, and anything
outside the image) mimic the 2D model. Frame spacing is 2-4 Vicon frames
(25-50 Hz) so the model tolerates real webcam rates.

``--holdout S`` trains on the other subjects and evaluates on S
(leave-subject-out); without it the model trains on all five subjects and is
exported with its manifest (command, seed, data, metrics) to ``--out``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from analysis.datasets.uiprmd import (  # noqa: E402
    DatasetError,
    list_repetitions,
    load_vicon_markers_mm,
)
from analysis.measures import MEASURES, compute_measure, measure_sides  # noqa: E402
from analysis.reference import vicon_joint_centres  # noqa: E402
from analysis.skeleton import JOINT_INDEX, JointSource, SkeletonSequence  # noqa: E402
from capture_agent.lifting.features import (  # noqa: E402
    LIFTER_INPUT_KEYPOINTS,
    LIFTER_OUTPUT_JOINTS,
    encode_windows,
    feature_size,
)

DATA_ROOT = REPO.parent / "shared" / "data" / "ui-prmd"
SUBJECTS = (1, 2, 3, 4, 5)
WINDOW = 9
VICON_HZ = 100.0
IMAGE_W, IMAGE_H = 640, 480
OUT_IDX = np.array([JOINT_INDEX[n] for n in LIFTER_OUTPUT_JOINTS])
_LHIP, _RHIP = LIFTER_OUTPUT_JOINTS.index("left_hip"), LIFTER_OUTPUT_JOINTS.index("right_hip")
_ARM_CHAINS = [
    [LIFTER_INPUT_KEYPOINTS.index(f"{s}_{j}") for j in ("elbow", "wrist")]
    for s in ("left", "right")
]
_FOOT_CHAINS = [
    [LIFTER_INPUT_KEYPOINTS.index(f"{s}_{j}") for j in ("ankle", "heel", "foot_index")]
    for s in ("left", "right")
]


# --------------------------------------------------------------------------- data


@dataclass
class Segment:
    """A stretch of one repetition with every marker present: (T, J, 3) lab metres."""

    key: str
    subject: int
    exercise: str
    joints_m: np.ndarray
    facing: np.ndarray  # (3,) unit horizontal anterior direction of the pelvis


def load_segments(subjects: tuple[int, ...], min_frames: int = 40) -> list[Segment]:
    segments = []
    for rep in list_repetitions(DATA_ROOT):
        if rep.subject not in subjects:
            continue
        try:
            markers = load_vicon_markers_mm(rep.vicon_positions)
        except DatasetError as exc:  # one published file holds a single frame
            print(f"skipped: {exc}", flush=True)
            continue
        ok = ~np.any(np.all(markers == 0.0, axis=2), axis=1)
        # split into runs of complete frames
        edges = np.flatnonzero(np.diff(np.concatenate([[0], ok.astype(int), [0]])))
        for start, stop in zip(edges[::2], edges[1::2], strict=True):
            if stop - start < min_frames:
                continue
            seq = vicon_joint_centres(markers[start:stop], np.arange(stop - start) / VICON_HZ)
            joints = seq.positions_m[:, OUT_IDX].astype(np.float64)
            right = (joints[:, _RHIP] - joints[:, _LHIP]).mean(0)
            facing = np.cross([0.0, 0.0, 1.0], right)
            facing[2] = 0.0
            segments.append(
                Segment(
                    key=f"{rep.key}@{start}",
                    subject=rep.subject,
                    exercise=rep.exercise_name,
                    joints_m=joints,
                    facing=facing / np.linalg.norm(facing),
                )
            )
    return segments


# ------------------------------------------------------------------------ cameras


def look_at(cam_pos: np.ndarray, target: np.ndarray, roll_rad: np.ndarray) -> np.ndarray:
    """(N, 3, 3) world→camera rotations (camera x right, y down, z forward; world z up)."""
    f = target - cam_pos
    f /= np.linalg.norm(f, axis=-1, keepdims=True)
    r = np.cross(f, np.array([0.0, 0.0, 1.0]))
    r /= np.linalg.norm(r, axis=-1, keepdims=True)
    d = np.cross(f, r)
    c, s = np.cos(roll_rad)[:, None], np.sin(roll_rad)[:, None]
    r, d = c * r + s * d, -s * r + c * d
    return np.stack([r, d, f], axis=1)


@dataclass
class Cameras:
    rotation: np.ndarray  # (N, 3, 3)
    position: np.ndarray  # (N, 3)
    focal_px: np.ndarray  # (N,)
    principal_px: np.ndarray  # (N, 2)


def random_cameras(
    rng: np.random.Generator,
    subject_pos: np.ndarray,
    facing: np.ndarray,
    *,
    distance_m: np.ndarray | None = None,
    yaw_deg: np.ndarray | None = None,
) -> Cameras:
    n = subject_pos.shape[0]
    dist = rng.uniform(1.5, 4.0, n) if distance_m is None else distance_m
    yaw = np.radians(rng.uniform(-90.0, 90.0, n) if yaw_deg is None else yaw_deg)
    height = rng.uniform(0.4, 1.8, n)
    base = np.arctan2(facing[:, 1], facing[:, 0]) + yaw
    pos = np.stack(
        [
            subject_pos[:, 0] + dist * np.cos(base),
            subject_pos[:, 1] + dist * np.sin(base),
            height,
        ],
        axis=1,
    )
    target = subject_pos + rng.normal(0.0, [0.15, 0.15, 0.2], (n, 3))
    rot = look_at(pos, target, np.radians(rng.normal(0.0, 3.0, n)))
    fov = np.radians(rng.uniform(50.0, 90.0, n))
    focal = (IMAGE_W / 2) / np.tan(fov / 2)
    principal = np.array([IMAGE_W / 2, IMAGE_H / 2]) + rng.normal(0.0, 5.0, (n, 2))
    return Cameras(rot, pos, focal, principal)


def project(points_m: np.ndarray, cams: Cameras) -> tuple[np.ndarray, np.ndarray]:
    """(N, W, K, 3) world → camera-frame points and normalised image coordinates."""
    cam = np.einsum("nij,nwkj->nwki", cams.rotation, points_m - cams.position[:, None, None, :])
    return cam, cam[..., :2] / cam[..., 2:3]


# ----------------------------------------------------------------------- sampling


_SWAP = np.array(
    [LIFTER_OUTPUT_JOINTS.index(n.replace("left_", "@").replace("right_", "left_").replace("@", "right_"))
     for n in LIFTER_OUTPUT_JOINTS]
)  # fmt: skip
_J = {n: i for i, n in enumerate(LIFTER_OUTPUT_JOINTS)}


def mirror(rng: np.random.Generator, pts: np.ndarray, facing: np.ndarray, p: float) -> np.ndarray:
    """Reflect a fraction ``p`` of windows through the body's sagittal plane and swap sides.

    UI-PRMD's one-sided exercises are mostly done with the right limbs; a
    patient may well use the left.
    """
    flip = rng.random(pts.shape[0]) < p
    if not np.any(flip):
        return pts
    out = pts.copy()
    lateral = np.cross(facing[flip], [0.0, 0.0, 1.0])
    lateral /= np.linalg.norm(lateral, axis=-1, keepdims=True)
    sub = pts[flip]
    root = 0.5 * (sub[:, -1, _LHIP] + sub[:, -1, _RHIP])[:, None, None, :]
    along = np.sum((sub - root) * lateral[:, None, None, :], axis=-1, keepdims=True)
    out[flip] = (sub - 2.0 * along * lateral[:, None, None, :])[:, :, _SWAP]
    return out


def scale_bones(rng: np.random.Generator, pts: np.ndarray, spread: float) -> np.ndarray:
    """Rescale each segment by a random factor in [1 - spread, 1 + spread].

    Five training subjects are five sets of body proportions; varying thigh,
    shank, foot, arm, forearm, trunk, pelvis and shoulder widths independently
    (symmetrically left/right) keeps the lifter from memorising them.
    """
    if spread <= 0:
        return pts
    n = pts.shape[0]
    k = rng.uniform(1 - spread, 1 + spread, (n, 8))[:, None, None, :]  # per window, per segment
    root = 0.5 * (pts[..., _J["left_hip"], :] + pts[..., _J["right_hip"], :])
    chest = 0.5 * (pts[..., _J["left_shoulder"], :] + pts[..., _J["right_shoulder"], :])
    out = np.empty_like(pts)
    new_chest = root + k[..., 5] * (chest - root)
    for s in ("left", "right"):
        j = {
            name: _J[f"{s}_{name}"]
            for name in ("hip", "knee", "ankle", "heel", "toe", "shoulder", "elbow", "wrist")
        }
        seg = lambda a, b, j=j: pts[..., j[b], :] - pts[..., j[a], :]  # noqa: E731
        out[..., j["hip"], :] = root + k[..., 6] * (pts[..., j["hip"], :] - root)
        out[..., j["knee"], :] = out[..., j["hip"], :] + k[..., 0] * seg("hip", "knee")
        out[..., j["ankle"], :] = out[..., j["knee"], :] + k[..., 1] * seg("knee", "ankle")
        out[..., j["heel"], :] = out[..., j["ankle"], :] + k[..., 2] * seg("ankle", "heel")
        out[..., j["toe"], :] = out[..., j["ankle"], :] + k[..., 2] * seg("ankle", "toe")
        out[..., j["shoulder"], :] = new_chest + k[..., 7] * (pts[..., j["shoulder"], :] - chest)
        out[..., j["elbow"], :] = out[..., j["shoulder"], :] + k[..., 3] * seg("shoulder", "elbow")
        out[..., j["wrist"], :] = out[..., j["elbow"], :] + k[..., 4] * seg("elbow", "wrist")
    return out


class WindowSampler:
    def __init__(
        self, segments: list[Segment], rng: np.random.Generator, *, mirror_p: float = 0.5,
        bone_spread: float = 0.1,
    ) -> None:  # fmt: skip
        self.segments = segments
        self.rng = rng
        self.mirror_p = mirror_p
        self.bone_spread = bone_spread
        lengths = np.array([s.joints_m.shape[0] for s in segments], dtype=np.float64)
        self.weights = lengths / lengths.sum()

    def batch(self, n: int, *, noise: bool = True) -> tuple[np.ndarray, np.ndarray]:
        rng = self.rng
        picks = rng.choice(len(self.segments), n, p=self.weights)
        step = rng.integers(2, 5, n)
        pts = np.empty((n, WINDOW, len(LIFTER_OUTPUT_JOINTS), 3))
        facing = np.empty((n, 3))
        for i, (seg_i, st) in enumerate(zip(picks, step, strict=True)):
            seg = self.segments[seg_i]
            t_end = rng.integers(0, seg.joints_m.shape[0])
            idx = np.clip(t_end - st * np.arange(WINDOW - 1, -1, -1), 0, None)
            pts[i] = seg.joints_m[idx]
            facing[i] = seg.facing
        pts = scale_bones(rng, mirror(rng, pts, facing, self.mirror_p), self.bone_spread)
        return synthesise(rng, pts, facing, noise=noise)


def synthesise(
    rng: np.random.Generator,
    pts: np.ndarray,
    facing: np.ndarray,
    *,
    noise: bool = True,
    cams: Cameras | None = None,
    noise_px: float | None = None,
    dropout: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Windows of 3D joints → (features, root-relative camera-frame targets)."""
    n = pts.shape[0]
    root_last = 0.5 * (pts[:, -1, _LHIP] + pts[:, -1, _RHIP])
    if cams is None:
        cams = random_cameras(rng, root_last, facing)
    shown = pts.copy()
    if noise:
        shown += rng.normal(0.0, 0.02, (n, 1, pts.shape[2], 3))  # keypoint definition offsets
    cam_pts, xy = project(shown, cams)
    if noise:
        sigma = rng.uniform(0.5, 6.0, n) if noise_px is None else np.full(n, noise_px)
        xy += rng.normal(0.0, 1.0, xy.shape) * (sigma / cams.focal_px)[:, None, None, None]
    px = xy * cams.focal_px[:, None, None, None] + cams.principal_px[:, None, None, :]
    conf = (
        (px[..., 0] >= 0) & (px[..., 0] < IMAGE_W) & (px[..., 1] >= 0) & (px[..., 1] < IMAGE_H)
    ) & (cam_pts[..., 2] > 0.1)
    if noise:
        p_drop = rng.uniform(0.0, 0.15, n) if dropout is None else np.full(n, dropout)
        conf &= rng.random(conf.shape) >= p_drop[:, None, None]
        if dropout is None:
            for chains in (_ARM_CHAINS, _FOOT_CHAINS):
                hit = rng.random(n) < 0.05
                side = rng.integers(0, 2, n)
                for i in np.flatnonzero(hit):
                    conf[i, :, chains[side[i]]] = False
    feats = encode_windows(xy, conf.astype(np.float32))
    target_world = pts[:, -1] - root_last[:, None, :]
    target = np.einsum("nij,nkj->nki", cams.rotation, target_world)
    return feats, target.reshape(n, -1).astype(np.float32)


# -------------------------------------------------------------------------- model


def build_model(n_in: int, n_out: int, hidden: int, blocks: int):
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = nn.Sequential(
                nn.Linear(hidden, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Dropout(0.1),
                nn.Linear(hidden, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Dropout(0.1),
            )  # fmt: skip

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x + self.net(x)

    return nn.Sequential(
        nn.Linear(n_in, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
        *[Block() for _ in range(blocks)],
        nn.Linear(hidden, n_out),
    )  # fmt: skip


def train(args: argparse.Namespace, segments: list[Segment]):
    import torch

    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    rng = np.random.default_rng(args.seed)
    sampler = WindowSampler(segments, rng, mirror_p=args.mirror, bone_spread=args.bone_spread)
    n_out = len(LIFTER_OUTPUT_JOINTS) * 3
    model = build_model(feature_size(WINDOW), n_out, args.hidden, args.blocks)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.steps)
    started = time.monotonic()
    model.train()
    for step in range(1, args.steps + 1):
        x, y = sampler.batch(args.batch)
        pred = model(torch.from_numpy(x))
        err = (pred - torch.from_numpy(y)).view(args.batch, -1, 3)
        loss = err.norm(dim=-1).mean()  # MPJPE in metres
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 250 == 0 or step == 1:
            elapsed = time.monotonic() - started
            print(f"step {step}/{args.steps} mpjpe {loss.item() * 1000:.1f} mm  {elapsed:.0f} s",
                  flush=True)  # fmt: skip
    model.eval()
    return model, time.monotonic() - started


# --------------------------------------------------------------------- evaluation


def evaluate(predict, segments: list[Segment], seed: int) -> dict:
    """MPJPE and clinical-angle errors on whole held-out repetitions at fixed cameras.

    Each repetition is resampled to 33.3 Hz (every 3rd Vicon frame), seen from
    distances 1.5 / 2.5 / 3.5 m at yaw 0° and 45°, in two 2D conditions:
    exact projections, and 3 px noise with 5 % dropout.
    """
    rng = np.random.default_rng(seed)
    results: dict = {}
    for condition, noise_px, dropout in (("clean", 0.0, 0.0), ("noisy_3px_5pct", 3.0, 0.05)):
        for dist in (1.5, 2.5, 3.5):
            errs, angle_err, rom_err = [], {}, {}
            for seg in segments:
                frames = seg.joints_m[::3]
                t = frames.shape[0]
                idx = np.clip(np.arange(t)[:, None] - np.arange(WINDOW - 1, -1, -1), 0, None)
                pts = frames[idx]  # (T, W, J, 3)
                for yaw in (0.0, 45.0):
                    root = 0.5 * (frames[:, _LHIP] + frames[:, _RHIP])
                    cam_rng = np.random.default_rng(rng.integers(1 << 31))
                    one = random_cameras(
                        cam_rng, root[:1], seg.facing[None], distance_m=np.array([dist]),
                        yaw_deg=np.array([yaw]),
                    )  # fmt: skip
                    cams = Cameras(
                        np.repeat(one.rotation, t, 0), np.repeat(one.position, t, 0),
                        np.repeat(one.focal_px, t), np.repeat(one.principal_px, t, 0),
                    )  # fmt: skip
                    feats, target = synthesise(
                        rng, pts, np.repeat(seg.facing[None], t, 0), noise=noise_px > 0,
                        cams=cams, noise_px=noise_px, dropout=dropout,
                    )  # fmt: skip
                    pred = predict(feats).reshape(t, -1, 3)
                    truth = target.reshape(t, -1, 3)
                    errs.append(np.linalg.norm(pred - truth, axis=-1))
                    up = one.rotation[0] @ np.array([0.0, 0.0, 1.0])
                    for name, d, r in _angle_errors(pred, truth, up):
                        angle_err.setdefault(name, []).append(d)
                        rom_err.setdefault(name, []).append(r)
            per_joint = np.concatenate(errs).mean(0) * 1000
            results[f"{condition}@{dist}m"] = {
                "mpjpe_mm": float(per_joint.mean()),
                "per_joint_mm": {n: round(float(v), 1) for n, v in zip(LIFTER_OUTPUT_JOINTS, per_joint, strict=True)},
                "angle_mae_deg": {n: round(float(np.nanmean(np.concatenate(v))), 2) for n, v in angle_err.items()},
                "rom_abs_err_deg": {n: round(float(np.nanmean(v)), 2) for n, v in rom_err.items()},
            }  # fmt: skip
    return results


_MEASURES_EVALUATED = (
    "knee_flexion", "hip_flexion", "hip_abduction", "shoulder_flexion", "shoulder_abduction",
    "elbow_flexion", "ankle_dorsiflexion", "trunk_flexion", "trunk_lateral_flexion",
)  # fmt: skip


def _as_sequence(joints_m: np.ndarray, up: np.ndarray) -> SkeletonSequence:
    from analysis.skeleton import CANONICAL_JOINTS

    t = joints_m.shape[0]
    pos = np.zeros((t, len(CANONICAL_JOINTS), 3), np.float32)
    pos[:, OUT_IDX] = joints_m
    pos[:, JOINT_INDEX["pelvis"]] = 0.5 * (joints_m[:, _LHIP] + joints_m[:, _RHIP])
    src = np.full((t, len(CANONICAL_JOINTS)), JointSource.MISSING, np.uint8)
    src[:, OUT_IDX] = JointSource.LIFTED
    src[:, JOINT_INDEX["pelvis"]] = JointSource.LIFTED
    return SkeletonSequence.build(
        joint_names=CANONICAL_JOINTS, timestamps_s=np.arange(t) / 33.3, positions_m=pos,
        confidence=(src != JointSource.MISSING).astype(np.float32), source=src,
        metadata={"up_axis": up.tolist()},
    )  # fmt: skip


def _angle_errors(pred: np.ndarray, truth: np.ndarray, up: np.ndarray):
    ps, ts = _as_sequence(pred, up), _as_sequence(truth, up)
    for name in _MEASURES_EVALUATED:
        if name not in MEASURES:
            continue
        for side in measure_sides(name):
            a, b = compute_measure(ps, name, side), compute_measure(ts, name, side)
            label = name if side is None else f"{side}_{name}"
            ok = np.isfinite(a) & np.isfinite(b)
            rom = (
                abs((a[ok].max() - a[ok].min()) - (b[ok].max() - b[ok].min()))
                if ok.sum() > 2
                else np.nan
            )
            yield label, np.abs(a - b), rom


# ------------------------------------------------------------------------- export


def export_onnx(model, path: Path) -> None:
    import torch

    dummy = torch.zeros(4, feature_size(WINDOW))
    torch.onnx.export(
        model, (dummy,), str(path), input_names=["features"], output_names=["joints_m"],
        dynamic_axes={"features": {0: "batch"}, "joints_m": {0: "batch"}}, opset_version=17,
        dynamo=False,
    )  # fmt: skip


def update_checksums(directory: Path, sums: dict[str, str]) -> None:
    """Set these files' lines in checksums.sha256 (verified by the agent's loader)."""
    path = directory / "checksums.sha256"
    entries: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip():
                digest, name = line.split(maxsplit=1)
                entries[name.strip()] = digest
    entries.update(sums)
    path.write_text("".join(f"{d}  {n}\n" for n, d in sorted(entries.items())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--holdout", type=int, default=None, help="subject left out for testing")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--blocks", type=int, default=2)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--mirror", type=float, default=0.5, help="fraction of mirrored windows")
    parser.add_argument("--bone-spread", type=float, default=0.1, help="± segment rescaling")
    args = parser.parse_args()

    import torch

    train_subjects = tuple(s for s in SUBJECTS if s != args.holdout)
    t0 = time.monotonic()
    segments = load_segments(train_subjects)
    print(f"train: {len(segments)} segments, {sum(s.joints_m.shape[0] for s in segments)} "
          f"frames from subjects {train_subjects} ({time.monotonic() - t0:.0f} s)", flush=True)  # fmt: skip
    model, train_s = train(args, segments)

    def predict(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.from_numpy(x)).numpy()

    args.out.mkdir(parents=True, exist_ok=True)
    onnx_path = args.out / "lifter.onnx"
    export_onnx(model, onnx_path)
    report: dict = {
        "model": "lifter.onnx",
        "window": WINDOW,
        "frame_rate_hz": [25.0, 50.0],
        "input_keypoints_blazepose": list(LIFTER_INPUT_KEYPOINTS),
        "output_joints": list(LIFTER_OUTPUT_JOINTS),
        "output_frame": "camera (x right, y down, z forward), metres, root = hip midpoint, last frame of the window",
        "command": "PYTHONPATH=. var/train-venv/bin/python " + " ".join(["tools/train_lifter.py", *sys.argv[1:]]),
        "seed": args.seed,
        "hyperparameters": {k: getattr(args, k) for k in ("steps", "batch", "hidden", "blocks", "lr", "mirror", "bone_spread")},
        "torch": torch.__version__,
        "torch_threads": 1,
        "training_seconds": round(train_s, 1),
        "data": {
            "dataset": "UI-PRMD (Vakanski et al. 2018), PDDL-1.0, ../shared/data/ui-prmd",
            "subjects": list(train_subjects),
            "executions": ["correct", "incorrect"],
            "joint_centres": "analysis.reference.vicon_joint_centres (Harrington hip, chord knee/ankle, Rab shoulder)",
            "segments": len(segments),
            "frames_100hz": int(sum(s.joints_m.shape[0] for s in segments)),
        },
        "onnx_sha256": hashlib.sha256(onnx_path.read_bytes()).hexdigest(),
    }  # fmt: skip
    if args.holdout is not None:
        test = load_segments((args.holdout,))
        report["holdout_subject"] = args.holdout
        report["holdout_eval"] = evaluate(predict, test, args.seed + 1)
    else:
        # all subjects trained on: this is only a fit check, not an accuracy claim
        report["train_fit_eval_s05"] = evaluate(
            predict, [s for s in segments if s.subject == 5][:60], args.seed + 1
        )
    manifest = args.out / "lifter_manifest.json"
    manifest.write_text(json.dumps(report, indent=1) + "\n")
    update_checksums(
        args.out,
        {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (onnx_path, manifest)},
    )
    print(
        json.dumps(
            {
                k: report[k]
                for k in report
                if k.endswith("eval") or k.startswith("holdout") or k == "training_seconds"
            }
        )
    )


if __name__ == "__main__":
    main()
