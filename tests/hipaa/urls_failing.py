"""A view that fails with patient data in its exception, to prove the 500 page hides it."""

from django.urls import path

from clinic.urls import handler403, handler404, handler500  # noqa: F401 - same error handlers


def _explode(request):
    raise RuntimeError("could not chart Ottoline Quarrington born 1937-02-11")


urlpatterns = [path("explode/", _explode)]
