"""The ONNX BlazePose models and pipeline reproduce MediaPipe's TFLite originals.

Reference outputs were computed by tools/convert_blazepose.py in the separate
conversion environment (tflite cannot be installed beside the runtime) and
committed in fixtures/blazepose_parity.npz; the person crop in it comes from
COCO val2017 image 785 (CC BY 2.0, flickr.com/photos 6795644157).
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from capture_agent.interfaces import BLAZEPOSE_INDEX
from capture_agent.pose2d import BlazePose
from capture_agent.pose2d.detector import ssd_anchors

FIXTURE = Path(__file__).parent / "fixtures" / "blazepose_parity.npz"
COCO_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "coco-keypoints"
COCO_IMAGE = COCO_DIR / "000000000785.jpg"
COCO_JSON = COCO_DIR / "person_keypoints_785.json"

#: COCO-17 keypoints in BlazePose-33 order, and COCO's per-keypoint OKS sigmas.
COCO_FROM_BLAZEPOSE = [
    BLAZEPOSE_INDEX[n]
    for n in (
        "nose", "left_eye", "right_eye", "left_ear", "right_ear",
        "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
        "left_wrist", "right_wrist", "left_hip", "right_hip",
        "left_knee", "right_knee", "left_ankle", "right_ankle",
    )
]  # fmt: skip
COCO_SIGMAS = (
    np.array([.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87, .89, .89])
    / 10.0
)  # fmt: skip


def object_keypoint_similarity(pred_xy: np.ndarray, gt: np.ndarray, area: float) -> float:
    """COCO OKS of 17 predicted points against a (17, 3) x, y, visibility annotation."""
    labelled = gt[:, 2] > 0
    d2 = np.sum((pred_xy - gt[:, :2]) ** 2, axis=1)
    e = d2 / (2 * area * (2 * COCO_SIGMAS) ** 2)
    return float(np.mean(np.exp(-e[labelled])))


@pytest.fixture(scope="module")
def fixture() -> dict[str, np.ndarray]:
    with np.load(FIXTURE) as data:
        return {k: data[k] for k in data.files}


@pytest.fixture(scope="module")
def pose() -> BlazePose:
    return BlazePose(threads=1)


def test_anchor_layout_matches_the_detector_output() -> None:
    anchors = ssd_anchors()
    assert anchors.shape == (2254, 2)
    assert np.all((anchors > 0) & (anchors < 1))


def test_detector_matches_tflite(pose: BlazePose, fixture: dict) -> None:
    raw, logits = pose.detector.run_raw(fixture["det_input_u8"])
    top = fixture["det_top_indices"]
    # Regressors are in 224-px units: 0.01 is 1/22 of a tensor pixel.
    assert np.abs(raw[top] - fixture["det_ref_boxes_top"]).max() < 0.01
    assert np.abs(logits - fixture["det_ref_scores"]).max() < 0.01


def test_landmark_model_matches_tflite(pose: BlazePose, fixture: dict) -> None:
    lm, flag, _heatmap, world = pose.landmark_model.run_raw(fixture["lm_input_u8"])
    ref = fixture["lm_ref_landmarks"].reshape(39, 5)
    assert np.abs(lm[:, :2] - ref[:, :2]).max() < 0.05  # pixels of the 256-px crop
    assert np.abs(lm - ref).max() < 0.05
    assert np.abs(world.reshape(-1) - fixture["lm_ref_world"]).max() < 1e-3  # metres
    assert abs(flag - float(fixture["lm_ref_flag"][0])) < 1e-3


@pytest.mark.skipif(not COCO_IMAGE.exists(), reason="COCO photo not in ../shared/data")
def test_pipeline_matches_mediapipe_on_real_photo(pose: BlazePose, fixture: dict) -> None:
    """Detector → ROI → crop → landmarks → refinement → un-projection, end to end."""
    image = cv2.cvtColor(cv2.imread(str(COCO_IMAGE)), cv2.COLOR_BGR2RGB)
    pose.reset()
    kp = pose.estimate(image)
    assert kp.found and kp.redetected
    ref = fixture["mp_pipeline_landmarks_px"]
    dist = np.linalg.norm(kp.xy_px - ref[:, :2], axis=1)
    assert np.median(dist) < 1.0
    assert dist.max() < 6.0
    assert np.abs(kp.world_m - fixture["mp_pipeline_world_m"]).max() < 0.02


@pytest.mark.skipif(not COCO_JSON.exists(), reason="COCO annotation not in ../shared/data")
def test_keypoints_on_coco_photo_by_oks(pose: BlazePose) -> None:
    ann = json.loads(COCO_JSON.read_text())["annotations"][0]
    gt = np.array(ann["keypoints"], dtype=np.float64).reshape(17, 3)
    image = cv2.cvtColor(cv2.imread(str(COCO_IMAGE)), cv2.COLOR_BGR2RGB)
    pose.reset()
    kp = pose.estimate(image)
    oks = object_keypoint_similarity(kp.xy_px[COCO_FROM_BLAZEPOSE], gt, ann["area"])
    assert oks > 0.85, oks
    # a left/right swap or a transposed frame would collapse the similarity
    swapped = kp.xy_px[COCO_FROM_BLAZEPOSE][
        [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]
    ]
    assert object_keypoint_similarity(swapped, gt, ann["area"]) < oks - 0.1
