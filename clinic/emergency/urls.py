from django.urls import path

from clinic.emergency import views

app_name = "emergency"

urlpatterns = [
    path("patients/<uuid:patient_id>/", views.emergency_request, name="request"),
    path("mine/", views.emergency_mine, name="mine"),
    path("grants/<uuid:grant_id>/end/", views.emergency_end, name="end"),
    path("review/", views.emergency_review_list, name="review_list"),
    path("review/<uuid:grant_id>/", views.emergency_review, name="review"),
]
