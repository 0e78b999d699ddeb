"""Encryption at rest (164.312(a)(2)(iv)): the raw database rows hold no plaintext skeleton
and no clinical free text, read back byte for byte from every table."""

from __future__ import annotations

import zlib

import pytest
from django.db import connection

from capture_agent import wire
from clinic.emergency.services import emergency_access_grant
from clinic.portal.services import session_note_add, session_note_text
from clinic.recordings.ingest import recording_ingest
from clinic.recordings.models import RecordingSkeleton, RecordingState
from clinic.recordings.processing import recording_process
from clinic.recordings.storage import skeleton_open
from tests.clinic.recording_helpers import device_create, envelope_for, knee_flexion_session
from tests.factories import patient_create, therapist_create

pytestmark = pytest.mark.django_db

NOTE = "Zephyrine reports sharp medial joint-line pain at 80 degrees; review the tibial plateau"
REASON = "Quillon Abernethy-Voss seen in A&E after a fall; need the last session results urgently"


def _raw_rows() -> list[tuple[str, bytes]]:
    """Every column of every row of every table, as bytes, straight from the database driver."""
    values: list[tuple[str, bytes]] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - names from introspection
            for row in cursor.fetchall():
                for value in row:
                    if value is None:
                        continue
                    if isinstance(value, memoryview | bytes | bytearray):
                        values.append((table, bytes(value)))
                    else:
                        values.append((table, str(value).encode("utf-8")))
    return values


def _found(needle: bytes, rows: list[tuple[str, bytes]]) -> list[str]:
    return sorted({table for table, value in rows if needle in value})


def test_database_rows_hold_no_plaintext_skeleton_or_clinical_text():
    therapist = therapist_create()
    patient = patient_create(therapists=[therapist])
    device, key = device_create(patient=patient)
    sequence = knee_flexion_session(duration_s=6.0, seed=11)
    recording = recording_ingest(body=envelope_for(device, key, sequence)).recording
    recording = recording_process(recording_id=recording.id)
    assert recording.state == RecordingState.ANALYSED
    note = session_note_add(author=therapist, recording=recording, text=NOTE)
    emergency_access_grant(therapist=therapist_create(), patient_id=patient.id, reason=REASON)

    stored = RecordingSkeleton.objects.get(recording=recording)
    decrypted = skeleton_open(stored)  # what the server decrypted and keeps
    exact = wire.encode_payload(decrypted, wire.ENCODING_EXACT)
    quantised = wire.encode_payload(sequence, wire.ENCODING_QUANTISED)
    needles = {
        "float32 positions": decrypted.positions_m.astype("<f4").tobytes()[:96],
        "float64 timestamps": decrypted.timestamps_s.astype("<f8").tobytes()[8:72],
        "exact payload": exact[:64],
        "compressed exact payload": zlib.compress(exact, 6)[:64],
        "quantised payload": quantised[:64],
        "skeleton header": b'"joint_names"',
        "note text": NOTE[:40].encode(),
        "note word": b"tibial plateau",
        "emergency reason": REASON[:40].encode(),
        "emergency reason word": b"Abernethy-Voss",
    }
    rows = _raw_rows()
    assert len(rows) > 100  # the walk really read the database
    leaks = {name: _found(needle, rows) for name, needle in needles.items()}
    assert {name: tables for name, tables in leaks.items() if tables} == {}
    # …and yet everything is there, readable with the keys.
    assert decrypted.equals(wire.quantise(sequence))
    assert session_note_text(note) == NOTE


def test_the_raw_walk_would_see_plaintext_if_it_were_there():
    """Guard against a walk that can never fail: plaintext put in a row is found."""
    patient = patient_create(display_name="Plaintext Sentinel Person")
    rows = _raw_rows()
    assert _found(b"Plaintext Sentinel Person", rows) == ["care_patient"]
    assert patient.id
