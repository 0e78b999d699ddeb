from django.urls import path

from clinic.exports import views as exports
from clinic.portal import views_admin as admin
from clinic.portal import views_patient as patient
from clinic.portal import views_therapist as therapist

app_name = "portal"

urlpatterns = [
    path("", therapist.index, name="index"),
    path("caseload/", therapist.caseload, name="caseload"),
    path("patients/<uuid:patient_id>/", therapist.patient_page, name="patient"),
    path("patients/<uuid:patient_id>/plan/", therapist.plan_prescribe, name="plan_prescribe"),
    path(
        "patients/<uuid:patient_id>/plan/<uuid:item_id>/stop/",
        therapist.plan_stop,
        name="plan_stop",
    ),
    path("patients/<uuid:patient_id>/events/", therapist.event_add, name="event_add"),
    path("patients/<uuid:patient_id>/export/measures.csv", exports.measures_csv, name="export_csv"),
    path(
        "patients/<uuid:patient_id>/export/observations.json",
        exports.measures_fhir,
        name="export_fhir",
    ),
    path("patients/<uuid:patient_id>/export/report.pdf", exports.report_pdf, name="export_pdf"),
    path("sessions/<uuid:recording_id>/", therapist.session_page, name="session"),
    path("sessions/<uuid:recording_id>/notes/", therapist.note_add, name="note_add"),
    path("sessions/<uuid:recording_id>/export.trc", exports.session_trc, name="export_trc"),
    path("me/", patient.patient_home, name="patient_home"),
    path("me/pairing-code/", patient.pairing_code_new, name="pairing_code_new"),
    path(
        "me/devices/<uuid:device_id>/revoke/", patient.device_revoke_own, name="device_revoke_own"
    ),
    path("me/export/", exports.my_data, name="my_data"),
    path("admin/", admin.admin_users, name="admin_users"),
    path("admin/users/<uuid:user_id>/role/", admin.admin_role_set, name="admin_role_set"),
    path(
        "admin/patients/<uuid:patient_id>/care-team/", admin.admin_care_team, name="admin_care_team"
    ),
    path("admin/devices/", admin.admin_devices, name="admin_devices"),
    path(
        "admin/devices/<uuid:device_id>/revoke/",
        admin.admin_device_revoke,
        name="admin_device_revoke",
    ),
    path("admin/quarantine/", admin.admin_quarantine, name="admin_quarantine"),
    path("admin/audit/", admin.admin_audit, name="admin_audit"),
    path("admin/audit/export.csv", admin.admin_audit_export, name="admin_audit_export"),
]
