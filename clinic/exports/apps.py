from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "clinic.exports"
    label = "exports"
    verbose_name = "Exports"
