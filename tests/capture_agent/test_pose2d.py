"""BlazePose pipeline behaviour: model integrity, tracking, and staying on the patient."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

import capture_agent
from capture_agent.interfaces import BLAZEPOSE_33, ModelInputError, Pose2D
from capture_agent.models import ModelIntegrityError, create_session, models_dir, read_verified
from capture_agent.pose2d import BlazePose

COCO_IMAGE = (
    Path(__file__).resolve().parents[2].parent
    / "shared" / "data" / "coco-keypoints" / "000000000785.jpg"
)  # fmt: skip
FIXTURE = Path(__file__).parent / "fixtures" / "blazepose_parity.npz"


@pytest.fixture(scope="module")
def pose() -> BlazePose:
    return BlazePose(threads=1)


@pytest.fixture(scope="module")
def person_rgb() -> np.ndarray:
    """A real person: the COCO photo when present, else the committed 256-px crop."""
    if COCO_IMAGE.exists():
        image = cv2.cvtColor(cv2.imread(str(COCO_IMAGE)), cv2.COLOR_BGR2RGB)
        return image[30:400, 260:520]
    with np.load(FIXTURE) as data:
        return data["lm_input_u8"][0:256, 40:220]


def _scene(person: np.ndarray, *, left_h: int | None, right_h: int | None) -> np.ndarray:
    canvas = np.full((480, 640, 3), 90, np.uint8)
    for height, at_left in ((left_h, True), (right_h, False)):
        if height is None:
            continue
        width = int(person.shape[1] * height / person.shape[0])
        copy = cv2.resize(person, (width, height))
        x0 = 20 if at_left else 620 - width
        canvas[470 - height : 470, x0 : x0 + width] = copy
    return canvas


def test_models_come_from_the_installed_package() -> None:
    folder = models_dir()
    assert folder == Path(capture_agent.__file__).parent / "models"
    for name in ("pose_detection.onnx", "pose_landmark_full.onnx"):
        assert len(read_verified(name)) > 1_000_000
    assert (folder / "LICENSE-BlazePose.txt").read_text().count("Apache License") == 1


def test_tampered_model_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    for name in ("checksums.sha256", "pose_detection.onnx"):
        shutil.copy(models_dir() / name, tmp_path / name)
    data = bytearray((tmp_path / "pose_detection.onnx").read_bytes())
    data[len(data) // 2] ^= 0x01  # one flipped bit in the weights
    (tmp_path / "pose_detection.onnx").write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="fails its checksum"):
        create_session("pose_detection.onnx", directory=tmp_path)


def test_missing_or_unlisted_model_is_refused(tmp_path: Path) -> None:
    shutil.copy(models_dir() / "checksums.sha256", tmp_path / "checksums.sha256")
    with pytest.raises(ModelIntegrityError, match="is missing"):
        read_verified("pose_detection.onnx", tmp_path)
    with pytest.raises(ModelIntegrityError, match="not listed"):
        read_verified("other.onnx", tmp_path)


def test_blazepose_satisfies_the_pose2d_interface(pose: BlazePose) -> None:
    assert isinstance(pose, Pose2D)
    assert pose.joint_names == BLAZEPOSE_33


def test_rejects_a_frame_that_is_not_rgb_uint8(pose: BlazePose) -> None:
    with pytest.raises(ModelInputError, match="uint8 RGB"):
        pose.estimate(np.zeros((480, 640, 3), np.float32))
    with pytest.raises(ModelInputError, match="uint8 RGB"):
        pose.estimate(np.zeros((480, 640), np.uint8))


def test_empty_room_reports_nobody(pose: BlazePose) -> None:
    pose.reset()
    kp = pose.estimate(np.full((480, 640, 3), 90, np.uint8))
    assert not kp.found
    assert kp.image_size_px == (640, 480)
    assert np.all(kp.confidence == 0)


def test_tracks_without_the_detector_after_the_first_frame(
    pose: BlazePose, person_rgb: np.ndarray
) -> None:
    scene = _scene(person_rgb, left_h=300, right_h=None)
    pose.reset()
    first = pose.estimate(scene)
    second = pose.estimate(scene)
    assert first.found and first.redetected
    assert second.found and not second.redetected
    assert np.median(np.linalg.norm(first.xy_px - second.xy_px, axis=1)) < 3.0
    # keypoints lie on the pasted person, in full-frame pixels
    assert (
        20 <= np.median(first.xy_px[:, 0]) <= 20 + 300 * person_rgb.shape[1] / person_rgb.shape[0]
    )
    assert first.world_m is not None and first.world_m.shape == (33, 3)
    left_hip, right_hip = first.world_m[23], first.world_m[24]
    assert np.linalg.norm((left_hip + right_hip) / 2) < 0.05  # world landmarks are hip-centred


@pytest.mark.parametrize("patient_on_left", [True, False])
def test_keeps_following_the_patient_when_a_larger_person_appears(
    pose: BlazePose, person_rgb: np.ndarray, patient_on_left: bool
) -> None:
    """Run with the patient on either side: whichever body the detector ranks
    first, one of the two cases fails if the tracker simply takes the top one."""
    small, large = 260, 440
    if patient_on_left:
        alone = _scene(person_rgb, left_h=small, right_h=None)
        both = _scene(person_rgb, left_h=small, right_h=large)
    else:
        alone = _scene(person_rgb, left_h=None, right_h=small)
        both = _scene(person_rgb, left_h=large, right_h=small)

    def on_patient_side(xy_px: np.ndarray) -> bool:
        return bool((np.median(xy_px[:, 0]) < 320) == patient_on_left)

    pose.reset()
    assert on_patient_side(pose.estimate(alone).xy_px)  # session starts: patient alone
    pose.estimate(np.full_like(alone, 90))  # patient briefly lost: tracking must re-detect
    kp = pose.estimate(both)
    assert kp.found and kp.redetected
    assert on_patient_side(kp.xy_px)
    assert on_patient_side(pose.estimate(both).xy_px)  # and keeps tracking them


def test_tracking_follows_a_moving_patient_without_redetecting(
    pose: BlazePose, person_rgb: np.ndarray
) -> None:
    scene = _scene(person_rgb, left_h=300, right_h=None)
    pose.reset()
    start = pose.estimate(scene).xy_px
    redetections = 0
    for step in range(1, 16):
        shift_px = 6 * step
        moved = cv2.warpAffine(
            scene, np.float32([[1, 0, shift_px], [0, 1, 0]]), (640, 480),
            borderMode=cv2.BORDER_REPLICATE,
        )  # fmt: skip
        kp = pose.estimate(moved)
        assert kp.found
        redetections += kp.redetected
        drift = np.median(np.linalg.norm(kp.xy_px - (start + [shift_px, 0]), axis=1))
        assert drift < 4.0, (step, drift)
    assert redetections == 0
