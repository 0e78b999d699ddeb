"""Analysed sessions for portal tests: real synthetic skeletons through the real analysis pipeline.

The ingest and processing path itself is the transport helper's and tested
there; these rows are what that path stores (Recording in state analysed, the
skeleton sealed at rest, RecordingResult from clinic.recordings.analysing).
"""

from __future__ import annotations

import datetime as dt
import uuid

from capture_agent import wire
from clinic.recordings.analysing import session_analyse
from clinic.recordings.models import Recording, RecordingState
from clinic.recordings.results import recording_result_store
from clinic.recordings.storage import skeleton_seal
from tests.clinic.recording_helpers import knee_flexion_session

EXERCISE = (
    "inline_lunge"  # primary: right knee flexion (the synthetic session moves the right knee)
)


def analysed_recording_create(
    *,
    patient,
    device,
    recorded_at: dt.datetime,
    peak_deg: float = 80.0,
    seed: int = 0,
    with_skeleton: bool = True,
) -> Recording:
    sequence = knee_flexion_session(duration_s=9.0, peak_deg=peak_deg, seed=seed)
    method, measures, quality = session_analyse(sequence, exercise=EXERCISE)
    recording = Recording.objects.create(
        id=uuid.uuid4(), device=device, patient=patient, exercise=EXERCISE, recorded_at=recorded_at,
        received_at=recorded_at, state=RecordingState.ANALYSED, state_changed_at=recorded_at, envelope=b"",
        envelope_sha256="0" * 64, envelope_bytes=0, payload_encoding=wire.ENCODING_EXACT, server_key_id="test",
    )  # fmt: skip
    if with_skeleton:
        skeleton_seal(recording, sequence).save(force_insert=True)
    recording_result_store(  # as processing does: with the chart figures, in one transaction
        recording=recording,
        analysis_method=method,
        measures=measures,
        quality=quality,
        processing_s=0.0,
        created_at=recorded_at,
    )
    return recording
