"""Processing: decrypt, validate, analyse, store; idempotent, audited, nothing dropped."""

from __future__ import annotations

import shutil
import struct
import time

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from capture_agent import wire
from clinic.audit.models import AuditEvent
from clinic.keys.at_rest import AtRestDecryptionError
from clinic.recordings import processing
from clinic.recordings.ingest import recording_ingest
from clinic.recordings.models import Recording, RecordingResult, RecordingSkeleton, RecordingState
from clinic.recordings.processing import recording_process
from clinic.recordings.storage import skeleton_open
from tests.clinic.recording_helpers import (
    device_create,
    envelope_for,
    envelope_from_payload,
    knee_flexion_session,
)
from tests.factories import patient_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def device_and_key():
    return device_create(patient=patient_create())


def _ingest(body: bytes) -> Recording:
    return recording_ingest(body=body).recording


def _transitions(recording_id) -> list[tuple[str, str]]:
    events = AuditEvent.objects.filter(action="recording.state", object_id=str(recording_id))
    return [(e.details["from"], e.details["to"]) for e in events.order_by("sequence")]


def test_valid_recording_is_analysed_with_rom_and_uncertainty(device_and_key) -> None:
    device, key = device_and_key
    seq = knee_flexion_session(peak_deg=90, seed=1)
    recording = _ingest(envelope_for(device, key, seq, exercise="inline_lunge"))
    done = recording_process(recording_id=recording.id)
    assert done.state == RecordingState.ANALYSED, done.state_reason
    result = RecordingResult.objects.get(recording=recording)
    assert result.analysis_method == "analysis.pipeline"
    knee = [m for m in result.measures if m["measure"] == "knee_flexion" and m["side"] == "right"]
    assert knee and knee[0]["primary"], result.measures
    assert 85 <= knee[0]["session_rom"]["value_deg"] <= 95
    assert knee[0]["session_rom"]["uncertainty_deg"] > 0
    assert knee[0]["rep_count"] == 4
    assert _transitions(recording.id) == [("received", "verified"), ("verified", "analysed")]


def test_processing_twice_changes_nothing(device_and_key) -> None:
    device, key = device_and_key
    recording = _ingest(envelope_for(device, key))
    recording_process(recording_id=recording.id)
    again = recording_process(recording_id=recording.id)
    assert again.state == RecordingState.ANALYSED
    assert RecordingResult.objects.count() == 1
    assert len(_transitions(recording.id)) == 2


def test_crash_during_analysis_resumes_from_verified(device_and_key, monkeypatch) -> None:
    device, key = device_and_key
    recording = _ingest(envelope_for(device, key))

    def killed(*args, **kwargs):
        raise SystemExit("worker killed")  # a BaseException: nothing in the service catches it

    monkeypatch.setattr(processing, "session_analyse", killed)
    with pytest.raises(SystemExit):
        recording_process(recording_id=recording.id)
    assert Recording.objects.get(id=recording.id).state == RecordingState.VERIFIED
    monkeypatch.undo()
    assert recording_process(recording_id=recording.id).state == RecordingState.ANALYSED
    assert RecordingResult.objects.count() == 1 and RecordingSkeleton.objects.count() == 1


def _rejected_with(recording: Recording, code: str) -> None:
    done = recording_process(recording_id=recording.id)
    assert done.state == RecordingState.REJECTED
    assert done.state_code == code and done.state_reason
    assert not RecordingSkeleton.objects.filter(recording=recording).exists()
    assert not RecordingResult.objects.filter(recording=recording).exists()
    assert _transitions(recording.id) == [("received", "rejected")]


def test_skeleton_with_nan_is_rejected(device_and_key) -> None:
    device, key = device_and_key
    seq = knee_flexion_session(duration_s=2)
    payload = bytearray(seq.to_bytes())
    header_len = struct.unpack_from("<I", payload, 6)[0]
    struct.pack_into("<f", payload, 10 + header_len + seq.n_frames * 8 + 40, float("nan"))
    body = envelope_from_payload(device, key, bytes(payload), wire.ENCODING_EXACT)
    _rejected_with(_ingest(body), "skeleton_nan")


def test_skeleton_with_impossible_bone_lengths_is_rejected(device_and_key) -> None:
    device, key = device_and_key
    seq = knee_flexion_session(duration_s=2)
    giant = seq.with_positions(seq.positions_m * 10)  # 4.5 m thighs: millimetres sent as cm
    _rejected_with(_ingest(envelope_for(device, key, giant)), "implausible_bone_lengths")


def test_garbage_payload_is_rejected(device_and_key) -> None:
    device, key = device_and_key
    body = envelope_from_payload(device, key, b"TRSQ" + b"\x07" * 64, wire.ENCODING_QUANTISED)
    _rejected_with(_ingest(body), "skeleton_invalid")


def test_missing_server_key_quarantines(device_and_key) -> None:
    device, key = device_and_key
    recording = _ingest(envelope_for(device, key))
    Recording.objects.filter(id=recording.id).update(server_key_id="f" * 32)
    done = recording_process(recording_id=recording.id)
    assert done.state == RecordingState.QUARANTINED and done.state_code == "server_key_unavailable"


def test_bare_measure_exercise_gets_that_measure_alone(device_and_key) -> None:
    device, key = device_and_key
    recording = _ingest(envelope_for(device, key, exercise="knee_flexion"))
    assert recording_process(recording_id=recording.id).state == RecordingState.ANALYSED
    result = RecordingResult.objects.get(recording=recording)
    assert result.analysis_method == "single-measure-v1"
    assert {m["measure"] for m in result.measures} == {"knee_flexion"}
    assert 85 <= result.measures[0]["rom_deg"] <= 95


def test_exercise_unknown_at_processing_time_is_rejected(device_and_key, monkeypatch) -> None:
    """Accepted at ingest, then the analysis library no longer knows it: rejected, kept."""
    device, key = device_and_key
    recording = _ingest(envelope_for(device, key, exercise="knee_flexion"))
    monkeypatch.delitem(processing_measures(), "knee_flexion")
    done = recording_process(recording_id=recording.id)
    assert done.state == RecordingState.REJECTED and done.state_code == "unknown_exercise"
    assert RecordingSkeleton.objects.filter(recording=recording).exists()


def processing_measures() -> dict:
    from clinic.recordings import analysing

    return analysing.MEASURES


def test_analysis_failure_quarantines_with_reason(device_and_key, monkeypatch) -> None:
    device, key = device_and_key
    recording = _ingest(envelope_for(device, key))

    def broken(*args, **kwargs):
        raise ZeroDivisionError("analysis bug")

    monkeypatch.setattr(processing, "session_analyse", broken)
    done = recording_process(recording_id=recording.id)
    assert done.state == RecordingState.QUARANTINED
    assert done.state_code == "processing_error" and "ZeroDivisionError" in done.state_reason
    assert RecordingSkeleton.objects.filter(recording=recording).exists()  # nothing lost


def test_recording_that_keeps_killing_workers_is_quarantined(device_and_key) -> None:
    device, key = device_and_key
    recording = _ingest(envelope_for(device, key))
    Recording.objects.filter(id=recording.id).update(
        processing_attempts=processing.MAX_PROCESSING_ATTEMPTS
    )
    done = recording_process(recording_id=recording.id)
    assert done.state == RecordingState.QUARANTINED
    assert done.state_code == "processing_attempts_exhausted"


def test_database_holds_no_plaintext_skeleton(device_and_key) -> None:
    device, key = device_and_key
    seq = knee_flexion_session(duration_s=4, seed=3)
    recording = _ingest(envelope_for(device, key, seq))
    recording_process(recording_id=recording.id)
    stored = skeleton_open(RecordingSkeleton.objects.get(recording=recording))
    probes = [
        b"TRSK",
        b"TRSQ",
        stored.positions_m[5].astype("<f4").tobytes()[:24],
        stored.timestamps_s[3:6].astype("<f8").tobytes(),
        b"test-synthetic",
    ]
    with connection.cursor() as cursor:
        for table in (
            "recordings_recording",
            "recordings_recordingskeleton",
            "recordings_recordingresult",
        ):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
            for row in cursor.fetchall():
                for value in row:
                    raw = (
                        bytes(value)
                        if isinstance(value, bytes | memoryview)
                        else str(value).encode()
                    )
                    for probe in probes:
                        assert probe not in raw, f"plaintext {probe[:8]!r} found in {table}"


def test_at_rest_blob_is_bound_to_its_recording(device_and_key) -> None:
    device, key = device_and_key
    a = _ingest(envelope_for(device, key))
    b = _ingest(envelope_for(device, key))
    recording_process(recording_id=a.id)
    recording_process(recording_id=b.id)
    sa = RecordingSkeleton.objects.get(recording=a)
    sb = RecordingSkeleton.objects.get(recording=b)
    sb.ciphertext, sb.wrapped_key = sa.ciphertext, sa.wrapped_key
    with pytest.raises(AtRestDecryptionError):
        skeleton_open(sb)


def test_rotate_keys_rewraps_and_nothing_becomes_unreadable(
    device_and_key, tmp_path, settings
) -> None:
    keys = tmp_path / "keys"
    shutil.copytree(settings.TELEREHAB_KEY_DIR, keys)
    with override_settings(TELEREHAB_KEY_DIR=keys):
        device, key = device_and_key
        ids = [
            _ingest(envelope_for(device, key, knee_flexion_session(duration_s=2, seed=s))).id
            for s in range(3)
        ]
        for rid in ids:
            recording_process(recording_id=rid)
        before = {
            rid: skeleton_open(RecordingSkeleton.objects.get(recording_id=rid)) for rid in ids
        }
        old_versions = {s.key_version for s in RecordingSkeleton.objects.all()}
        call_command("rotate_keys")
        new_version = max(old_versions) + 1
        assert set(RecordingSkeleton.objects.values_list("key_version", flat=True)) == {new_version}
        for version in old_versions:  # the old keys can now go: everything reads with the new one
            (keys / f"storage-v{version}.key").unlink()
        for rid in ids:
            after = skeleton_open(RecordingSkeleton.objects.get(recording_id=rid))
            assert after.equals(before[rid])
        assert AuditEvent.objects.filter(action="keys.rotate", details__rewrapped=3).exists()
        # a recording processed after rotation uses the new key
        rid = _ingest(envelope_for(device, key, knee_flexion_session(duration_s=2))).id
        recording_process(recording_id=rid)
        assert RecordingSkeleton.objects.get(recording_id=rid).key_version == new_version


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_real_worker_processes_an_upload(client, celery_worker_process) -> None:
    device, key = device_create(patient=patient_create())
    response = client.post(
        "/api/v1/recordings/", data=envelope_for(device, key), content_type=wire.CONTENT_TYPE
    )
    assert response.status_code == 201
    rid = response.json()["recording_id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = Recording.objects.get(id=rid).state
        if state not in (RecordingState.RECEIVED, RecordingState.VERIFIED):
            break
        time.sleep(0.3)
    assert state == RecordingState.ANALYSED, celery_worker_process.log_text()[-3000:]
    measures = RecordingResult.objects.get(recording_id=rid).measures
    assert any(m["measure"] == "knee_flexion" for m in measures)


def test_transport_key_rotation_keeps_old_envelopes_readable(
    device_and_key, tmp_path, settings
) -> None:
    keys = tmp_path / "keys"
    shutil.copytree(settings.TELEREHAB_KEY_DIR, keys)
    with override_settings(TELEREHAB_KEY_DIR=keys):
        device, key = device_and_key
        old_sealed = envelope_for(device, key, exercise="inline_lunge")
        call_command("rotate_keys", "--transport")
        from clinic.keys.keyring import transport_keys

        assert len(transport_keys().by_id) == 2
        new_sealed = envelope_for(device, key, exercise="inline_lunge")
        assert (
            wire.parse(new_sealed).header.server_key_id
            != wire.parse(old_sealed).header.server_key_id
        )
        for body in (old_sealed, new_sealed):
            rid = _ingest(body).id
            assert recording_process(recording_id=rid).state == RecordingState.ANALYSED
    from clinic.keys.keyring import _transport_keys

    _transport_keys.cache_clear()
