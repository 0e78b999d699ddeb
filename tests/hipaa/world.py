"""A small clinic in which every endpoint is probed: one actor per role and a target patient per relation.

Relations, seen from each actor:

* ``own``   — the acting patient's own record (the acting therapist is on its care team);
* ``care``  — another patient on the acting therapist's care team (not the acting patient);
* ``other`` — a patient of a different therapist only.

URL keyword arguments are filled by ``KWARG_BUILDERS`` from the target patient of the
relation, so any endpoint with a ``patient_id`` (or ``recording_id``, ``device_id``, …)
is probed against own, care-team and foreign data without extra code. An endpoint with
a keyword that has no builder fails the matrix test and names the keyword.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY

from clinic.care.models import Patient
from tests.factories import (
    clinic_admin_create,
    patient_create,
    therapist_create,
    totp_device_create,
)

ROLES = ("anonymous", "patient", "therapist", "clinic_admin")
RELATIONS = ("own", "care", "other")

# Values a test can recognise if they leak into a log line or an error page.
PHI_NAMES = {
    "own": "Ottoline Quarrington",
    "care": "Cassius Verdigris",
    "other": "Oona Farthingale",
}
PHI_BIRTH_DATES = {"own": "1937-02-11", "care": "1941-07-23", "other": "1952-10-30"}


@dataclass
class World:
    therapist: object
    other_therapist: object
    clinic_admin: object
    patients: dict[str, Patient]
    cache: dict = field(default_factory=dict)
    #: URL keyword value -> id of the patient whose data it addresses
    patient_of: dict = field(default_factory=dict)

    @property
    def patient_user(self):
        return self.patients["own"].user

    def actor(self, role: str):
        return {
            "anonymous": None,
            "patient": self.patient_user,
            "therapist": self.therapist,
            "clinic_admin": self.clinic_admin,
        }[role]


def world_build() -> World:
    import datetime as dt

    therapist = therapist_create()
    other_therapist = therapist_create()
    patients = {}
    for relation, team in (
        ("own", [therapist]),
        ("care", [therapist]),
        ("other", [other_therapist]),
    ):
        first, last = PHI_NAMES[relation].split()
        patients[relation] = patient_create(
            display_name=PHI_NAMES[relation],
            date_of_birth=dt.date.fromisoformat(PHI_BIRTH_DATES[relation]),
            therapists=team,
        )
        patients[relation].user.first_name, patients[relation].user.last_name = first, last
        patients[relation].user.save(update_fields=["first_name", "last_name"])
    return World(therapist, other_therapist, clinic_admin_create(), patients)


def client_for(world: World, role: str) -> Client:
    """A logged-in client; staff sessions carry a verified second factor, as after the TOTP page."""
    client = Client()
    user = world.actor(role)
    if user is None:
        return client
    client.force_login(user)
    if user.mfa_required:
        device = totp_device_create(user=user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


# -- URL keyword builders: (world, relation, fresh) -> value ------------------------------


def _patient_id(world: World, relation: str, fresh: bool):
    patient_id = world.patients[relation].id
    world.patient_of[patient_id] = patient_id
    return patient_id


def _device(world: World, relation: str, fresh: bool):
    from tests.clinic.recording_helpers import device_create

    key = ("device", relation)
    if fresh or key not in world.cache:
        world.cache[key] = device_create(patient=world.patients[relation])
    return world.cache[key]


def _device_id(world: World, relation: str, fresh: bool):
    device = _device(world, relation, fresh)[0]
    world.patient_of[device.id] = device.patient_id
    return device.id


def _recording(world: World, relation: str, fresh: bool):
    from clinic.recordings.ingest import recording_ingest
    from clinic.recordings.processing import recording_process
    from tests.clinic.recording_helpers import envelope_for, knee_flexion_session

    key = ("recording", relation)
    if fresh or key not in world.cache:
        device, signing_key = _device(world, relation, False)
        body = envelope_for(device, signing_key, knee_flexion_session(duration_s=6.0, seed=7))
        recording = recording_ingest(body=body).recording
        world.cache[key] = recording_process(recording_id=recording.id)
    return world.cache[key]


def _recording_id(world: World, relation: str, fresh: bool):
    recording = _recording(world, relation, fresh)
    world.patient_of[recording.id] = recording.patient_id
    return recording.id


def _grant_id(world: World, relation: str, fresh: bool):
    """own: a grant the acting therapist holds; care/other: a grant another therapist holds."""
    from clinic.emergency.services import emergency_access_grant

    key = ("grant", relation)
    if fresh or key not in world.cache:
        holder = world.therapist if relation == "own" else therapist_create()
        world.cache[key] = emergency_access_grant(
            therapist=holder,
            patient_id=world.patients["other"].id
            if relation == "own"
            else world.patients[relation].id,
            reason="probing the endpoint matrix with a long enough reason",
        )
    grant = world.cache[key]
    world.patient_of[grant.id] = grant.patient_id
    return grant.id


def _item_id(world: World, relation: str, fresh: bool):
    """A prescription on the target patient, made by a therapist on its care team."""
    from clinic.plans.services import plan_exercise_prescribe

    key = ("item", relation)
    if fresh or key not in world.cache:
        patient = world.patients[relation]
        world.cache[key] = plan_exercise_prescribe(
            actor=world.therapist if relation != "other" else world.other_therapist,
            patient=patient,
            exercise="deep_squat",
            side="",
            sets=3,
            reps=10,
            target_rom_deg=None,
            weekdays=[0, 2, 4],
        )
    item = world.cache[key]
    world.patient_of[item.id] = item.patient_id
    return item.id


def _user_id(world: World, relation: str, fresh: bool):
    """The log-in of the target patient (administrators act on accounts, not records)."""
    return world.patients[relation].user.id


KWARG_BUILDERS: dict[str, Callable[[World, str, bool], object]] = {
    "patient_id": _patient_id,
    "device_id": _device_id,
    "recording_id": _recording_id,
    "grant_id": _grant_id,
    "item_id": _item_id,
    "user_id": _user_id,
}


def target_patient_id(world: World, relation: str) -> uuid.UUID:
    return world.patients[relation].id


def phi_needles(world: World) -> dict[str, str]:
    """Strings that must never appear in a log line or on a refusal page."""
    import datetime as dt

    needles: dict[str, str] = {}
    for relation, name in PHI_NAMES.items():
        for part in name.split():
            needles[f"{relation} patient's name ({part})"] = part
        day = dt.date.fromisoformat(PHI_BIRTH_DATES[relation])
        needles[f"{relation} birth date (ISO)"] = day.isoformat()
        needles[f"{relation} birth date (d/m/Y)"] = day.strftime("%d/%m/%Y")
        needles[f"{relation} birth date (m/d/Y)"] = day.strftime("%m/%d/%Y")
        needles[f"{relation} birth date (words)"] = day.strftime("%B %d, %Y").replace(" 0", " ")
    for (kind, relation), value in world.cache.items():
        if kind != "recording":
            continue
        from clinic.recordings.models import RecordingSkeleton
        from clinic.recordings.storage import skeleton_open

        stored = RecordingSkeleton.objects.filter(recording_id=value.id).first()
        if stored is None:
            continue
        positions = skeleton_open(stored).positions_m.reshape(-1)
        for index in (0, 1, 2, 100, 200):
            needles[f"{relation} skeleton value #{index}"] = f"{float(positions[index]):.5f}"
    return needles
