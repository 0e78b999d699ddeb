from django.apps import AppConfig


class BackupConfig(AppConfig):
    name = "clinic.backup"
    label = "backup"
