"""Download views: CSV, FHIR bundle, OpenSim .trc, PDF report, and a patient's own data archive."""

from __future__ import annotations

import io
import json
import zipfile

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from analysis.normative import AAOS_NORMATIVE
from clinic.exports.formats import (
    figures_csv,
    figures_fhir_bundle,
    progress_report_pdf,
    skeleton_trc,
)
from clinic.exports.selectors import export_figures, export_session_skeleton
from clinic.plans.catalogue import CATALOGUE
from clinic.portal.access import clinician_or_patient_required, patient_required
from clinic.portal.selectors import patient_for_self, patient_progress


def _download(content, content_type: str, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@clinician_or_patient_required
@require_GET
def measures_csv(request: HttpRequest, patient_id) -> HttpResponse:
    patient, rows = export_figures(
        user=request.user, patient_id=patient_id, export_format="csv", request=request
    )
    return _download(figures_csv(rows), "text/csv; charset=utf-8", f"measures-{patient.id}.csv")


@clinician_or_patient_required
@require_GET
def measures_fhir(request: HttpRequest, patient_id) -> HttpResponse:
    patient, rows = export_figures(
        user=request.user, patient_id=patient_id, export_format="fhir", request=request
    )
    bundle = figures_fhir_bundle(rows, patient_id=patient.id, normative=AAOS_NORMATIVE)
    return _download(
        json.dumps(bundle, indent=1), "application/fhir+json", f"observations-{patient.id}.json"
    )


@clinician_or_patient_required
@require_GET
def session_trc(request: HttpRequest, recording_id) -> HttpResponse:
    recording, sequence = export_session_skeleton(
        user=request.user, recording_id=recording_id, request=request
    )
    name = f"session-{recording.id}.trc"
    return _download(skeleton_trc(sequence, file_name=name), "text/plain; charset=utf-8", name)


def _report(request, patient_id) -> bytes:
    progress = patient_progress(user=request.user, patient_id=patient_id, request=request)
    words = [w for c in progress["charts"] for w in c["trend_words"]]
    plan = [
        f"{CATALOGUE[i.exercise].label if i.exercise in CATALOGUE else i.exercise}"
        f"{' (' + i.side + ')' if i.side else ''}: {i.sets} × {i.reps}, {i.schedule_words}"
        + (f", target {i.target_rom_deg:.0f}°" if i.target_rom_deg else "")
        for i in progress["plan"]
    ]
    patient = progress["patient"]
    return progress_report_pdf(
        title="Range-of-motion progress report",
        patient_line=f"{patient.display_name}, born {patient.date_of_birth:%d %B %Y} · generated {timezone.localdate():%d %B %Y} · "
        f"{len(progress['sessions'])} sessions",
        charts=progress["charts"],
        words=words,
        plan_lines=plan,
    )


@clinician_or_patient_required
@require_GET
def report_pdf(request: HttpRequest, patient_id) -> HttpResponse:
    export_figures(user=request.user, patient_id=patient_id, export_format="pdf", request=request)
    return _download(_report(request, patient_id), "application/pdf", f"progress-{patient_id}.pdf")


@patient_required
@require_GET
def my_data(request: HttpRequest) -> HttpResponse:
    """Everything the clinic holds about the patient's exercise, in open formats (right of access)."""
    patient = patient_for_self(user=request.user)
    _, rows = export_figures(
        user=request.user, patient_id=patient.id, export_format="all_data", request=request
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("measures.csv", figures_csv(rows))
        archive.writestr(
            "observations.fhir.json",
            json.dumps(
                figures_fhir_bundle(rows, patient_id=patient.id, normative=AAOS_NORMATIVE), indent=1
            ),
        )
        archive.writestr("progress-report.pdf", _report(request, patient.id))
        archive.writestr("README.txt", "Your telerehab data: measures.csv (one row per session and measure), "
                         "observations.fhir.json (the same as FHIR R4 Observations), progress-report.pdf.\n")  # fmt: skip
    return _download(buffer.getvalue(), "application/zip", "my-telerehab-data.zip")
