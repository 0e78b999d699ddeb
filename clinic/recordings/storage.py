"""The decrypted skeleton at rest: compressed, then encrypted under the current storage key."""

from __future__ import annotations

import zlib

from django.utils import timezone

from analysis import SkeletonSequence
from capture_agent import wire
from clinic.keys.at_rest import SealedBlob, blob_open, blob_seal
from clinic.recordings.models import Recording, RecordingSkeleton

PURPOSE = "recording-skeleton"


def skeleton_seal(recording: Recording, sequence: SkeletonSequence) -> RecordingSkeleton:
    """An unsaved RecordingSkeleton holding ``sequence`` encrypted for this recording only."""
    payload = wire.encode_payload(sequence, wire.ENCODING_EXACT)
    blob = blob_seal(zlib.compress(payload, 6), owner=str(recording.id), purpose=PURPOSE)
    duration = (
        float(sequence.timestamps_s[-1] - sequence.timestamps_s[0]) if sequence.n_frames else 0.0
    )
    return RecordingSkeleton(
        recording=recording,
        key_version=blob.key_version,
        wrapped_key=blob.wrapped_key,
        ciphertext=blob.ciphertext,
        payload_encoding=wire.ENCODING_EXACT,
        n_frames=sequence.n_frames,
        duration_s=duration,
        created_at=timezone.now(),
    )


def skeleton_open(stored: RecordingSkeleton) -> SkeletonSequence:
    blob = SealedBlob(stored.key_version, bytes(stored.wrapped_key), bytes(stored.ciphertext))
    payload = zlib.decompress(blob_open(blob, owner=str(stored.recording_id), purpose=PURPOSE))
    return wire.decode_payload(payload, stored.payload_encoding)
