from django.urls import include, path

urlpatterns = [
    path("", include("clinic.core.urls")),
    path("accounts/", include("clinic.accounts.urls")),
    path("emergency/", include("clinic.emergency.urls")),
    path("api/v1/", include("clinic.devices.urls")),
    path("api/v1/", include("clinic.recordings.urls")),
    path("api/v1/", include("clinic.plans.urls")),
    path("portal/", include("clinic.portal.urls")),
]

handler403 = "clinic.core.errors.permission_denied"
handler404 = "clinic.core.errors.page_not_found"
handler500 = "clinic.core.errors.server_error"
