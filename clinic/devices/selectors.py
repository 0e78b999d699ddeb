"""Reading devices, always through the patient access rule."""

from __future__ import annotations

from django.db.models import QuerySet

from clinic.care.selectors import patient_get_for_user
from clinic.devices.models import Device


def devices_for_patient(*, user, patient_id, request=None) -> QuerySet[Device]:
    """The patient's devices if ``user`` may see the patient (Http404 otherwise, audited)."""
    patient = patient_get_for_user(user=user, patient_id=patient_id, request=request)
    return Device.objects.filter(patient=patient)


def device_get_for_user(*, user, device_id, request=None) -> Device:
    """A device whose patient ``user`` may see; Http404 (audited) for anything else."""
    from django.http import Http404

    device = Device.objects.filter(id=device_id).select_related("patient").first()
    if device is None:
        raise Http404("No such device.")
    patient_get_for_user(user=user, patient_id=device.patient_id, request=request)
    return device


def device_for_ingest(*, device_id: str) -> Device | None:
    return Device.objects.filter(id=device_id).first()
