from django.apps import AppConfig


class RecordingsConfig(AppConfig):
    name = "clinic.recordings"
    label = "recordings"
    verbose_name = "Recordings"
