"""Sources: URI dispatch, and recordings written at test time through the real SDKs."""

from __future__ import annotations

import dataclasses
import sys
import types

import numpy as np
import pytest

from analysis.skeleton import JointSource
from capture_agent.fusion.fuse import DepthFusion
from capture_agent.sources import (
    RecordingFormatError,
    SourceUnavailableError,
    SourceURIError,
    open_source,
)
from capture_agent.sources.kinect import KinectSource, load_pykinect
from capture_agent.sources.opencv_source import OpenCVSource
from capture_agent.sources.realsense import RealSenseSource
from capture_agent.synthetic.keypoints import ProjectedTruthPose2D
from capture_agent.synthetic.source import SyntheticSource
from tests.capture_agent.source_helpers import DATA, K4A_DEPTH_TO_COLOUR, kinect_pairs, synthetic

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="UI-PRMD reference data not present")
#: RealSense tests fail fast with a stack trace if the SDK ever hangs again (CI once hung
#: 8+ minutes in close()); close() itself gives up after CLOSE_TIMEOUT_S.
rs_timeout = pytest.mark.timeout(120)


@pytest.mark.parametrize(
    ("uri", "kind"),
    [
        ("realsense://123", RealSenseSource),
        ("realsense:/tmp/x.db3", RealSenseSource),
        ("realsense:/tmp/x.db3?align=1", RealSenseSource),
        ("kinect://0", KinectSource),
        ("kinect:/tmp/x.mkv", KinectSource),
        ("webcam:0", OpenCVSource),
        ("video:/tmp/x.mp4", OpenCVSource),
        ("synthetic:?exercise=7&distance=3", SyntheticSource),
    ],
)
def test_uri_dispatch(uri, kind):
    assert isinstance(open_source(uri), kind)


@pytest.mark.parametrize(
    "uri",
    ["nonsense", "ftp:x", "kinect:/tmp/x.avi", "kinect://one", "webcam:x", "synthetic:?colour=red",
     "synthetic:?distance=20", "realsense:", "realsense:/tmp/x.db3?align=yes",
     "realsense://123?colour=1"],
)  # fmt: skip
def test_bad_uri_is_rejected_by_name(uri):
    with pytest.raises(SourceURIError):
        open_source(uri)


def test_realsense_uri_chooses_keypoint_mapping_or_sdk_alignment():
    raw = open_source("realsense:/tmp/x.db3")
    assert (raw.align, raw.filters, str(raw.path)) == (False, False, "/tmp/x.db3")
    sdk = open_source("realsense://123?align=1")
    assert (sdk.align, sdk.filters, sdk.serial) == (True, True, "123")


def test_realsense_lens_model_goes_through_the_sdk():
    """A RealSense colour lens (inverse Brown-Conrady) is projected as the SDK projects it."""
    import pyrealsense2 as rs

    from capture_agent.sources.base import CameraIntrinsics

    coeffs = (0.12, -0.06, 0.001, 0.002, 0.01)
    intr = CameraIntrinsics(640, 480, 600.0, 600.0, 320.0, 240.0, coeffs,
                            "realsense:inverse_brown_conrady")  # fmt: skip
    sdk = rs.intrinsics()
    sdk.width, sdk.height, sdk.fx, sdk.fy, sdk.ppx, sdk.ppy = 640, 480, 600.0, 600.0, 320.0, 240.0
    sdk.model, sdk.coeffs = rs.distortion.inverse_brown_conrady, list(coeffs)
    xy = np.array([[10.0, 12.0], [320.0, 240.0], [600.0, 450.0]])
    z = np.array([1.5, 2.5, 3.5])
    pts = intr.deproject(xy, z)
    want = [
        rs.rs2_deproject_pixel_to_point(sdk, list(p), float(d)) for p, d in zip(xy, z, strict=True)
    ]
    assert np.allclose(pts, want, atol=1e-6)
    assert np.allclose(intr.project(pts), xy, atol=1e-3)  # round trip
    pinhole = CameraIntrinsics(640, 480, 600.0, 600.0, 320.0, 240.0)
    assert np.abs(pinhole.deproject(xy, z) - pts)[0].max() > 0.01  # the lens matters at a corner


def test_opencv_lens_model_round_trips():
    from capture_agent.sources.base import CameraIntrinsics

    intr = CameraIntrinsics(
        1280, 720, 610.0, 610.0, 640.0, 360.0, (0.08, -0.06, 0.001, -0.0005, 0.02)
    )
    xy = np.array([[20.0, 30.0], [640.0, 360.0], [1200.0, 700.0]])
    pts = intr.deproject(xy, np.array([2.0, 2.0, 2.0]))
    assert np.allclose(intr.project(pts), xy, atol=0.05)
    assert pts[1] == pytest.approx([0.0, 0.0, 2.0])


def test_missing_recording_is_a_format_error(tmp_path):
    with pytest.raises(RecordingFormatError, match="does not exist"):
        open_source(f"realsense:{tmp_path / 'none.db3'}").open()
    with pytest.raises(RecordingFormatError, match=r"\.bag or \.db3"):
        (tmp_path / "x.txt").write_text("x")
        RealSenseSource(path=tmp_path / "x.txt").open()


# -- RealSense ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def realsense_recording(tmp_path_factory):
    from capture_agent.sources.realsense_recording import write_realsense_recording

    _, frames = synthetic(6, exercise=7)
    path = tmp_path_factory.mktemp("rs") / "session.db3"
    assert write_realsense_recording(path, frames) == 6
    return path, frames


@rs_timeout
def test_realsense_recording_plays_back_bit_exact(realsense_recording):
    path, written = realsense_recording
    src = RealSenseSource(path=path, filters=False, align=False)
    with src:
        read = list(src)
    # the SDK's syncer cannot pair the very first depth/colour frames: at most one is lost
    assert len(read) >= len(written) - 1
    assert src.skipped_framesets <= 2
    offset = len(written) - len(read)
    for got, want in zip(read, written[offset:], strict=True):
        assert np.array_equal(got.depth, want.depth)
        assert np.array_equal(got.colour_rgb, want.colour_rgb)
    f = read[0]
    intr = written[0].colour_intrinsics
    assert f.colour_intrinsics.fx == pytest.approx(intr.fx, rel=1e-6)
    assert f.colour_intrinsics.cx == pytest.approx(intr.cx, rel=1e-6)
    assert f.depth_scale_m == pytest.approx(0.001)
    assert np.allclose(f.depth_to_colour.rotation, np.eye(3))
    assert np.diff([g.timestamp_s for g in read]) == pytest.approx(1 / 30, abs=1e-6)


@rs_timeout
def test_realsense_align_and_filters_keep_the_body_depth(realsense_recording):
    path, written = realsense_recording
    with RealSenseSource(path=path, align=True, filters=True) as src:
        frame = src.read()
    assert frame.depth_registered
    truth = written[1].depth.astype(float)
    body = (truth > 0) & (truth < 3000)
    got = frame.depth.astype(float)
    ok = body & (got > 0)
    assert ok.mean() > 0.95 * body.mean()
    assert np.median(np.abs(got[ok] - truth[ok])) < 15  # mm, after spatial/temporal filtering


@pytest.fixture(scope="module")
def unregistered_recording(tmp_path_factory):
    """A D435-like recording: depth from its own 75° imager, colour 15 mm aside."""
    from capture_agent.sources.realsense_recording import write_realsense_recording

    _, frames = synthetic(8, exercise=7, registered=False)
    path = tmp_path_factory.mktemp("rs") / "d435.db3"
    assert write_realsense_recording(path, frames, compress=False) == 8
    return path, frames


@rs_timeout
def test_realsense_unaligned_depth_keeps_the_sensor_calibration(unregistered_recording):
    path, written = unregistered_recording
    with RealSenseSource(path=path) as src:
        read = list(src)
    f, want = read[0], written[len(written) - len(read)]
    assert not f.depth_registered
    assert np.array_equal(f.depth, want.depth)  # untouched: no align, no filters
    assert f.depth_intrinsics.fx == pytest.approx(want.depth_intrinsics.fx, rel=1e-6)
    assert f.depth_intrinsics.fx < f.colour_intrinsics.fx  # the wider depth view
    assert np.allclose(f.depth_to_colour.translation_m, [-0.015, 0, 0], atol=1e-7)
    # whole-image consumers get it registered: it agrees with the SDK's rs.align
    with RealSenseSource(path=path, align=True) as src:
        aligned_all = list(src)
    # the same written frame (the syncer may drop a different number at the start)
    n = min(len(read), len(aligned_all))
    f, aligned = read[-n], aligned_all[-n]
    ours = f.registered_depth().astype(float)
    sdk = aligned.depth.astype(float)
    body = (sdk > 0) & (sdk < 3000) & (ours > 0) & (ours < 3000)
    assert body.mean() > 0.05
    assert np.median(np.abs(ours[body] - sdk[body])) < 15  # mm, the noise's scale


@rs_timeout
def test_realsense_fusion_without_rs_align_is_at_least_as_accurate(unregistered_recording):
    """The default (keypoints mapped into raw depth) against rs.align + SDK filters."""
    path, written = unregistered_recording
    err = {}
    for name, options in (("raw", {}), ("sdk", {"align": True, "filters": True})):
        with RealSenseSource(path=path, **options) as src:
            read = list(src)
        fusion = DepthFusion()
        e = []
        for got, want in zip(read, written[len(written) - len(read) :], strict=True):
            pose = ProjectedTruthPose2D(want.colour_intrinsics, sigma_frac=0.0)
            pose.set_truth(want.ground_truth_m)
            fused = fusion.fuse(pose.estimate(got.colour_rgb), got, None)
            ok = (fused.source == JointSource.DEPTH) & np.isfinite(want.ground_truth_m).all(1)
            e.extend(np.linalg.norm(fused.positions_m[ok] - want.ground_truth_m[ok], axis=1))
        err[name] = float(np.mean(e)) * 1000
    assert err["raw"] < 40.0, err
    assert err["raw"] <= err["sdk"] + 2.0, err


@rs_timeout
def test_realsense_live_path_with_the_native_pipeline_replaced(realsense_recording):
    """The live code path, fed by a real SDK pipeline playing the recording instead of USB."""
    import pyrealsense2 as rs

    path, _ = realsense_recording

    class PlaybackPipeline:
        def __init__(self):
            self._pipe = rs.pipeline()

        def start(self, _config):
            cfg = rs.config()
            cfg.enable_device_from_file(str(path), repeat_playback=False)
            profile = self._pipe.start(cfg)
            profile.get_device().as_playback().set_real_time(False)
            return profile

        def wait_for_frames(self, timeout_ms):
            return self._pipe.wait_for_frames(timeout_ms)

        def stop(self):
            self._pipe.stop()

    src = RealSenseSource(serial="TELEREHAB-SYN-0001", pipeline_factory=PlaybackPipeline)
    assert src.is_live
    with src:
        frame = src.read()
    assert frame.depth.shape == (480, 640) and frame.colour_rgb.shape == (480, 640, 3)
    assert (frame.depth > 0).mean() > 0.5


class _StallingPlayback:
    """The SDK's deadlock, modelled: a sensor's stop() waits for the playback reader to
    hand over one more frame, which the syncer delivers only if someone drains it after
    the stop began. The reader is stalled before that (a loaded machine), so a drain
    that runs only before the stop sees an empty syncer and the stop never returns."""

    def __init__(self):
        import threading

        self.stopping = threading.Event()
        self.handed_over = threading.Event()
        self.deadlocked = False
        self.closed = False

    # syncer
    def try_wait_for_frames(self, timeout_ms):
        if self.stopping.is_set():
            self.handed_over.set()
            return True, object()
        return False, None

    # sensor
    def stop(self):
        self.stopping.set()
        self.deadlocked = not self.handed_over.wait(3.0)

    def close(self):
        self.closed = True


def _fake_recording_source(tmp_path, fake):
    src = RealSenseSource(path=tmp_path / "x.db3")
    src._filter_chain, src._align, src._pipeline = [], None, None
    src._syncer, src._sensors = fake, [fake]
    return src


@rs_timeout
def test_realsense_close_drains_the_syncer_while_the_sensors_stop(tmp_path):
    fake = _StallingPlayback()
    src = _fake_recording_source(tmp_path, fake)
    src.close()
    assert not fake.deadlocked and fake.closed
    assert src._sensors == [] and src._syncer is None


@rs_timeout
def test_realsense_close_gives_up_on_a_stop_that_never_returns(tmp_path, monkeypatch, caplog):
    import threading
    import time

    import capture_agent.sources.realsense as realsense

    release = threading.Event()

    class HungSensor:
        def stop(self):
            release.wait(30)

        def close(self):
            pass

    monkeypatch.setattr(realsense, "CLOSE_TIMEOUT_S", 0.5)
    src = _fake_recording_source(tmp_path, HungSensor())
    src._syncer = None
    t0 = time.monotonic()
    try:
        src.close()
        elapsed = time.monotonic() - t0
    finally:
        release.set()
    assert elapsed < 5
    assert "did not stop within" in caplog.text


@rs_timeout
def test_realsense_close_mid_recording_returns_promptly(realsense_recording):
    import time

    path, _ = realsense_recording
    for _ in range(3):  # stop after the first frame: the case that deadlocked
        src = RealSenseSource(path=path)
        src.open()
        assert src.read() is not None
        t0 = time.monotonic()
        src.close()
        assert time.monotonic() - t0 < 5


def test_realsense_hardware_if_attached():
    from capture_agent.sources.realsense import list_realsense_devices

    devices = list_realsense_devices()
    if not devices:
        pytest.skip("no RealSense camera attached")
    with open_source(devices[0].uri) as src:
        frame = src.read()
    assert frame.has_depth


# -- Azure Kinect ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def kinect_recording(tmp_path_factory):
    from capture_agent.sources.kinect_recording import write_kinect_mkv

    pairs, depth_intr, colour_intr, truth = kinect_pairs(4)
    path = tmp_path_factory.mktemp("k4a") / "session.mkv"
    n = write_kinect_mkv(
        path,
        pairs,
        depth_intrinsics=depth_intr,
        colour_intrinsics=colour_intr,
        depth_to_colour=K4A_DEPTH_TO_COLOUR,
    )
    assert n == 4
    return path, pairs, depth_intr, colour_intr, truth


def test_kinect_mkv_is_a_k4a_layout(kinect_recording):
    import av

    path, *_ = kinect_recording
    with av.open(str(path)) as c:
        tracks = {s.metadata.get("title"): s for s in c.streams.video}
        assert tracks["DEPTH"].codec_context.codec_tag == "b16g"
        assert tracks["DEPTH"].codec_context.format.name == "gray16be"
        assert tracks["COLOR"].codec_context.name == "mjpeg"
        assert [a.name for a in c.streams.attachments] == ["calibration.json"]


def test_kinect_mkv_plays_without_the_sdk(kinect_recording):
    path, pairs, depth_intr, colour_intr, _ = kinect_recording
    src = KinectSource(path=path)
    with src:
        raw = list(src.read_raw_depth())
    assert all(np.array_equal(a, p[1]) for a, p in zip(raw, pairs, strict=True))
    with src:
        frames = list(src)
    assert len(frames) == 4
    f = frames[0]
    assert f.colour_intrinsics.fx == pytest.approx(colour_intr.fx, rel=1e-5)
    assert f.colour_intrinsics.cx == pytest.approx(colour_intr.cx, abs=1e-3)
    assert f.depth_intrinsics.cy == pytest.approx(depth_intr.cy, abs=1e-3)
    assert np.allclose(f.depth_to_colour.translation_m, K4A_DEPTH_TO_COLOUR.translation_m)
    # by default the depth stays as recorded; fusion maps the keypoints into it
    assert not f.depth_registered and np.array_equal(f.depth, pairs[0][1])
    assert f.registered_depth().shape == (720, 1280)
    assert np.abs(f.colour_rgb.astype(int) - pairs[0][0].astype(int)).mean() < 6  # MJPEG loss


@pytest.mark.parametrize("register", [True, False])
def test_kinect_registration_puts_depth_where_the_colour_camera_sees_it(kinect_recording, register):
    """Registered by the source, or on demand (``registered_depth``) from the raw track."""
    path, _pairs, _d, colour_intr, truth = kinect_recording
    with KinectSource(path=path, register=register) as src:
        f = src.read()
    assert f.depth_registered == register
    f = dataclasses.replace(f, depth=f.registered_depth(), depth_registered=True)
    pelvis = truth[0][0]
    u, v = colour_intr.project(pelvis[None])[0].round().astype(int)
    patch = f.depth[v - 3 : v + 4, u - 3 : u + 4].astype(float)
    z = np.median(patch[patch > 0]) / 1000
    assert z == pytest.approx(pelvis[2] - 0.09, abs=0.06)  # pelvis surface, ~9 cm in front


def test_kinect_fusion_from_the_raw_track_matches_registered_depth(kinect_recording):
    """Keypoints mapped into the recorded depth (default) against whole-frame registration."""
    path, _pairs, _d, _c, truth = kinect_recording
    err = {}
    for register in (True, False):
        fusion, e = DepthFusion(), []
        with KinectSource(path=path, register=register) as src:
            for f, want in zip(src, truth, strict=True):
                pose = ProjectedTruthPose2D(f.colour_intrinsics, sigma_frac=0.0)
                pose.set_truth(want)
                fused = fusion.fuse(pose.estimate(f.colour_rgb), f, None)
                ok = (fused.source == JointSource.DEPTH) & np.isfinite(want).all(1)
                e.extend(np.linalg.norm(fused.positions_m[ok] - want[ok], axis=1))
        err[register] = (float(np.mean(e)) * 1000, len(e))
    assert err[False][1] >= err[True][1] - 2  # the same joints measured, give or take
    assert err[False][0] < err[True][0] + 3.0 and err[False][0] < 35.0, err


def test_kinect_without_libk4a_reports_clearly(monkeypatch):
    fake = types.ModuleType("pykinect_azure")

    def initialize_libraries(**_):
        sys.exit(1)  # what pykinect-azure does when libk4a is missing

    fake.initialize_libraries = initialize_libraries
    monkeypatch.setitem(sys.modules, "pykinect_azure", fake)
    with pytest.raises(SourceUnavailableError, match="libk4a"):
        load_pykinect()
    with pytest.raises(SourceUnavailableError):
        KinectSource(device_index=0).open()


def test_kinect_live_path_with_the_native_layer_replaced():
    """pykinect-azure's device API, answered by a stand-in for libk4a."""
    params = types.SimpleNamespace(
        fx=600.0, fy=600.0, cx=640.0, cy=360.0, k1=0, k2=0, k3=0, k4=0, k5=0, k6=0, p1=0, p2=0
    )
    colour = np.zeros((720, 1280, 4), np.uint8)
    colour[..., 2] = 200  # BGRA: red
    depth = np.full((720, 1280), 2000, np.uint16)

    class Capture:
        def get_color_image(self):
            return True, colour

        def get_transformed_depth_image(self):
            return True, depth

    class Device:
        calibration = types.SimpleNamespace(color_params=params, depth_params=params)
        closed = False

        def update(self):
            return Capture()

        def close(self):
            Device.closed = True

    pk = types.SimpleNamespace(
        default_configuration=types.SimpleNamespace(),
        K4A_IMAGE_FORMAT_COLOR_BGRA32=3,
        K4A_COLOR_RESOLUTION_720P=1,
        K4A_DEPTH_MODE_NFOV_UNBINNED=2,
        start_device=lambda device_index, config: Device(),
    )
    src = KinectSource(device_index=0, pykinect_loader=lambda: pk)
    with src:
        f = src.read()
    assert Device.closed
    assert f.colour_rgb[0, 0].tolist() == [200, 0, 0]
    assert f.depth_m()[0, 0] == pytest.approx(2.0)
    assert f.colour_intrinsics.fx == 600.0


def test_kinect_hardware_if_attached():
    try:
        from capture_agent.sources.kinect import list_kinect_devices

        devices = list_kinect_devices()
    except SourceUnavailableError:
        devices = []
    if not devices:
        pytest.skip("no Azure Kinect / Femto attached (or no libk4a)")
    with open_source(devices[0].uri) as src:
        assert src.read().has_depth


# -- video ----------------------------------------------------------------------------------
def test_video_file_source(tmp_path):
    import av

    _, frames = synthetic(5, exercise=7, width=320, height=240)
    path = tmp_path / "session.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=30)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for f in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(f.colour_rgb, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    with open_source(f"video:{path}") as src:
        got = list(src)
    assert len(got) == 5
    assert not got[0].has_depth
    assert got[0].colour_rgb.shape == (240, 320, 3)
    assert np.abs(got[2].colour_rgb.astype(int) - frames[2].colour_rgb.astype(int)).mean() < 8
    assert got[0].colour_intrinsics.fx == pytest.approx(160 / np.tan(np.deg2rad(30)))
    assert all(b.timestamp_s > a.timestamp_s for a, b in zip(got, got[1:], strict=False))


# -- synthetic ------------------------------------------------------------------------------
def test_depth_noise_grows_with_the_square_of_distance():
    from capture_agent.synthetic.noise import DepthNoiseModel

    model = DepthNoiseModel(edge_dropout=0.0, random_dropout=0.0)
    rng = np.random.default_rng(0)
    sd = {}
    for z in (1.5, 2.5, 3.5):
        units = model.apply_depth(np.full((120, 160), z), rng)
        sd[z] = float(np.std(units[units > 0] * 0.001))
        assert sd[z] == pytest.approx(float(model.sigma_m(z, 160)), rel=0.15)
    assert sd[3.5] / sd[1.5] == pytest.approx((3.5 / 1.5) ** 2, rel=0.2)


def test_capsule_render_is_exact():
    from capture_agent.sources.base import CameraIntrinsics
    from capture_agent.synthetic.render import _ray_capsule

    intr = CameraIntrinsics(64, 48, 50.0, 50.0, 31.5, 23.5)
    ray = np.array([[0.0, 0.0, 1.0], [0.3, 0.0, 1.0]])
    t = _ray_capsule(ray, np.array([0.0, -0.5, 2.0]), np.array([0.0, 0.5, 2.0]), 0.1)
    assert t[0] == pytest.approx(1.9)  # front surface of the cylinder
    assert np.isinf(t[1])  # misses
    assert intr.deproject(np.array([31.5, 23.5]), 1.9) == pytest.approx([0, 0, 1.9])


def test_synthetic_frames_carry_truth_and_the_documented_camera():
    src, frames = synthetic(2, exercise=7, distance_m=3.0, noise=False)
    f = frames[0]
    assert f.colour_intrinsics.fx == pytest.approx(320 / np.tan(np.deg2rad(69.4 / 2)))
    pelvis = f.ground_truth_m[0]
    assert np.hypot(pelvis[0], pelvis[2]) == pytest.approx(3.0, abs=0.15)
    u, v = f.colour_intrinsics.project(pelvis[None])[0].astype(int)
    assert 0 < f.depth[v, u] / 1000 < pelvis[2]  # the body's surface is in front of its centre
    assert f.depth[5, 5] / 1000 > pelvis[2]  # the wall behind
