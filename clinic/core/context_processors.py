from django.conf import settings
from django.http import HttpRequest


def session_timeout(request: HttpRequest) -> dict:
    """Lets the layout tell the user how long an idle session lasts."""
    return {"idle_logoff_minutes": settings.IDLE_LOGOFF_S // 60}
