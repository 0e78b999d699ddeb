"""Every kind of source → the same pipeline (real BlazePose) → a SkeletonSequence."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.skeleton import JOINT_INDEX, JointSource, SkeletonSequence
from capture_agent.pipeline import SkeletonPipeline, fill_short_gaps
from capture_agent.sources import open_source
from capture_agent.synthetic.keypoints import ProjectedTruthPose2D
from tests.capture_agent.source_helpers import DATA, K4A_DEPTH_TO_COLOUR, kinect_pairs, synthetic

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="UI-PRMD reference data not present")


@pytest.fixture(scope="module")
def blazepose():
    from capture_agent.pipeline import default_pose2d

    return default_pose2d()


def _check(seq: SkeletonSequence, *, min_frames: int, depth: bool) -> None:
    assert isinstance(seq, SkeletonSequence)
    assert seq.n_frames >= min_frames
    restored = SkeletonSequence.from_bytes(seq.to_bytes())
    assert restored.equals(seq)
    observed = seq.source != JointSource.MISSING
    assert observed[:, JOINT_INDEX["left_knee"]].mean() > 0.5
    if depth:
        assert np.mean(seq.source[observed] == JointSource.DEPTH) > 0.6
    else:
        assert not np.any(seq.source == JointSource.DEPTH)


def test_synthetic_source(blazepose):
    src = open_source("synthetic:?exercise=7&distance=2.5")
    truth = []
    seq = SkeletonPipeline(pose2d=blazepose).run(
        src, max_frames=4, on_frame=lambda r: truth.append(r.frame.ground_truth_m)
    )
    _check(seq, min_frames=4, depth=True)
    pelvis = JOINT_INDEX["pelvis"]
    err = np.linalg.norm(seq.positions_m[:, pelvis] - np.stack(truth)[:, pelvis], axis=1)
    assert np.median(err) < 0.12
    assert seq.metadata["device"] == "synthetic" and "colour_intrinsics" in seq.metadata


@pytest.mark.parametrize("registered", [True, False])
def test_realsense_recording(blazepose, tmp_path, registered):
    """Depth registered in the file, and a D435-like file whose depth the fusion maps itself."""
    from capture_agent.sources.realsense_recording import write_realsense_recording

    _, frames = synthetic(5, exercise=7, registered=registered)
    path = tmp_path / "s.db3"
    write_realsense_recording(path, frames)
    seq = SkeletonPipeline(pose2d=blazepose).run(open_source(f"realsense:{path}"))
    _check(seq, min_frames=4, depth=True)
    assert seq.metadata["depth_scale_m"] == pytest.approx(0.001)
    assert seq.metadata["depth_registration"] == "keypoints"  # the default: no rs.align
    z = seq.positions_m[:, JOINT_INDEX["pelvis"], 2]
    assert np.median(z) == pytest.approx(
        np.nanmedian([f.ground_truth_m[0, 2] for f in frames]), abs=0.12
    )


def test_kinect_mkv(blazepose, tmp_path):
    from capture_agent.sources.kinect_recording import write_kinect_mkv

    pairs, d_intr, c_intr, truth = kinect_pairs(4)
    path = tmp_path / "s.mkv"
    write_kinect_mkv(
        path, pairs, depth_intrinsics=d_intr, colour_intrinsics=c_intr,
        depth_to_colour=K4A_DEPTH_TO_COLOUR,
    )  # fmt: skip
    seq = SkeletonPipeline(pose2d=blazepose).run(open_source(f"kinect:{path}"))
    _check(seq, min_frames=4, depth=True)
    pelvis = JOINT_INDEX["pelvis"]
    err = np.linalg.norm(seq.positions_m[:, pelvis] - np.stack(truth)[:, pelvis], axis=1)
    assert np.median(err) < 0.12


def test_video_file(blazepose, tmp_path):
    import av

    _, frames = synthetic(5, exercise=7)
    path = tmp_path / "s.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=30)
        stream.width, stream.height, stream.pix_fmt = 640, 480, "yuv420p"
        stream.bit_rate = 4_000_000
        for f in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(f.colour_rgb, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    seq = SkeletonPipeline(pose2d=blazepose).run(open_source(f"video:{path}"))
    _check(seq, min_frames=4, depth=False)
    assert seq.metadata["lifting"] in ("lifter", "blazepose_world_landmarks")


def test_depth_only_pipeline_is_accurate_with_exact_keypoints():
    """Fusion alone (2D from projected truth, no noise on 2D): within a few cm of the truth."""
    src = open_source("synthetic:?exercise=1&distance=2.5")
    truth = []
    pipe = SkeletonPipeline(pose2d=ProjectedTruthPose2D(src.config.intrinsics, sigma_frac=0.0))
    seq = pipe.run(src, max_frames=8, on_frame=lambda r: truth.append(r.frame.ground_truth_m))
    gt = np.stack(truth)
    for name in ("left_knee", "right_knee", "left_elbow", "right_wrist"):
        j = JOINT_INDEX[name]
        assert np.median(np.linalg.norm(seq.positions_m[:, j] - gt[:, j], axis=1)) < 0.05, name
    assert set(pipe.timings_ms) == {"source", "pose2d", "lift", "fusion", "smooth"}


def test_short_gaps_are_interpolated_and_marked():
    t = np.arange(10) / 30
    pos = np.zeros((10, 1, 3))
    pos[:, 0, 0] = np.arange(10.0)
    conf = np.ones((10, 1), np.float32)
    src = np.zeros((10, 1), np.uint8)
    src[3:5] = JointSource.MISSING
    pos[3:5] = 0
    fill_short_gaps(t, pos, conf, src, max_gap=2)
    assert pos[3:5, 0, 0] == pytest.approx([3.0, 4.0])
    assert np.all(src[3:5] == JointSource.INTERPOLATED) and np.all(conf[3:5] < 1)
