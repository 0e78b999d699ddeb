import csv
import io
import json
import time
import zipfile

import pytest

from clinic.audit.models import AuditEvent
from clinic.devices.services import device_revoke
from clinic.plans.device_auth import device_request_headers
from clinic.plans.services import plan_exercise_prescribe
from tests.factories import clinic_admin_create, staff_login_verified

PLAN_URL = "/api/v1/devices/plan/"


def _signed(device, key, **kw):
    headers = device_request_headers(
        signing_key=key, method="GET", path=PLAN_URL, device_id=str(device.id), **kw
    )
    return {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}


def test_device_downloads_its_own_plan_by_signature(client, clinic_case):
    device, key = clinic_case["device"], clinic_case["key"]
    plan_exercise_prescribe(actor=clinic_case["therapist"], patient=clinic_case["patient"], exercise="inline_lunge", side="right",
                            sets=3, reps=12, target_rom_deg=110, weekdays=[0, 3])  # fmt: skip
    response = client.get(PLAN_URL, **_signed(device, key))
    assert response.status_code == 200
    body = response.json()
    assert body["patient_id"] == str(clinic_case["patient"].id)
    assert [
        (e["exercise"], e["side"], e["reps"], e["weekdays"], e["target_measure"])
        for e in body["exercises"]
    ] == [("inline_lunge", "right", 12, [0, 3], "knee_flexion")]
    assert "Ada" not in response.content.decode()
    assert AuditEvent.objects.filter(
        action="plan.download", outcome="success", patient_id=clinic_case["patient"].id
    ).exists()


@pytest.mark.parametrize("fault", ["unsigned", "stale", "other_key", "revoked"])
def test_device_plan_request_refused(client, clinic_case, fault):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    device, key = clinic_case["device"], clinic_case["key"]
    headers = {
        "unsigned": {},
        "stale": _signed(device, key, timestamp_s=int(time.time()) - 3600),
        "other_key": _signed(device, Ed25519PrivateKey.generate()),
        "revoked": _signed(device, key),
    }[fault]
    if fault == "revoked":
        device_revoke(actor=clinic_case["patient"].user, device=device, reason="lost")
    response = client.get(PLAN_URL, **headers)
    expected = {
        "unsigned": ("signature_missing", 401),
        "stale": ("stale_request", 401),
        "other_key": ("bad_signature", 401),
        "revoked": ("device_revoked", 403),
    }
    assert (response.json()["code"], response.status_code) == expected[fault]
    assert AuditEvent.objects.filter(action="plan.download", outcome="denied").exists()


def test_exports_csv_fhir_trc_pdf(client, clinic_case):
    staff_login_verified(client, clinic_case["therapist"])
    pid, rec = clinic_case["patient"].id, clinic_case["recordings"][0]
    rows = list(
        csv.DictReader(
            io.StringIO(client.get(f"/portal/patients/{pid}/export/measures.csv").content.decode())
        )
    )
    right_knee = [r for r in rows if r["measure"] == "knee_flexion" and r["side"] == "right"]
    assert len(right_knee) == 5
    bundle = json.loads(client.get(f"/portal/patients/{pid}/export/observations.json").content)
    obs = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["code"]["coding"][0]["code"] == "knee_flexion"
    ]
    assert bundle["type"] == "collection" and obs
    assert (
        obs[0]["valueQuantity"]["code"] == "deg"
        and obs[0]["valueQuantity"]["system"] == "http://unitsofmeasure.org"
    )
    assert obs[0]["bodySite"]["coding"][0]["code"] == "72696002"
    assert obs[0]["referenceRange"][0]["high"]["value"] == 135.0
    trc = client.get(f"/portal/sessions/{rec.id}/export.trc").content.decode().splitlines()
    assert trc[0].startswith("PathFileType\t4") and trc[2].split("\t")[4] == "mm"
    assert len(trc) == 6 + int(trc[2].split("\t")[2])
    pdf = client.get(f"/portal/patients/{pid}/export/report.pdf").content
    assert pdf.startswith(b"%PDF")
    actions = set(AuditEvent.objects.filter(patient_id=pid).values_list("action", flat=True))
    assert {"export.csv", "export.fhir", "export.trc", "export.pdf"} <= actions


def test_patient_downloads_all_own_data(client, clinic_case):
    client.force_login(clinic_case["patient"].user)
    archive = zipfile.ZipFile(io.BytesIO(client.get("/portal/me/export/").content))
    assert {"measures.csv", "observations.fhir.json", "progress-report.pdf"} <= set(
        archive.namelist()
    )


def test_admin_audit_log_filters_verifies_and_exports(
    client, clinic_case, django_assert_max_num_queries
):
    admin = clinic_admin_create()
    staff_login_verified(client, admin)
    response = client.get("/portal/admin/audit/", {"outcome": "success", "action": "mfa"})
    assert response.status_code == 200
    assert {e.outcome for e in response.context["events"]} == {"success"}
    assert all(e.action.startswith("mfa") for e in response.context["events"])
    response = client.get("/portal/admin/audit/", {"verify": "1"})
    assert response.context["verification"].ok
    exported = (
        client.get("/portal/admin/audit/export.csv", {"user": admin.username})
        .content.decode()
        .splitlines()
    )
    assert len(exported) >= 2 and all(admin.username in line for line in exported[1:])
    assert (
        client.get(f"/portal/patients/{clinic_case['patient'].id}/").status_code == 403
    )  # no clinical access
    with django_assert_max_num_queries(15):
        assert client.get("/portal/admin/").status_code == 200
