from django.urls import path

from clinic.devices import api

app_name = "devices"

urlpatterns = [
    path(
        "patients/<uuid:patient_id>/pairing-codes/",
        api.PairingCodeCreateApi.as_view(),
        name="pairing_code_create",
    ),
    path("patients/<uuid:patient_id>/devices/", api.DeviceListApi.as_view(), name="device_list"),
    path("devices/pair/", api.DevicePairApi.as_view(), name="device_pair"),
    path("devices/<uuid:device_id>/revoke/", api.DeviceRevokeApi.as_view(), name="device_revoke"),
]
