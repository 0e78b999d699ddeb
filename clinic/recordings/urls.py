from django.urls import path

from clinic.recordings import api

app_name = "recordings"

urlpatterns = [
    path("recordings/", api.RecordingIngestApi.as_view(), name="ingest"),
    path(
        "recordings/quarantined/",
        api.RecordingQuarantineListApi.as_view(),
        name="quarantine_list",
    ),
    path("recordings/<uuid:recording_id>/", api.RecordingDetailApi.as_view(), name="detail"),
]
