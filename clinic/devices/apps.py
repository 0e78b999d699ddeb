from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "clinic.devices"
    label = "devices"
    verbose_name = "Capture devices"
