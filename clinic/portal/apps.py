from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "clinic.portal"
    label = "portal"
    verbose_name = "Portals"

    def ready(self) -> None:
        """Processing stores each result's chart figures in its own transaction (see recordings.results)."""
        from clinic.portal.services import session_figures_store
        from clinic.recordings.results import result_stored_hook_register

        result_stored_hook_register(session_figures_store)
