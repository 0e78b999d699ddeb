"""The shipped 2D→3D lifter: interface, input encoding, and output on held-out bodies."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from capture_agent.interfaces import (
    BLAZEPOSE_33,
    BLAZEPOSE_INDEX,
    Lifter,
    ModelInputError,
    pixels_to_normalised,
)
from capture_agent.lifting import LIFTER_OUTPUT_JOINTS, OnnxLifter
from capture_agent.lifting.features import LIFTER_INPUT_KEYPOINTS, encode_windows

FIXTURE = Path(__file__).parent / "fixtures" / "blazepose_parity.npz"
UIPRMD = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ui-prmd"
OUT = {n: i for i, n in enumerate(LIFTER_OUTPUT_JOINTS)}


@pytest.fixture(scope="module")
def lifter() -> OnnxLifter:
    return OnnxLifter()


def _bone_m(joints: np.ndarray, a: str, b: str) -> np.ndarray:
    return np.linalg.norm(joints[..., OUT[a], :] - joints[..., OUT[b], :], axis=-1)


def test_lifter_satisfies_the_interface(lifter: OnnxLifter) -> None:
    assert isinstance(lifter, Lifter)
    assert lifter.input_joint_names == BLAZEPOSE_33
    assert lifter.window == lifter.manifest["window"] >= 2
    assert lifter.manifest["seed"] is not None and "train_lifter.py" in lifter.manifest["command"]


def test_encoding_ignores_where_the_body_is_and_how_big_it_looks() -> None:
    rng = np.random.default_rng(0)
    xy = rng.normal(0.0, 0.2, (3, 9, len(LIFTER_INPUT_KEYPOINTS), 2))
    conf = np.ones(xy.shape[:3])
    base = encode_windows(xy, conf)
    moved = encode_windows(xy + np.array([0.3, -0.1]), conf)
    scaled = encode_windows(xy * 2.0, conf)
    n_pose = 9 * len(LIFTER_INPUT_KEYPOINTS) * 3
    np.testing.assert_allclose(moved[:, :n_pose], base[:, :n_pose], atol=1e-5)
    np.testing.assert_allclose(scaled[:, :n_pose], base[:, :n_pose], atol=1e-5)
    np.testing.assert_allclose(scaled[:, -1] - base[:, -1], np.log(2.0), atol=1e-5)
    assert np.abs(moved[:, n_pose : n_pose + 2] - base[:, n_pose : n_pose + 2]).max() > 0.05


def test_missing_keypoints_are_masked_not_read(lifter: OnnxLifter) -> None:
    xy = np.full((lifter.window, 33, 2), np.nan, np.float32)
    conf = np.zeros((lifter.window, 33), np.float32)
    rng = np.random.default_rng(1)
    xy[:, :, :] = rng.normal(0.0, 0.2, (33, 2))
    conf[:] = 1.0
    xy[:, BLAZEPOSE_INDEX["left_wrist"]] = np.nan
    conf[:, BLAZEPOSE_INDEX["left_wrist"]] = 0.0
    out = lifter.lift(xy, conf)
    assert np.all(np.isfinite(out))
    xy[:, BLAZEPOSE_INDEX["left_wrist"]] = 123.0  # whatever sits under a zero confidence
    np.testing.assert_allclose(lifter.lift(xy, conf), out, atol=1e-6)


def test_rejects_windows_of_the_wrong_shape(lifter: OnnxLifter) -> None:
    with pytest.raises(ModelInputError, match="xy_norm_windows must be"):
        lifter.lift(np.zeros((lifter.window + 1, 33, 2)), np.ones((lifter.window + 1, 33)))
    with pytest.raises(ModelInputError, match="confidence must be"):
        lifter.lift(np.zeros((lifter.window, 33, 2)), np.ones((lifter.window, 17)))


def test_batch_and_single_window_agree(lifter: OnnxLifter) -> None:
    rng = np.random.default_rng(2)
    xy = rng.normal(0.0, 0.2, (4, lifter.window, 33, 2)).astype(np.float32)
    conf = np.ones((4, lifter.window, 33), np.float32)
    batch = lifter.lift_batch(xy, conf)
    assert batch.shape == (4, len(LIFTER_OUTPUT_JOINTS), 3)
    np.testing.assert_allclose(lifter.lift(xy[2], conf[2]), batch[2], atol=1e-5)


def test_real_photo_lifts_to_an_upright_adult_body(lifter: OnnxLifter) -> None:
    """BlazePose keypoints of a real person (COCO photo, fixture) lifted to 3D.

    No 3D truth exists for the photo; what must hold is the shape of a body:
    root-relative, shoulders above hips and knees below them, adult segment
    lengths, left and right on the same sides as BlazePose's own world
    landmarks put them.
    """
    with np.load(FIXTURE) as data:
        px = data["mp_pipeline_landmarks_px"]
        world = data["mp_pipeline_world_m"]
    fx = 320.0 / np.tan(np.radians(30.0))  # nominal 60° horizontal field of view
    xy = pixels_to_normalised(px[:, :2], fx=fx, fy=fx, cx=320.0, cy=212.5)
    joints = lifter.lift(np.repeat(xy[None], lifter.window, 0), np.ones((lifter.window, 33)))
    assert joints.shape == (len(LIFTER_OUTPUT_JOINTS), 3) and joints.dtype == np.float32
    root = 0.5 * (joints[OUT["left_hip"]] + joints[OUT["right_hip"]])
    assert np.linalg.norm(root) < 0.03
    for side in ("left", "right"):
        assert joints[OUT[f"{side}_shoulder"], 1] < joints[OUT[f"{side}_hip"], 1] - 0.25
        assert joints[OUT[f"{side}_knee"], 1] > joints[OUT[f"{side}_hip"], 1] + 0.2
        assert 0.30 < _bone_m(joints, f"{side}_hip", f"{side}_knee") < 0.60
        assert 0.30 < _bone_m(joints, f"{side}_knee", f"{side}_ankle") < 0.55
        assert 0.20 < _bone_m(joints, f"{side}_shoulder", f"{side}_elbow") < 0.45
    lifted_right = joints[OUT["right_shoulder"]] - joints[OUT["left_shoulder"]]
    bp_right = world[BLAZEPOSE_INDEX["right_shoulder"]] - world[BLAZEPOSE_INDEX["left_shoulder"]]
    assert float(np.dot(lifted_right, bp_right)) > 0


@pytest.mark.skipif(not UIPRMD.is_dir(), reason="UI-PRMD not in ../shared/data")
def test_heldout_kinect_squat_lifts_close_to_its_3d() -> None:
    """A skeleton the lifter never trained on: UI-PRMD's Kinect v2 joints of a
    subject-5 deep squat, seen by a camera at 2.5 m. The lifter learned from
    Vicon-derived joint centres; the shipped model saw subject 5's Vicon
    recording of this movement, the leave-subject-out model did not.

    Kinect puts its joints elsewhere than the marker model (hip, ankle, foot),
    so this bounds a cross-definition error, not the lifter's own. Measured
    with the shipped recipe trained without subject 5: MPJPE 129 mm, left knee
    flexion r = 0.976, MAE 10.0°, range 110° against 123°; the shipped model:
    110 mm, r = 0.992, 7.9°, 107°. The bounds below fail for a model that
    outputs a mean pose or mixes up joints.
    """
    from analysis.datasets.uiprmd import kinect_sequence, list_repetitions
    from analysis.measures import compute_measure
    from analysis.skeleton import SkeletonSequence

    rep = next(
        r for r in list_repetitions(UIPRMD) if r.key == "m01_s05_e01"
    )  # deep squat, subject 5
    seq = kinect_sequence(rep)
    names = [n for n in LIFTER_OUTPUT_JOINTS if seq.has_joint(n)]
    pts_y_up = np.stack([seq.joint(n) for n in names], axis=1).astype(np.float64)
    pts = pts_y_up[:, :, [0, 2, 1]] * np.array([1.0, -1.0, 1.0])  # y-up → z-up, right-handed
    hips = 0.5 * (pts[:, names.index("left_hip")] + pts[:, names.index("right_hip")])
    right = (pts[:, names.index("right_hip")] - pts[:, names.index("left_hip")]).mean(0)
    facing = np.cross([0.0, 0.0, 1.0], right)
    facing /= np.linalg.norm(facing)
    centre = hips.mean(0)
    cam = centre + 2.5 * facing
    cam[2] = centre[2] + 0.2
    f = (centre - cam) / np.linalg.norm(centre - cam)
    r = np.cross(f, [0.0, 0.0, 1.0])
    r /= np.linalg.norm(r)
    rot = np.stack([r, np.cross(f, r), f])
    cam_pts = (pts - cam) @ rot.T
    lifter = OnnxLifter()
    xy = np.zeros((len(pts), 33, 2), np.float32)
    conf = np.zeros((len(pts), 33), np.float32)
    for k, name in enumerate(names):
        bp = LIFTER_INPUT_KEYPOINTS[LIFTER_OUTPUT_JOINTS.index(name)]
        xy[:, BLAZEPOSE_INDEX[bp]] = cam_pts[:, k, :2] / cam_pts[:, k, 2:3]
        conf[:, BLAZEPOSE_INDEX[bp]] = 1.0
    t = np.arange(len(pts))
    idx = np.clip(t[:, None] - np.arange(lifter.window - 1, -1, -1), 0, None)
    pred = lifter.lift_batch(xy[idx], conf[idx])
    cols = [OUT[n] for n in names]
    cam_hips = 0.5 * (cam_pts[:, names.index("left_hip")] + cam_pts[:, names.index("right_hip")])
    truth = cam_pts - cam_hips[:, None]
    mpjpe_mm = float(np.linalg.norm(pred[:, cols] - truth, axis=-1).mean() * 1000)
    assert mpjpe_mm < 150, mpjpe_mm

    def knee(positions: np.ndarray) -> np.ndarray:
        s = SkeletonSequence.build(
            joint_names=names, timestamps_s=t / 30.0, positions_m=positions,
            metadata={"up_axis": (rot @ [0.0, 0.0, 1.0]).tolist()},
        )  # fmt: skip
        return compute_measure(s, "knee_flexion", "left")

    k_pred, k_true = knee(pred[:, cols]), knee(truth)
    rom_err = abs(np.ptp(k_pred) - np.ptp(k_true))
    assert np.ptp(k_true) > 60  # a deep squat: the test sees real motion
    assert rom_err < 25, (np.ptp(k_pred), np.ptp(k_true))
    assert np.mean(np.abs(k_pred - k_true)) < 12
    assert np.corrcoef(k_pred, k_true)[0, 1] > 0.95


def test_stream_pads_the_session_start_and_skips_empty_windows(lifter: OnnxLifter) -> None:
    from capture_agent.interfaces import Keypoints2D, nominal_intrinsics
    from capture_agent.lifting import LiftingStream

    with np.load(FIXTURE) as data:
        px = data["mp_pipeline_landmarks_px"]
    fx, fy, cx, cy = nominal_intrinsics(640, 425)
    stream = LiftingStream(lifter, fx=fx, fy=fy, cx=cx, cy=cy)
    assert stream.push(Keypoints2D.empty(image_size_px=(640, 425))) is None
    stream.reset()
    seen = Keypoints2D(
        xy_px=px[:, :2].astype(np.float32),
        confidence=px[:, 2].astype(np.float32),
        joint_names=BLAZEPOSE_33,
        image_size_px=(640, 425),
    )
    first = stream.push(seen)
    assert first is not None and first.shape == (len(LIFTER_OUTPUT_JOINTS), 3)
    window = np.repeat(pixels_to_normalised(px[:, :2], fx=fx, fy=fy, cx=cx, cy=cy)[None], 9, 0)
    np.testing.assert_allclose(
        first, lifter.lift(window[: lifter.window], np.repeat(px[None, :, 2], lifter.window, 0)),
        atol=1e-5,
    )  # fmt: skip
