"""capture-agent devices / check / record, and the transport commands' hook."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest

from analysis.skeleton import SkeletonSequence
from capture_agent.cli import build_parser, main
from tests.capture_agent.source_helpers import DATA

needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="UI-PRMD reference data not present")
SMALL = "synthetic:?exercise=1&width=320&h=240"


def test_devices_lists_cameras_and_says_why_others_cannot_be_asked(capsys):
    assert main(["devices", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert isinstance(out["devices"], list)
    # this machine has no libk4a: the answer says so instead of exiting the process
    assert any("Azure Kinect" in p for p in out["problems"]) or any(
        d["uri"].startswith("kinect://") for d in out["devices"]
    )


def test_transport_commands_are_registered():
    choices = build_parser()._subparsers._group_actions[0].choices
    assert {"devices", "check", "record"} <= set(choices)
    pytest.importorskip("capture_agent.transport.cli")
    assert {"pair", "status"} <= set(choices)


@needs_data
def test_check_advises_stepping_back_when_too_close(capsys):
    rc = main(["check", "--source", "synthetic:?exercise=7&distance=1.4", "--pose2d", "truth",
               "--frames", "3", "--json"])  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert rc == 1 and not out["ok"]
    assert any("Step back" in a for a in out["advice"])
    assert out["findings"]["distance_m"] < 1.5


@needs_data
@pytest.mark.parametrize("registered", [1, 0])
def test_check_passes_a_good_placement(capsys, registered):
    """Also with depth as a RealSense delivers it unaligned (its own imager, 15 mm aside)."""
    rc = main(["check", "--source", f"synthetic:?exercise=7&distance=2.5&registered={registered}",
               "--pose2d", "truth", "--frames", "3", "--json"])  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["ok"], out["advice"]
    assert out["findings"]["distance_m"] == pytest.approx(2.5, abs=0.35)
    assert out["findings"]["depth_coverage"] > 0.5


@needs_data
def test_check_says_when_the_room_is_dark(capsys, monkeypatch):
    import capture_agent.synthetic.render as render

    monkeypatch.setattr(render, "WALL_RGB", (20, 20, 20))
    monkeypatch.setattr(render, "FLOOR_RGB", (15, 15, 15))
    rc = main(["check", "--source", "synthetic:?exercise=7&distance=2.5", "--pose2d", "truth",
               "--frames", "2", "--json"])  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert rc == 1 and any("too dark" in a for a in out["advice"])


@needs_data
def test_record_headless_writes_a_skeleton_file(tmp_path, capsys):
    out = tmp_path / "session.trsk"
    rc = main(["record", "--exercise", "deep_squat", "--source", SMALL, "--headless",
               "--pose2d", "truth", "--lifting", "none", "--max-frames", "40", "--out", str(out)])  # fmt: skip
    assert rc == 0
    text = capsys.readouterr().out
    assert "knee flexion" in text and "repetitions" in text
    seq = SkeletonSequence.from_bytes(out.read_bytes())
    assert seq.n_frames > 30
    assert seq.metadata["exercise"] == "deep_squat"


def test_record_rejects_an_unknown_exercise(capsys):
    rc = main(["record", "--exercise", "juggling", "--source", SMALL, "--headless", "--out", "x"])
    assert rc == 2
    assert "unknown exercise 'juggling'" in capsys.readouterr().err


def test_record_rejects_a_bad_source(capsys):
    rc = main(["record", "--exercise", "deep_squat", "--source", "floppy:0", "--headless"])
    assert rc == 2
    assert "SourceURIError" in capsys.readouterr().err


@needs_data
def test_record_without_out_goes_to_the_outbox_or_says_to_pair(tmp_path, capsys):
    pytest.importorskip("capture_agent.transport.identity")
    rc = main(["record", "--exercise", "deep_squat", "--source", SMALL + "&repeat=1",
               "--headless", "--pose2d", "truth", "--lifting", "none", "--max-frames", "5",
               "--home", str(tmp_path)])  # fmt: skip
    err = capsys.readouterr().err
    assert rc == 2 and "capture-agent pair" in err  # not paired: nothing silently lost


@needs_data
def test_record_seals_the_session_into_the_outbox_of_a_paired_device(tmp_path, capsys):
    identity = pytest.importorskip("capture_agent.transport.identity")
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from capture_agent.transport.outbox import Outbox

    home = tmp_path / "agent"
    home.mkdir()
    identity.device_keys_create(home)
    server_key = X25519PrivateKey.generate().public_key()
    identity.identity_save(
        home=home, server_url="https://clinic.example", device_id=str(uuid.uuid4()),
        patient_id=str(uuid.uuid4()),
        server_public_key=server_key.public_bytes(Encoding.Raw, PublicFormat.Raw),
    )  # fmt: skip
    rc = main(["record", "--exercise", "deep_squat", "--source", SMALL, "--headless",
               "--pose2d", "truth", "--lifting", "none", "--max-frames", "10",
               "--home", str(home)])  # fmt: skip
    assert rc == 0
    assert "sealed into the outbox" in capsys.readouterr().out
    with Outbox(home / "outbox.sqlite3") as outbox:
        items = outbox.items()
    assert len(items) == 1 and items[0].exercise == "deep_squat" and items[0].state == "pending"


# -- a tampered model is refused loudly, never replaced by a fallback ------------------------
@pytest.fixture
def tampered_lifter(tmp_path, monkeypatch) -> Path:
    """A copy of the shipped models with one bit of lifter.onnx flipped, made the package's."""
    import capture_agent.models as models

    folder = tmp_path / "models"
    shutil.copytree(
        models.models_dir(), folder, ignore=shutil.ignore_patterns("*.py", "__pycache__")
    )
    data = bytearray((folder / "lifter.onnx").read_bytes())
    data[len(data) // 2] ^= 0x01
    (folder / "lifter.onnx").write_bytes(bytes(data))
    monkeypatch.setattr(models, "models_dir", lambda: folder)
    return folder / "lifter.onnx"


def test_default_lifter_raises_on_a_tampered_lifter(tampered_lifter):
    from capture_agent.models import ModelIntegrityError
    from capture_agent.pipeline import default_lifter

    with pytest.raises(ModelIntegrityError, match="lifter.onnx fails its checksum"):
        default_lifter()


def test_check_fails_naming_a_tampered_lifter(tampered_lifter, capsys):
    rc = main(["check", "--source", "synthetic:?exercise=7&distance=2.5", "--pose2d", "truth",
               "--frames", "2"])  # fmt: skip
    captured = capsys.readouterr()
    assert rc == 2
    assert f"ModelIntegrityError: model file {tampered_lifter} fails its checksum" in captured.err
    assert "reinstall the agent" in captured.err
    assert "All good" not in captured.out


@needs_data
def test_record_refuses_a_tampered_lifter_instead_of_falling_back(
    tampered_lifter, tmp_path, capsys
):
    out = tmp_path / "session.trsk"
    rc = main(["record", "--exercise", "deep_squat", "--source", SMALL, "--headless",
               "--pose2d", "truth", "--max-frames", "5", "--out", str(out)])  # fmt: skip
    assert rc == 2
    assert f"model file {tampered_lifter} fails its checksum" in capsys.readouterr().err
    assert not out.exists()  # nothing recorded with a substitute 3D model


def test_check_passes_model_verification_on_the_shipped_models():
    from capture_agent.models import verify_all

    assert {"lifter.onnx", "pose_detection.onnx", "pose_landmark_full.onnx"} <= set(verify_all())
