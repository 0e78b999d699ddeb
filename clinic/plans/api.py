"""The capture agent downloads its patient's plan, authenticated by its device signature."""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.audit.services import audit_event_record
from clinic.plans.device_auth import device_request_authenticate
from clinic.plans.errors import DeviceRequestError
from clinic.plans.selectors import plan_document

PlanErrorSerializer = inline_serializer(
    "PlanError", fields={"code": serializers.CharField(), "message": serializers.CharField()}
)


class PlanExerciseOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    exercise = serializers.CharField()
    label = serializers.CharField()
    side = serializers.CharField(allow_null=True)
    sets = serializers.IntegerField()
    reps = serializers.IntegerField()
    target_measure = serializers.CharField(allow_null=True)
    target_label = serializers.CharField(allow_null=True)
    target_rom_deg = serializers.FloatField(allow_null=True)
    weekdays = serializers.ListField(child=serializers.IntegerField(min_value=0, max_value=6))
    start_date = serializers.DateField()


class DevicePlanOutputSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    patient_id = serializers.UUIDField()
    generated_at = serializers.DateTimeField()
    exercises = PlanExerciseOutputSerializer(many=True)


class DevicePlanApi(APIView):
    """GET the plan of the device's own patient. Signed with the device's Ed25519 key
    (headers X-Telerehab-Device, X-Telerehab-Time, X-Telerehab-Signature); no session."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        responses={
            200: DevicePlanOutputSerializer,
            401: PlanErrorSerializer,
            403: PlanErrorSerializer,
        }
    )
    def get(self, request):
        try:
            device = device_request_authenticate(meta=request.META, method="GET", path=request.path)
        except DeviceRequestError as exc:
            audit_event_record(
                action="plan.download",
                outcome="denied",
                object_type="device",
                object_id=request.META.get("HTTP_X_TELEREHAB_DEVICE", "")[:100],
                request=request,
                details={"code": exc.code},
            )
            return Response({"code": exc.code, "message": str(exc)}, status=exc.http_status)
        with transaction.atomic():
            document = plan_document(patient_id=device.patient_id)
            audit_event_record(
                action="plan.download",
                outcome="success",
                patient_id=device.patient_id,
                object_type="device",
                object_id=str(device.id),
                request=request,
                details={"exercises": len(document["exercises"])},
            )
        return Response(DevicePlanOutputSerializer(document).data)
