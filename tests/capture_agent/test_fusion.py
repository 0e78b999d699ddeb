"""Depth fusion parts: robust sampling, skin-to-centre, placement of the lifted skeleton, smoothing."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.skeleton import CANONICAL_JOINTS, JOINT_INDEX, JointSource
from capture_agent.fusion.depth_sample import (
    colour_to_depth_pixels,
    densest_band,
    robust_depth_m,
)
from capture_agent.fusion.fuse import (
    DepthFusion,
    fit_scale_translation,
    translation_from_reprojection,
)
from capture_agent.fusion.smoothing import OneEuroFilter
from capture_agent.fusion.surface import push_to_centre, surface_offsets_m
from capture_agent.interfaces import BLAZEPOSE_33, BLAZEPOSE_INDEX, Keypoints2D
from capture_agent.sources.base import CameraIntrinsics, Extrinsics, RGBDFrame, SourceError
from capture_agent.synthetic.keypoints import ProjectedTruthPose2D

INTR = CameraIntrinsics(640, 480, 460.0, 460.0, 319.5, 239.5)


def test_densest_band_prefers_the_surface_that_owns_the_window():
    rng = np.random.default_rng(0)
    limb = 2.50 + 0.01 * rng.standard_normal(60)
    occluder = 2.20 + 0.01 * rng.standard_normal(30)
    wall = 4.0 + 0.01 * rng.standard_normal(30)
    z, n = densest_band(np.concatenate((limb, occluder, wall)), 0.06)
    assert z == pytest.approx(2.5, abs=0.01) and n >= 55


def test_robust_depth_rejects_background_at_a_silhouette_edge():
    depth = np.full((100, 100), 4.0, np.float32)  # wall
    depth[:, :52] = 2.5  # body edge right of the keypoint
    depth[40:60, 40:45] = 0.0  # a stereo hole
    z, support = robust_depth_m(
        depth, np.array([[50.0, 50.0], [90.0, 50.0], [np.nan, 1.0]]),
        radius_px=5, gate_m=(1.6, 3.4), band_m=0.06,
    )  # fmt: skip
    assert z[0] == pytest.approx(2.5)
    assert np.isnan(z[1])  # only wall there: outside the body gate
    assert np.isnan(z[2]) and support[2] == 0


def test_surface_offsets_push_along_the_ray():
    off = surface_offsets_m()
    assert off[BLAZEPOSE_INDEX["nose"]] == 0.0
    assert off[BLAZEPOSE_INDEX["left_hip"]] == pytest.approx(0.09)
    p = np.zeros((len(BLAZEPOSE_33), 3))
    p[:, 2] = 2.0
    p[:, 0] = 1.0
    c = push_to_centre(p, off)
    k = BLAZEPOSE_INDEX["left_knee"]
    assert np.linalg.norm(c[k]) - np.linalg.norm(p[k]) == pytest.approx(off[k])
    assert np.cross(c[k], p[k]) == pytest.approx(np.zeros(3), abs=1e-12)


def test_fit_scale_translation_recovers_a_similarity():
    rng = np.random.default_rng(1)
    model = rng.normal(size=(10, 3)) * 0.4
    target = 1.1 * model + np.array([0.1, -0.2, 2.5])
    s, t = fit_scale_translation(model, target, np.ones(10))
    assert s == pytest.approx(1.1) and t == pytest.approx([0.1, -0.2, 2.5])


def test_translation_from_reprojection():
    rng = np.random.default_rng(2)
    model = rng.normal(size=(12, 3)) * 0.3
    t_true = np.array([0.2, 0.1, 3.0])
    xy = INTR.project(model + t_true)
    t = translation_from_reprojection(model, xy, np.ones(12), INTR)
    assert t == pytest.approx(t_true, abs=1e-6)


def _scene(joints: np.ndarray, occlude: str | None = None) -> tuple[RGBDFrame, Keypoints2D]:
    """A depth image of spheres at the joints (surface 5 cm in front), and exact keypoints."""
    from capture_agent.synthetic.render import render_body

    depth = np.full((480, 640), np.inf)
    render_body(joints, INTR, depth_m=depth)
    if occlude:
        u, v = INTR.project(joints[JOINT_INDEX[occlude]][None])[0].astype(int)
        depth[v - 15 : v + 15, u - 15 : u + 15] = joints[JOINT_INDEX[occlude], 2] - 0.6  # a chair
    units = np.where(np.isfinite(depth), np.round(depth * 1000), 0).astype(np.uint16)
    frame = RGBDFrame(0, 0.0, np.zeros((480, 640, 3), np.uint8), INTR, units, 0.001, INTR)
    pose = ProjectedTruthPose2D(INTR, sigma_frac=0.0)
    pose.set_truth(joints)
    return frame, pose.estimate(frame.colour_rgb)


@pytest.fixture(scope="module")
def standing():
    from tests.capture_agent.source_helpers import DATA, synthetic

    if not DATA.is_dir():
        pytest.skip("UI-PRMD reference data not present")
    src, frames = synthetic(1, exercise=7, noise=False)
    return np.nan_to_num(frames[0].ground_truth_m), src.motion.present


def test_depth_only_fusion_lands_near_joint_centres(standing):
    joints, present = standing
    frame, kp = _scene(joints)
    fused = DepthFusion().fuse(kp, frame, None)
    for name in ("left_knee", "right_elbow", "left_wrist", "right_ankle"):
        j = JOINT_INDEX[name]
        assert fused.source[j] == JointSource.DEPTH
        assert np.linalg.norm(fused.positions_m[j] - joints[j]) < 0.04, name


def test_an_occluded_joint_is_taken_from_the_placed_lifted_skeleton(standing):
    joints, present = standing
    frame, kp = _scene(joints, occlude="left_knee")
    pelvis = joints[JOINT_INDEX["pelvis"]]
    lifted = np.where(present[:, None], joints - pelvis, np.nan) * 0.9  # wrong scale, no depth
    fused = DepthFusion().fuse(kp, frame, lifted, present)
    knee = JOINT_INDEX["left_knee"]
    assert fused.source[knee] == JointSource.LIFTED
    assert np.linalg.norm(fused.positions_m[knee] - joints[knee]) < 0.08
    assert fused.confidence[knee] < fused.confidence[JOINT_INDEX["right_knee"]]
    assert fused.source[JOINT_INDEX["right_knee"]] == JointSource.DEPTH


def test_without_depth_the_lifted_skeleton_is_placed_by_reprojection(standing):
    joints, present = standing
    frame, kp = _scene(joints)
    colour_only = RGBDFrame(0, 0.0, frame.colour_rgb, INTR)
    pelvis = joints[JOINT_INDEX["pelvis"]]
    lifted = np.where(present[:, None], joints - pelvis, np.nan)
    fused = DepthFusion().fuse(kp, colour_only, lifted, present)
    j = JOINT_INDEX["pelvis"]
    assert fused.source[j] == JointSource.LIFTED
    assert np.linalg.norm(fused.positions_m[j] - pelvis) < 0.05
    assert not np.any(fused.source == JointSource.DEPTH)


def test_nobody_in_view_gives_missing_joints():
    kp = Keypoints2D.empty(image_size_px=(640, 480))
    frame = RGBDFrame(0, 0.0, np.zeros((480, 640, 3), np.uint8), INTR)
    fused = DepthFusion().fuse(kp, frame, None)
    assert np.all(fused.source == JointSource.MISSING)
    assert fused.positions_m.shape == (len(CANONICAL_JOINTS), 3)


def test_one_euro_removes_jitter_at_rest_and_follows_movement():
    rng = np.random.default_rng(3)
    t = np.arange(300) / 30.0
    f = OneEuroFilter()
    still = np.array([f(np.array([1.0 + 0.01 * rng.standard_normal()]), ti)[0] for ti in t])
    assert np.std(still[30:] - 1.0) < 0.65 * 0.01  # measured 0.56 with the defaults
    f.reset()
    ramp = 0.5 * t  # 0.5 m/s, a brisk limb movement
    out = np.array([f(np.array([r]), ti)[0] for r, ti in zip(ramp, t, strict=True)])
    lag_s = np.mean(ramp[60:] - out[60:]) / 0.5
    assert lag_s < 0.015  # measured 6.5 ms: well under a frame at 30 fps
    f.reset()
    gap = f(np.array([np.nan, 1.0]), 0.0)
    assert np.isnan(gap[0]) and gap[1] == 1.0


def test_fast_blazepose_mapping_matches_the_analysis_adapter():
    from analysis.adapters import to_canonical
    from capture_agent.fusion.fuse import blazepose_to_canonical

    rng = np.random.default_rng(4)
    p = rng.normal(size=(33, 3))
    c = rng.random(33).astype(np.float32)
    c[rng.random(33) < 0.3] = 0
    src = rng.integers(0, 2, 33).astype(np.uint8)
    pos, conf, source = blazepose_to_canonical(p, c, src)
    ref = to_canonical("blazepose33", p[None], [0.0], confidence=c[None], source=src[None])
    assert np.allclose(pos, ref.positions_m[0], atol=1e-6)
    assert np.array_equal(conf, ref.confidence[0])
    assert np.array_equal(source, ref.source[0])


# -- unregistered depth (a RealSense without rs.align) ------------------------------------
def test_colour_pixels_map_to_where_the_depth_imager_sees_the_point():
    depth_intr = CameraIntrinsics(640, 480, 417.0, 417.0, 321.0, 238.0)
    depth_to_colour = Extrinsics(np.eye(3), np.array([-0.015, 0.001, 0.002]))
    rng = np.random.default_rng(4)
    pts = np.column_stack(
        (rng.uniform(-0.8, 0.8, 20), rng.uniform(-0.9, 0.9, 20), rng.uniform(1.2, 4, 20))
    )
    colour_pts = depth_to_colour.apply(pts)
    xy_colour = INTR.project(colour_pts)
    got = colour_to_depth_pixels(
        xy_colour, colour_pts[:, 2], INTR, depth_intr, depth_to_colour.inverse()
    )
    assert np.allclose(got, depth_intr.project(pts), atol=1e-6)
    # the parallax is real: a wrong distance guess lands elsewhere
    off = colour_to_depth_pixels(xy_colour, 0.6, INTR, depth_intr, depth_to_colour.inverse())
    assert np.abs(off - got).max() > 5.0


def test_unregistered_depth_needs_its_calibration():
    units = np.zeros((480, 640), np.uint16)
    with pytest.raises(SourceError, match="intrinsics"):
        RGBDFrame(0, 0.0, np.zeros((480, 640, 3), np.uint8), INTR, units, depth_registered=False)
    small = CameraIntrinsics(320, 240, 200.0, 200.0, 160.0, 120.0)
    with pytest.raises(SourceError, match="does not match"):
        RGBDFrame(0, 0.0, np.zeros((480, 640, 3), np.uint8), INTR, units, 0.001, small,
                  Extrinsics(), depth_registered=False)  # fmt: skip


def _depth_errors_mm(frames) -> np.ndarray:
    errs = []
    fusion = DepthFusion()
    for f in frames:
        pose = ProjectedTruthPose2D(f.colour_intrinsics, sigma_frac=0.0)
        pose.set_truth(f.ground_truth_m)
        fused = fusion.fuse(pose.estimate(f.colour_rgb), f, None)
        ok = (fused.source == JointSource.DEPTH) & np.all(np.isfinite(f.ground_truth_m), axis=1)
        errs.append(
            np.where(ok, np.linalg.norm(fused.positions_m - f.ground_truth_m, axis=1), np.nan)
        )
    return np.asarray(errs) * 1000


def test_unregistered_depth_fuses_as_well_as_registered_depth():
    """The keypoint-only mapping stands in for rs.align: same joints, same accuracy.

    The D435-like imager's 75° view and 15 mm baseline put a joint up to ~20
    px away from its colour pixel; reading the depth image as if it were
    registered (the control) loses joints and reads some off the background,
    so this test shows that the mapping does the work.
    """
    import dataclasses

    from tests.capture_agent.source_helpers import DATA, synthetic

    if not DATA.is_dir():
        pytest.skip("UI-PRMD reference data not present")
    _, registered = synthetic(6, exercise=7, distance_m=2.5, noise=False)
    _, unregistered = synthetic(6, exercise=7, distance_m=2.5, noise=False, registered=False)
    assert not unregistered[0].depth_registered
    reg = _depth_errors_mm(registered)
    unreg = _depth_errors_mm(unregistered)
    assert np.array_equal(np.isfinite(reg), np.isfinite(unreg))  # the same joints measured
    assert np.nanmean(unreg) < np.nanmean(reg) + 3.0
    assert np.nanmedian(unreg) < 30.0
    misread = _depth_errors_mm(
        [dataclasses.replace(f, depth_registered=True) for f in unregistered]
    )
    assert np.isfinite(misread).sum() < np.isfinite(unreg).sum()
    assert np.nanmean(misread) > np.nanmean(unreg) + 10.0
