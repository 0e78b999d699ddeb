from django.urls import path

from clinic.plans import api

app_name = "plans"

urlpatterns = [
    path("devices/plan/", api.DevicePlanApi.as_view(), name="device_plan"),
]
