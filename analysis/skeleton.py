"""The 3D skeleton sequence every part of telerehab exchanges.

One type crosses every boundary (agent → envelope → server → analysis), so the
format is explicit and versioned: a reader must never guess what an array
means. Positions are metres in the camera frame (x right, y down, z forward,
as RealSense/Kinect report them) unless ``metadata["frame"]`` says otherwise.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import numpy as np

from analysis.errors import SkeletonFormatError, SkeletonValidationError

FORMAT_VERSION = 1
_MAGIC = b"TRSK"
_HEADER = struct.Struct("<4sHI")  # magic, format version, JSON header length

#: Canonical joint set. Adapters map each device's joints onto these names;
#: a joint a device does not track is present with source MISSING.
CANONICAL_JOINTS: tuple[str, ...] = (
    "pelvis",
    "spine_mid",
    "spine_chest",
    "neck",
    "head",
    "nose",
    "left_shoulder",
    "left_elbow",
    "left_wrist",
    "left_hand",
    "right_shoulder",
    "right_elbow",
    "right_wrist",
    "right_hand",
    "left_hip",
    "left_knee",
    "left_ankle",
    "left_heel",
    "left_toe",
    "right_hip",
    "right_knee",
    "right_ankle",
    "right_heel",
    "right_toe",
)
JOINT_INDEX: dict[str, int] = {name: i for i, name in enumerate(CANONICAL_JOINTS)}


class JointSource(IntEnum):
    """Where a joint position came from; analysis weighs uncertainty by it."""

    DEPTH = (
        0  # measured: 2D keypoint deprojected through valid depth, or a depth camera's own tracker
    )
    LIFTED = 1  # estimated by the monocular 2D→3D lifting model
    INTERPOLATED = 2  # filled across a short gap by signal conditioning
    MISSING = 3  # not observed; position is 0 and confidence 0
    MARKER = 4  # derived from optical markers (reference systems only)


@dataclass(frozen=True, eq=False)
class SkeletonSequence:
    """T frames of J joints.

    Arrays: ``timestamps_s`` (T,) float64 seconds, strictly increasing;
    ``positions_m`` (T, J, 3) float32; ``confidence`` (T, J) float32 in [0, 1];
    ``source`` (T, J) uint8 of :class:`JointSource`. ``metadata`` is JSON-able
    (device model, intrinsics, exercise, side, ...).
    """

    joint_names: tuple[str, ...]
    timestamps_s: np.ndarray
    positions_m: np.ndarray
    confidence: np.ndarray
    source: np.ndarray
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def n_frames(self) -> int:
        return int(self.timestamps_s.shape[0])

    @property
    def n_joints(self) -> int:
        return len(self.joint_names)

    def joint(self, name: str) -> np.ndarray:
        """(T, 3) positions of one joint by its canonical name."""
        try:
            return self.positions_m[:, self.joint_names.index(name), :]
        except ValueError:
            raise KeyError(f"joint {name!r} is not in this sequence") from None

    def has_joint(self, name: str) -> bool:
        """True when the joint exists and is observed in at least one frame."""
        if name not in self.joint_names:
            return False
        j = self.joint_names.index(name)
        return bool(np.any(self.source[:, j] != JointSource.MISSING))

    def with_positions(self, positions_m: np.ndarray, **changes: Any) -> SkeletonSequence:
        """A copy with new positions (and optionally other fields), keeping the rest."""
        fields = {
            "joint_names": self.joint_names,
            "timestamps_s": self.timestamps_s,
            "positions_m": np.asarray(positions_m, dtype=np.float32),
            "confidence": self.confidence,
            "source": self.source,
            "metadata": dict(self.metadata),
        }
        fields.update(changes)
        return SkeletonSequence(**fields)

    @classmethod
    def build(
        cls,
        *,
        joint_names: tuple[str, ...] | list[str],
        timestamps_s: np.ndarray,
        positions_m: np.ndarray,
        confidence: np.ndarray | None = None,
        source: np.ndarray | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> SkeletonSequence:
        """Coerce dtypes, fill defaults and validate; the one way in from outside."""
        positions = np.ascontiguousarray(positions_m, dtype=np.float32)
        t = np.ascontiguousarray(timestamps_s, dtype=np.float64)
        shape = positions.shape[:2]
        conf = (
            np.ones(shape, dtype=np.float32)
            if confidence is None
            else np.ascontiguousarray(confidence, dtype=np.float32)
        )
        src = (
            np.full(shape, JointSource.DEPTH, dtype=np.uint8)
            if source is None
            else np.ascontiguousarray(source, dtype=np.uint8)
        )
        seq = cls(tuple(joint_names), t, positions, conf, src, dict(metadata or {}))
        validate_structure(seq)
        return seq

    # -- serialisation -------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """Compact, versioned, exact binary form (compression is the envelope's job)."""
        validate_structure(self)
        header = json.dumps(
            {
                "joint_names": list(self.joint_names),
                "n_frames": self.n_frames,
                "metadata": self.metadata,
            },
            sort_keys=True,
            separators=(",", ":"),
        ).encode("utf-8")
        return b"".join(
            (
                _HEADER.pack(_MAGIC, FORMAT_VERSION, len(header)),
                header,
                self.timestamps_s.astype("<f8", copy=False).tobytes(),
                self.positions_m.astype("<f4", copy=False).tobytes(),
                self.confidence.astype("<f4", copy=False).tobytes(),
                self.source.astype(np.uint8, copy=False).tobytes(),
            )
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> SkeletonSequence:
        """Parse and validate; any malformed input raises SkeletonFormatError."""
        if len(data) < _HEADER.size:
            raise SkeletonFormatError("skeleton payload is shorter than its header")
        magic, version, header_len = _HEADER.unpack_from(data, 0)
        if magic != _MAGIC:
            raise SkeletonFormatError("not a telerehab skeleton payload (bad magic)")
        if version != FORMAT_VERSION:
            raise SkeletonFormatError(
                f"skeleton format version {version} is not supported (expected {FORMAT_VERSION})"
            )
        offset = _HEADER.size
        if header_len > len(data) - offset:
            raise SkeletonFormatError("skeleton header length exceeds the payload")
        try:
            header = json.loads(data[offset : offset + header_len].decode("utf-8"))
            names = tuple(str(n) for n in header["joint_names"])
            n_frames = int(header["n_frames"])
            metadata = header.get("metadata", {})
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise SkeletonFormatError(f"skeleton header is malformed: {exc}") from None
        if not isinstance(metadata, dict):
            raise SkeletonFormatError("skeleton metadata must be an object")
        offset += header_len
        n_joints = len(names)
        if n_frames < 0 or n_joints == 0:
            raise SkeletonFormatError("skeleton must have frames >= 0 and at least one joint")
        sizes = (
            n_frames * 8,
            n_frames * n_joints * 12,
            n_frames * n_joints * 4,
            n_frames * n_joints,
        )
        if len(data) - offset != sum(sizes):
            raise SkeletonFormatError(
                f"skeleton body is {len(data) - offset} bytes, expected {sum(sizes)} "
                f"for {n_frames} frames × {n_joints} joints"
            )
        arrays = []
        for size, dtype in zip(sizes, ("<f8", "<f4", "<f4", "u1"), strict=True):
            arrays.append(
                np.frombuffer(
                    data, dtype=dtype, count=size // np.dtype(dtype).itemsize, offset=offset
                )
            )
            offset += size
        t, pos, conf, src = arrays
        try:
            return cls.build(
                joint_names=names,
                timestamps_s=t.astype(np.float64),
                positions_m=pos.reshape(n_frames, n_joints, 3).astype(np.float32),
                confidence=conf.reshape(n_frames, n_joints).astype(np.float32),
                source=src.reshape(n_frames, n_joints).astype(np.uint8),
                metadata=metadata,
            )
        except SkeletonValidationError as exc:
            raise SkeletonFormatError(f"skeleton payload is invalid: {exc}") from exc

    def equals(self, other: SkeletonSequence) -> bool:
        """Exact equality, bit for bit (NaN-free by validation)."""
        return (
            self.joint_names == other.joint_names
            and self.metadata == other.metadata
            and np.array_equal(self.timestamps_s, other.timestamps_s)
            and np.array_equal(self.positions_m, other.positions_m)
            and np.array_equal(self.confidence, other.confidence)
            and np.array_equal(self.source, other.source)
        )


def validate_structure(seq: SkeletonSequence) -> None:
    """Shapes, dtypes, finiteness and time order: what every consumer relies on.

    Plausibility of the body (bone lengths) is a separate, clinical check in
    ``analysis.quality``; this one only guarantees the arrays are well formed.
    """
    t, pos, conf, src = seq.timestamps_s, seq.positions_m, seq.confidence, seq.source
    n_joints = len(seq.joint_names)
    if n_joints == 0:
        raise SkeletonValidationError("a skeleton needs at least one joint")
    if len(set(seq.joint_names)) != n_joints:
        raise SkeletonValidationError("joint names must be unique")
    if t.ndim != 1:
        raise SkeletonValidationError(f"timestamps_s must be 1-D, got shape {t.shape}")
    n_frames = t.shape[0]
    if pos.shape != (n_frames, n_joints, 3):
        raise SkeletonValidationError(
            f"positions_m must have shape ({n_frames}, {n_joints}, 3), got {pos.shape}"
        )
    for name, arr in (("confidence", conf), ("source", src)):
        if arr.shape != (n_frames, n_joints):
            raise SkeletonValidationError(
                f"{name} must have shape ({n_frames}, {n_joints}), got {arr.shape}"
            )
    if not np.all(np.isfinite(t)):
        raise SkeletonValidationError("timestamps_s contains NaN or infinity")
    if n_frames > 1 and not np.all(np.diff(t) > 0):
        raise SkeletonValidationError("timestamps_s must be strictly increasing")
    if not np.all(np.isfinite(pos)):
        bad = np.argwhere(~np.isfinite(pos))[0]
        raise SkeletonValidationError(
            f"positions_m contains NaN or infinity (frame {bad[0]}, joint {seq.joint_names[bad[1]]})"
        )
    if not np.all(np.isfinite(conf)) or np.any((conf < 0) | (conf > 1)):
        raise SkeletonValidationError("confidence must be finite and within [0, 1]")
    if np.any(src > max(JointSource)):
        raise SkeletonValidationError("source contains an unknown joint-source code")
