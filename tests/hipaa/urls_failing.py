"""Views that fail with patient data in their exceptions, to prove the 500 page and the logs hide it."""

import uuid

from django.urls import path

from clinic.care.models import Patient
from clinic.urls import handler403, handler404, handler500  # noqa: F401 - same error handlers


def _explode(request):
    raise RuntimeError("could not chart Ottoline Quarrington born 1937-02-11")


def _explode_with_patient(request, patient_id: uuid.UUID):
    """Fails the way a careless service would: the patient's name and birth date in the message."""
    patient = Patient.objects.get(id=patient_id)
    try:
        raise KeyError(patient.display_name)
    except KeyError as exc:
        raise ValueError(
            f"cannot chart {patient.display_name}, born {patient.date_of_birth.isoformat()}"
        ) from exc


urlpatterns = [
    path("explode/", _explode),
    path("explode/<uuid:patient_id>/", _explode_with_patient),
]
