import datetime as dt

import pytest
from django.utils import timezone

from tests.clinic.recording_helpers import device_create
from tests.factories import patient_create, therapist_create
from tests.portal.builders import analysed_recording_create

PEAKS_DEG = (62.0, 66.0, 71.0, 75.0, 79.0)


@pytest.fixture
def clinic_case(db):
    """A therapist with one patient (five analysed sessions, every other day) and one stranger patient."""
    therapist = therapist_create()
    patient = patient_create(therapists=[therapist], display_name="Ada Example")
    other = patient_create(display_name="Other Person")
    device, key = device_create(patient=patient)
    device.last_seen_at = timezone.now()
    device.save(update_fields=["last_seen_at"])
    start = timezone.now() - dt.timedelta(days=10)
    recordings = [
        analysed_recording_create(
            patient=patient,
            device=device,
            recorded_at=start + dt.timedelta(days=2 * k),
            peak_deg=p,
            seed=k,
        )
        for k, p in enumerate(PEAKS_DEG)
    ]
    return {
        "therapist": therapist,
        "patient": patient,
        "other": other,
        "device": device,
        "key": key,
        "recordings": recordings,
    }
