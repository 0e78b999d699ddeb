"""Model files shipped inside the package, verified before use.

The agent runs on patients' machines behind firewalls and must never fetch
weights, so every model is a file in this folder with its sha256 recorded in
``checksums.sha256``. A file whose digest differs (truncated copy, tampering,
a model swapped without updating the manifest) is refused rather than run:
a wrong model produces plausible-looking but wrong joint angles.

Provenance and licences: ``LICENSE-BlazePose.txt`` (Apache-2.0, converted by
``tools/convert_blazepose.py``), ``lifter_manifest.json`` (trained by
``tools/train_lifter.py``).
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import onnxruntime

CHECKSUMS_FILE = "checksums.sha256"


class ModelIntegrityError(RuntimeError):
    """A shipped model file is missing, unlisted, or does not match its sha256."""


def models_dir() -> Path:
    """The installed package's model folder (works from a wheel as from the tree)."""
    return Path(str(resources.files(__name__)))


def expected_checksums(directory: Path | None = None) -> dict[str, str]:
    path = (directory or models_dir()) / CHECKSUMS_FILE
    if not path.is_file():
        raise ModelIntegrityError(f"model checksum manifest {path} is missing")
    sums: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            sums[name.strip()] = digest.lower()
    return sums


def read_verified(name: str, directory: Path | None = None) -> bytes:
    """The bytes of model file ``name`` after checking them against the manifest.

    Returns the bytes (not a path) so the checked content is exactly what the
    runtime loads: nothing can change the file between check and use.
    """
    directory = directory or models_dir()
    sums = expected_checksums(directory)
    if name not in sums:
        raise ModelIntegrityError(f"model {name!r} is not listed in {directory / CHECKSUMS_FILE}")
    path = directory / name
    if not path.is_file():
        raise ModelIntegrityError(f"model file {path} is missing")
    data = path.read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != sums[name]:
        raise ModelIntegrityError(
            f"model file {path} fails its checksum (sha256 {actual}, expected {sums[name]}): "
            "refusing to load a modified or corrupted model; reinstall the agent"
        )
    return data


def verify_all(directory: Path | None = None) -> list[str]:
    """Check every file listed in the manifest; returns their names.

    ``capture-agent check`` runs this so a broken installation is reported
    before a session is recorded, not half-way through one.
    """
    names = sorted(expected_checksums(directory))
    for name in names:
        read_verified(name, directory)
    return names


def create_session(
    name: str, *, threads: int = 1, directory: Path | None = None
) -> onnxruntime.InferenceSession:
    """An onnxruntime CPU session over a verified model file.

    Thread spinning is off: on a 2-core home PC the detector and landmark
    sessions (and the lifter) spin against each other otherwise, measured here
    at 39-47 ms per frame with spinning against ~25 ms without.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return ort.InferenceSession(
        read_verified(name, directory), sess_options=options, providers=["CPUExecutionProvider"]
    )
