"""From a finished recording to a committed outbox row: the only path data leaves by."""

from __future__ import annotations

import uuid

from analysis import SkeletonSequence
from capture_agent import wire
from capture_agent.transport.identity import Identity
from capture_agent.transport.outbox import Outbox


def recording_seal_and_enqueue(
    *,
    sequence: SkeletonSequence,
    identity: Identity,
    outbox: Outbox,
    exercise: str,
    recording_id: str | None = None,
    created_at: str | None = None,
) -> tuple[str, bool]:
    """Seal for the pinned server key and commit to the outbox; returns (id, newly queued).

    A caller that restarts after a crash passes the same ``recording_id``: a
    recording already in the outbox is not sealed again (sealing is randomised,
    so a second seal would be different bytes under the same id).
    """
    recording_id = recording_id or str(uuid.uuid4())
    if outbox.has(recording_id):
        return recording_id, False
    created_at = created_at or wire.utc_now_iso()
    envelope = wire.seal(
        sequence,
        recording_id=recording_id,
        device_id=identity.device_id,
        patient_id=identity.patient_id,
        exercise=exercise,
        server_public_key=identity.server_public_key,
        signing_key=identity.keys.signing_key,
        created_at=created_at,
    )
    added = outbox.add(
        recording_id=recording_id, envelope=envelope, exercise=exercise, created_at=created_at
    )
    return recording_id, added
