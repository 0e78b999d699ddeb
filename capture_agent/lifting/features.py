"""The lifter's input encoding, shared by training (tools/train_lifter.py) and the agent.

One function builds the network input from a window of normalised 2D
keypoints, so training and inference cannot drift apart. The encoding removes
what a lifter should not depend on and keeps what it needs:

* translation: keypoints are taken relative to the hip midpoint of the last
  frame (the root), so where the patient stands in the image does not matter;
* image scale: divided by the window's RMS keypoint distance from the root,
  so a near tall patient and a far short one look alike;
* but the root's ray direction and the log of that scale are appended as two
  plus one extra inputs: perspective depends on them (a body seen from below,
  off-axis, or close up foreshortens differently);
* missing keypoints (confidence below ``MIN_CONFIDENCE``) are zeroed and a
  0/1 mask per keypoint per frame tells the network they are missing.
"""

from __future__ import annotations

import numpy as np

from capture_agent.interfaces import BLAZEPOSE_INDEX, ModelInputError

#: BlazePose keypoints the lifter reads, and the canonical joint centres it
#: predicts for them (same order, pairwise). The face and hand points are not
#: used: the marker reference has no matching points for them.
LIFTER_INPUT_KEYPOINTS: tuple[str, ...] = (
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_foot_index",
    "right_foot_index",
)
LIFTER_OUTPUT_JOINTS: tuple[str, ...] = (
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_toe",
    "right_toe",
)
LIFTER_INPUT_INDEX = np.array([BLAZEPOSE_INDEX[n] for n in LIFTER_INPUT_KEYPOINTS])
_LHIP, _RHIP = LIFTER_INPUT_KEYPOINTS.index("left_hip"), LIFTER_INPUT_KEYPOINTS.index("right_hip")
MIN_CONFIDENCE = 0.3
N_EXTRA = 3  # root ray x, root ray y, log scale


def feature_size(window: int, n_keypoints: int = len(LIFTER_INPUT_KEYPOINTS)) -> int:
    return window * n_keypoints * 3 + N_EXTRA


def encode_windows(xy_norm: np.ndarray, confidence: np.ndarray) -> np.ndarray:
    """(N, W, K, 2) normalised coords + (N, W, K) confidence → (N, F) float32 features.

    K is the lifter's own keypoint set (LIFTER_INPUT_KEYPOINTS); select it from
    BlazePose-33 with ``LIFTER_INPUT_INDEX`` first. Rows whose window has no
    confident keypoint at all encode as zeros (the network outputs its mean pose;
    callers should not trust it, see ``OnnxLifter``).
    """
    xy = np.asarray(xy_norm, dtype=np.float64)
    conf = np.asarray(confidence, dtype=np.float64)
    if xy.ndim != 4 or xy.shape[-1] != 2 or conf.shape != xy.shape[:-1]:
        raise ModelInputError(
            f"expected xy (N, W, K, 2) and confidence (N, W, K), got {xy.shape} and {conf.shape}"
        )
    n, w, k, _ = xy.shape
    mask = (conf >= MIN_CONFIDENCE) & np.all(np.isfinite(xy), axis=-1)
    xy = np.where(mask[..., None], xy, 0.0)

    # Root: hip midpoint in the last frame where both hips are seen, else the
    # mean of whatever is seen in the last frame with anything.
    hips = mask[:, :, _LHIP] & mask[:, :, _RHIP]
    hip_mid = 0.5 * (xy[:, :, _LHIP] + xy[:, :, _RHIP])  # (N, W, 2)
    last_hip = np.where(hips.any(1), w - 1 - np.argmax(hips[:, ::-1], axis=1), -1)
    seen = mask.any(2)  # (N, W)
    counts = np.maximum(mask.sum(2, keepdims=True), 1)
    frame_mean = (xy * mask[..., None]).sum(2) / counts  # (N, W, 2)
    last_seen = np.where(seen.any(1), w - 1 - np.argmax(seen[:, ::-1], axis=1), 0)
    rows = np.arange(n)
    root = np.where(
        (last_hip >= 0)[:, None],
        hip_mid[rows, np.maximum(last_hip, 0)],
        frame_mean[rows, last_seen],
    )  # (N, 2)

    rel = (xy - root[:, None, None, :]) * mask[..., None]
    sq = (rel**2).sum(-1)  # (N, W, K)
    scale = np.sqrt(sq.sum((1, 2)) / np.maximum(mask.sum((1, 2)), 1))
    valid = scale > 1e-6
    scale = np.where(valid, scale, 1.0)
    rel = rel / scale[:, None, None, None]

    feats = np.concatenate(
        [
            rel.reshape(n, w * k * 2),
            mask.reshape(n, w * k).astype(np.float64),
            root,
            np.log(scale)[:, None],
        ],
        axis=1,
    )
    feats[~valid] = 0.0
    return feats.astype(np.float32)
