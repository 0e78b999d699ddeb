"""The real URL configuration plus one endpoint nobody reviewed: the policy test must name it."""

from django.http import HttpResponse
from django.urls import path

from clinic.urls import urlpatterns as real_patterns


def _unreviewed(request, patient_id):
    return HttpResponse("")


urlpatterns = [*real_patterns, path("unreviewed/<uuid:patient_id>/", _unreviewed)]
