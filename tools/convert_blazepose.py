"""Reproduce the shipped BlazePose ONNX models from the pinned mediapipe wheel, offline.

Why a separate environment: mediapipe 0.10.21 pins numpy<2 and protobuf<5 and
pulls in jax; tensorflow and tf2onnx are conversion-time tools. None of them
may enter the agent's runtime, which needs only onnxruntime, numpy and OpenCV.

    python3.11 -m venv var/convert-venv
    var/convert-venv/bin/pip install mediapipe==0.10.21 tensorflow-cpu tf2onnx
    var/convert-venv/bin/python tools/convert_blazepose.py

What it does, and why each step is needed:

1. The detector's weights are stored sparse (fp16 behind DENSIFY ops), which
   tf2onnx cannot convert. A TFLite interpreter created WITHOUT the default
   XNNPACK delegate (with it, the densified tensors come out wrong) is run
   once with every tensor preserved; each DENSIFY output is read back dense
   and written into a rewritten flatbuffer as a constant, and the DENSIFY op
   removed. The landmark model converts as it is.
2. ``tf2onnx --tflite`` converts both (opset 17).
3. Parity fixtures: the TFLite originals and the ONNX files are run on the
   same inputs (a person crop of the COCO photo in ../shared/data and a
   letterboxed copy of the whole photo) and the TFLite outputs are saved to
   ``tests/capture_agent/fixtures/blazepose_parity.npz``; the runtime tests
   compare onnxruntime against them without tensorflow. The full MediaPipe
   Pose solution's landmarks on the photo are saved too, so the runtime
   pipeline (ROI, crop, refinement, un-projection) can be checked end to end.
4. ``capture_agent/models/checksums.sha256`` records the sha256 of each ONNX
   file; the loader refuses a file that does not match.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
MODELS_DIR = REPO / "capture_agent" / "models"
FIXTURE = REPO / "tests" / "capture_agent" / "fixtures" / "blazepose_parity.npz"
COCO_IMAGE = REPO.parent / "shared" / "data" / "coco-keypoints" / "000000000785.jpg"
MEDIAPIPE_VERSION = "0.10.21"
OPSET = 17


def _mediapipe_modules() -> Path:
    import mediapipe

    if mediapipe.__version__ != MEDIAPIPE_VERSION:
        raise SystemExit(f"need mediapipe=={MEDIAPIPE_VERSION}, found {mediapipe.__version__}")
    return Path(mediapipe.__file__).parent / "modules"


def _interpreter(model_path: Path, preserve: bool = False):
    import tensorflow as tf

    return tf.lite.Interpreter(
        model_path=str(model_path),
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        experimental_preserve_all_tensors=preserve,
    )


def densify(src: Path, dst: Path) -> int:
    """Rewrite ``src`` with every DENSIFY op replaced by its dense constant output."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    interp = _interpreter(src, preserve=True)
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    interp.set_tensor(inp["index"], np.zeros(inp["shape"], dtype=inp["dtype"]))
    interp.invoke()

    model = flatbuffer_utils.read_model(str(src))
    graph = model.subgraphs[0]
    densify_codes = {
        i
        for i, code in enumerate(model.operatorCodes)
        if max(code.builtinCode, code.deprecatedBuiltinCode) == schema.BuiltinOperator.DENSIFY
    }
    kept, n_densified = [], 0
    for op in graph.operators:
        if op.opcodeIndex not in densify_codes:
            kept.append(op)
            continue
        out_index = int(op.outputs[0])
        dense = np.ascontiguousarray(interp.get_tensor(out_index))
        tensor = graph.tensors[out_index]
        buf = schema.BufferT()
        buf.data = np.frombuffer(dense.tobytes(), dtype=np.uint8).copy()
        model.buffers.append(buf)
        tensor.buffer = len(model.buffers) - 1
        tensor.sparsity = None
        # The sparse source tensor would otherwise still be parsed (and fail to reshape).
        graph.tensors[int(op.inputs[0])].buffer = 0
        n_densified += 1
    graph.operators = kept
    flatbuffer_utils.write_model(model, str(dst))
    return n_densified


def tf2onnx_convert(tflite_path: Path, onnx_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tf2onnx.convert",
            "--tflite",
            str(tflite_path),
            "--output",
            str(onnx_path),
            "--opset",
            str(OPSET),
        ],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"tf2onnx failed on {tflite_path.name}:\n{proc.stderr[-4000:]}")


def canonicalise(onnx_path: Path) -> None:
    """Make the ONNX bytes depend only on the model: tf2onnx numbers its
    constants in a run-dependent order, so the same TFLite file converts to
    different bytes each time. Constants are renamed after their first
    consumer (node order is stable) and stored sorted by that name."""
    import onnx

    model = onnx.load(str(onnx_path))
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    rename: dict[str, str] = {}
    for node in graph.node:
        for slot, name in enumerate(node.input):
            if name in inits and name not in rename:
                rename[name] = f"const__{node.name}__{slot}"
    for node in graph.node:
        for slot, name in enumerate(node.input):
            if name in rename:
                node.input[slot] = rename[name]
    ordered = sorted(inits.values(), key=lambda i: rename.get(i.name, i.name))
    for init in ordered:
        init.name = rename.get(init.name, init.name)
    del graph.initializer[:]
    graph.initializer.extend(ordered)
    graph.doc_string = ""  # tf2onnx writes the (temporary) source path here
    onnx.checker.check_model(model)
    onnx.save(model, str(onnx_path))


def drop_segmentation(onnx_path: Path) -> None:
    """Remove the landmark model's 256×256 segmentation head (output Identity_2).

    The agent never uses the person mask, and onnxruntime computes every
    output of a graph whether asked for it or not; pruning saves a few ms per
    tracked frame without touching any other output.
    """
    import onnx
    import onnx.utils

    model = onnx.load(str(onnx_path))
    keep = [o.name for o in model.graph.output if o.name != "Identity_2"]
    onnx.utils.extract_model(str(onnx_path), str(onnx_path), [model.graph.input[0].name], keep)


def run_tflite(model_path: Path, x: np.ndarray) -> list[np.ndarray]:
    interp = _interpreter(model_path)
    interp.allocate_tensors()
    interp.set_tensor(interp.get_input_details()[0]["index"], x)
    interp.invoke()
    outs = sorted(interp.get_output_details(), key=lambda d: d["name"])
    return [interp.get_tensor(d["index"]).copy() for d in outs]


def run_onnx(model_path: Path, x: np.ndarray) -> list[np.ndarray]:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    names = sorted(o.name for o in sess.get_outputs())
    return sess.run(names, {sess.get_inputs()[0].name: x})


def _letterbox(image_rgb: np.ndarray, size: int) -> np.ndarray:
    import cv2

    h, w = image_rgb.shape[:2]
    scale = size / max(h, w)
    nw, nh = round(w * scale), round(h * scale)
    out = np.zeros((size, size, 3), np.uint8)
    y0, x0 = (size - nh) // 2, (size - nw) // 2
    out[y0 : y0 + nh, x0 : x0 + nw] = cv2.resize(image_rgb, (nw, nh), interpolation=cv2.INTER_AREA)
    return out


def build_fixture(det_tflite: Path, lm_tflite: Path, det_onnx: Path, lm_onnx: Path) -> dict:
    """TFLite reference outputs (and ONNX max differences) on real-photo inputs."""
    import cv2
    import mediapipe as mp

    image_rgb = cv2.cvtColor(cv2.imread(str(COCO_IMAGE)), cv2.COLOR_BGR2RGB)
    det_u8 = _letterbox(image_rgb, 224)
    # Person crop around the annotated COCO box (x 281-499, y 45-391), made square.
    cx, cy, side = 390, 218, 420
    crop = np.zeros((side, side, 3), np.uint8)
    x0, y0 = cx - side // 2, cy - side // 2
    sx0, sy0 = max(0, x0), max(0, y0)
    sx1, sy1 = min(image_rgb.shape[1], x0 + side), min(image_rgb.shape[0], y0 + side)
    crop[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = image_rgb[sy0:sy1, sx0:sx1]
    lm_u8 = cv2.resize(crop, (256, 256), interpolation=cv2.INTER_AREA)

    det_x = (det_u8.astype(np.float32) / 127.5 - 1.0)[None]
    lm_x = (lm_u8.astype(np.float32) / 255.0)[None]
    det_ref = run_tflite(det_tflite, det_x)  # Identity (boxes), Identity_1 (scores)
    lm_ref = run_tflite(lm_tflite, lm_x)  # Identity .. Identity_4
    det_onx = run_onnx(det_onnx, det_x)
    lm_onx = run_onnx(lm_onnx, lm_x)

    top = np.argsort(-det_ref[1][0, :, 0])[:64]
    report = {
        "detector_max_abs_diff_top64_boxes": float(
            np.abs(det_ref[0][0, top] - det_onx[0][0, top]).max()
        ),
        "detector_max_abs_diff_scores": float(np.abs(det_ref[1] - det_onx[1]).max()),
        "landmark_max_abs_diff_px256": float(np.abs(lm_ref[0] - lm_onx[0]).max()),
        "landmark_max_abs_diff_world_m": float(np.abs(lm_ref[4] - lm_onx[3]).max()),
        "landmark_max_abs_diff_heatmap": float(np.abs(lm_ref[3] - lm_onx[2]).max()),
    }

    # MediaPipe's own full pipeline on the photo (static mode: detector every frame).
    with mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1) as pose:
        res = pose.process(image_rgb)
    h, w = image_rgb.shape[:2]
    mp_lm = np.array(
        [[p.x * w, p.y * h, p.visibility] for p in res.pose_landmarks.landmark], np.float32
    )
    mp_world = np.array([[p.x, p.y, p.z] for p in res.pose_world_landmarks.landmark], np.float32)

    np.savez_compressed(
        FIXTURE,
        det_input_u8=det_u8,
        det_top_indices=top.astype(np.int32),
        det_ref_boxes_top=det_ref[0][0, top],
        det_ref_scores=det_ref[1][0, :, 0],
        lm_input_u8=lm_u8,
        lm_ref_landmarks=lm_ref[0][0],
        lm_ref_flag=lm_ref[1][0],
        lm_ref_world=lm_ref[4][0],
        lm_ref_heatmap_peaks=lm_ref[3][0].reshape(-1, 39).max(axis=0),
        mp_pipeline_landmarks_px=mp_lm,
        mp_pipeline_world_m=mp_world,
    )
    return report


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def update_checksums(directory: Path, sums: dict[str, str]) -> None:
    """Set these files' lines in checksums.sha256, keeping other models' lines."""
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
    parser.add_argument("--no-fixture", action="store_true", help="skip the parity fixture")
    args = parser.parse_args()

    modules = _mediapipe_modules()
    det_src = modules / "pose_detection" / "pose_detection.tflite"
    lm_src = modules / "pose_landmark" / "pose_landmark_full.tflite"
    det_onnx = MODELS_DIR / "pose_detection.onnx"
    lm_onnx = MODELS_DIR / "pose_landmark_full.onnx"
    MODELS_DIR.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory() as tmp:
        det_dense = Path(tmp) / "pose_detection_dense.tflite"
        n = densify(det_src, det_dense)
        print(f"detector: densified {n} DENSIFY ops")
        tf2onnx_convert(det_dense, det_onnx)
        tf2onnx_convert(lm_src, lm_onnx)
        drop_segmentation(lm_onnx)
        canonicalise(det_onnx)
        canonicalise(lm_onnx)
        report = {"densified_ops": n}
        if not args.no_fixture:
            FIXTURE.parent.mkdir(parents=True, exist_ok=True)
            report.update(build_fixture(det_src, lm_src, det_onnx, lm_onnx))

    sums = {p.name: sha256(p) for p in (det_onnx, lm_onnx)}
    update_checksums(MODELS_DIR, sums)
    report["sha256"] = sums
    report["source"] = {
        "mediapipe": MEDIAPIPE_VERSION,
        "files": [str(det_src.relative_to(modules)), str(lm_src.relative_to(modules))],
        "source_sha256": {det_src.name: sha256(det_src), lm_src.name: sha256(lm_src)},
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
