import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinic.audit.models import AuditEvent
from clinic.plans.services import plan_exercise_prescribe
from clinic.portal import alerts
from clinic.portal.models import SessionNote
from clinic.portal.selectors import caseload_for_therapist
from clinic.recordings.models import RecordingResult
from tests.factories import patient_create, staff_login_verified
from tests.portal.builders import analysed_recording_create


@pytest.fixture
def therapist_client(client, clinic_case):
    staff_login_verified(client, clinic_case["therapist"])
    return client


def test_patient_chart_data_is_exactly_the_stored_peaks(therapist_client, clinic_case):
    response = therapist_client.get(f"/portal/patients/{clinic_case['patient'].id}/")
    assert response.status_code == 200
    charts = {c["measure"]: c for c in response.context["chart_data"]["charts"]}
    stored = [
        next(
            m
            for m in RecordingResult.objects.get(recording=r).measures
            if m["measure"] == "knee_flexion" and m["side"] == "right"
        )["session_peak"]["value_deg"]
        for r in clinic_case["recordings"]
    ]
    right = next(s for s in charts["knee_flexion"]["series"] if s["side"] == "right")
    assert [p["y"] for p in right["points"] if p["y"] is not None] == stored
    assert right["shape"] == "triangle" and right["colour"] != "#1f5fbf"
    assert 'id="trend-data"' in response.content.decode()
    assert (
        AuditEvent.objects.filter(
            action="patient.view", patient_id=clinic_case["patient"].id, outcome="success"
        ).count()
        == 1
    )


def test_therapist_gets_404_for_patient_outside_care_team_and_it_is_audited(
    therapist_client, clinic_case
):
    other = clinic_case["other"]
    assert therapist_client.get(f"/portal/patients/{other.id}/").status_code == 404
    assert (
        therapist_client.get(f"/portal/patients/{other.id}/export/measures.csv").status_code == 404
    )
    assert (
        AuditEvent.objects.filter(
            action="patient.access", outcome="denied", patient_id=other.id
        ).count()
        == 2
    )


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


# Middleware (session, user, TOTP device) 3 + transaction 2 + audit 3 (head lock, insert, head
# update) + the page's own reads: caseload 4 (patients with their latest figures, session days,
# plans, latest figures per series), patient page 5 (care-team check, figures, plan, sessions,
# markers).
CASELOAD_QUERIES = 3 + 2 + 3 + 4
PATIENT_PAGE_QUERIES = 3 + 2 + 3 + 5


def test_caseload_and_patient_pages_have_fixed_query_counts(therapist_client, clinic_case):
    therapist, patient = clinic_case["therapist"], clinic_case["patient"]
    one_patient = _queries(therapist_client, "/portal/caseload/")
    few_sessions = _queries(therapist_client, f"/portal/patients/{patient.id}/")
    for k in range(6):  # more patients and sessions must not mean more queries
        other = patient_create(therapists=[therapist])
        for recording_patient in (other, patient):
            analysed_recording_create(
                patient=recording_patient,
                device=clinic_case["device"],
                recorded_at=timezone.now() - dt.timedelta(days=k, hours=1),
                with_skeleton=False,
            )
    plan_exercise_prescribe(actor=therapist, patient=patient, exercise="inline_lunge", side="right", sets=3, reps=10,
                            target_rom_deg=110, weekdays=range(7), start_date=timezone.localdate() - dt.timedelta(days=14))  # fmt: skip
    response = therapist_client.get("/portal/caseload/")
    assert len(response.context["rows"]) == 7
    assert _queries(therapist_client, "/portal/caseload/") == one_patient == CASELOAD_QUERIES
    assert (
        _queries(therapist_client, f"/portal/patients/{patient.id}/")
        == few_sessions
        == PATIENT_PAGE_QUERIES
    )


def test_caseload_alerts_regression_missed_uncertain_and_silent(clinic_case):
    patient, therapist, device = (
        clinic_case["patient"],
        clinic_case["therapist"],
        clinic_case["device"],
    )
    # A drop of 30° after steady sessions is far beyond the detectable change.
    analysed_recording_create(
        patient=patient,
        device=device,
        recorded_at=timezone.now() - dt.timedelta(hours=1),
        peak_deg=45.0,
        seed=9,
    )
    plan_exercise_prescribe(actor=therapist, patient=patient, exercise="inline_lunge", side="right", sets=3, reps=10,
                            target_rom_deg=110, weekdays=range(7), start_date=timezone.localdate() - dt.timedelta(days=14))  # fmt: skip
    device.last_seen_at = timezone.now() - dt.timedelta(days=9)
    device.save(update_fields=["last_seen_at"])
    rows = caseload_for_therapist(user=therapist)
    kinds = {a.kind for a in rows[0].alerts}
    assert {"regression", "missed", "silent"} <= kinds
    assert rows[0].sessions_due == 14 and rows[0].sessions_done == 5
    assert AuditEvent.objects.filter(action="caseload.view", actor=therapist).exists()


def test_mdc_never_below_floor_and_grows_with_uncertainty():
    assert alerts.mdc95_deg(0.5, 0.5) == alerts.MDC_FLOOR_DEG
    assert alerts.mdc95_deg(6.0, 6.0) == pytest.approx(1.96 * (72**0.5))


def test_session_page_shows_reps_and_replay_and_notes_are_encrypted(therapist_client, clinic_case):
    recording = clinic_case["recordings"][0]
    response = therapist_client.get(f"/portal/sessions/{recording.id}/")
    assert response.status_code == 200
    replay = response.context["replay"]
    assert len(replay["positions_mm"]) == len(replay["times_s"]) > 100 and replay["bones"]
    assert any(f.reps for f in response.context["figures"])
    secret = "Patient reports knee pain after set two"
    therapist_client.post(f"/portal/sessions/{recording.id}/notes/", {"text": secret})
    note = SessionNote.objects.get(recording=recording)
    assert secret.encode() not in bytes(note.ciphertext)
    assert secret in therapist_client.get(f"/portal/sessions/{recording.id}/").content.decode()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"exercise": "cartwheel"}, "unknown exercise"),
        ({"side": "up"}, "side must be"),
        ({"sets": 0}, "sets must be"),
        ({"weekdays": []}, "at least one weekday"),
        ({"weekdays": [9]}, "0 \\(Monday\\) to 6"),
        ({"target_rom_deg": 500}, "target ROM"),
    ],
)
def test_prescribe_rejects_bad_input_with_a_named_reason(clinic_case, changes, message):
    from clinic.plans.errors import PlanInputError

    args = {
        "exercise": "inline_lunge",
        "side": "right",
        "sets": 3,
        "reps": 10,
        "target_rom_deg": 100.0,
        "weekdays": [0, 2],
    }
    args.update(changes)
    with pytest.raises(PlanInputError, match=message):
        plan_exercise_prescribe(
            actor=clinic_case["therapist"], patient=clinic_case["patient"], **args
        )


def test_catalogue_targets_are_measures_the_analysis_computes():
    from analysis.measures import MEASURES
    from clinic.plans.catalogue import CATALOGUE

    assert CATALOGUE
    for entry in CATALOGUE.values():
        assert entry.target_measure is None or entry.target_measure in MEASURES, entry.key


def test_caseload_and_session_list_rendered_in_python_escape_and_link(
    therapist_client, clinic_case
):
    patient = clinic_case["patient"]
    patient_create(therapists=[clinic_case["therapist"]], display_name='<b>Bo</b> "Tables"')
    html = therapist_client.get("/portal/caseload/").content.decode()
    assert "&lt;b&gt;Bo&lt;/b&gt; &quot;Tables&quot;" in html and "<b>Bo</b>" not in html
    row = html.split(f'<tr data-patient="{patient.id}">', 1)[1].split("</tr>", 1)[0]
    assert f'href="/portal/patients/{patient.id}/">Ada Example</a>' in row
    last = max(r.recorded_at for r in clinic_case["recordings"])
    assert f'<time datetime="{timezone.localtime(last).isoformat()}">' in row
    # The fixture's latest session has a primary figure over 5°: flagged on every database.
    assert "no plan" in row and 'class="alert alert--uncertain"' in row

    html = therapist_client.get(f"/portal/patients/{patient.id}/").content.decode()
    sessions = html.split('<ul class="session-list">', 1)[1].split("</ul>", 1)[0]
    for recording in clinic_case["recordings"]:
        assert f'<a href="/portal/sessions/{recording.id}/">' in sessions
    assert sessions.count("<li>") == len(clinic_case["recordings"])
