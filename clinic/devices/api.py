"""Device API: pairing codes (people), pairing (agents), listing and revocation (people)."""

from __future__ import annotations

import base64

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from capture_agent import wire
from clinic.audit.services import audit_event_record
from clinic.care.selectors import patient_get_for_user
from clinic.devices.errors import DeviceError
from clinic.devices.selectors import device_get_for_user, devices_for_patient
from clinic.devices.services import device_pair, device_revoke, pairing_code_create
from clinic.keys.keyring import transport_keys

ErrorSerializer = inline_serializer(
    "ApiError", fields={"code": serializers.CharField(), "message": serializers.CharField()}
)


def error_response(exc: DeviceError) -> Response:
    return Response({"code": exc.code, "message": str(exc)}, status=exc.http_status)


class PairingCodeCreateApi(APIView):
    """A patient, or a therapist on their care team, creates a one-time pairing code."""

    class OutputSerializer(serializers.Serializer):
        code = serializers.CharField()
        expires_at = serializers.DateTimeField()

    @extend_schema(
        request=None, responses={201: OutputSerializer, 404: ErrorSerializer, 429: ErrorSerializer}
    )
    def post(self, request, patient_id):
        patient = patient_get_for_user(user=request.user, patient_id=patient_id, request=request)
        try:
            pairing, code = pairing_code_create(
                actor=request.user, patient=patient, request=request
            )
        except DeviceError as exc:
            return error_response(exc)
        return Response(
            self.OutputSerializer({"code": code, "expires_at": pairing.expires_at}).data,
            status=status.HTTP_201_CREATED,
        )


class DevicePairApi(APIView):
    """The agent registers its public keys with a pairing code and learns the server key."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        code = serializers.CharField(max_length=32)
        label = serializers.CharField(max_length=80, required=False, allow_blank=True)
        signing_public_key = serializers.CharField(max_length=64)
        encryption_public_key = serializers.CharField(max_length=64)

    class OutputSerializer(serializers.Serializer):
        device_id = serializers.UUIDField()
        patient_id = serializers.UUIDField()
        server_public_key = serializers.CharField()
        server_key_id = serializers.CharField()

    @extend_schema(
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            400: ErrorSerializer,
            409: ErrorSerializer,
            429: ErrorSerializer,
        },
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        if not serializer.is_valid():
            return Response(
                {"code": "invalid_request", "message": _first_error(serializer.errors)},
                status=status.HTTP_400_BAD_REQUEST,
            )
        try:
            device = device_pair(request=request, **serializer.validated_data)
        except DeviceError as exc:
            return error_response(exc)
        keys = transport_keys()

        return Response(
            self.OutputSerializer(
                {
                    "device_id": device.id,
                    "patient_id": device.patient_id,
                    "server_public_key": base64.b64encode(
                        wire.public_key_bytes(keys.current.public_key())
                    ).decode(),
                    "server_key_id": keys.current_id,
                }
            ).data,
            status=status.HTTP_201_CREATED,
        )


class DeviceOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    label = serializers.CharField()
    signing_key_id = serializers.CharField()
    paired_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)


class DeviceListApi(APIView):
    @extend_schema(responses={200: DeviceOutputSerializer(many=True), 404: ErrorSerializer})
    def get(self, request, patient_id):
        devices = devices_for_patient(user=request.user, patient_id=patient_id, request=request)

        audit_event_record(
            action="device.list",
            outcome="success",
            actor=request.user,
            patient_id=patient_id,
            object_type="patient",
            object_id=str(patient_id),
            request=request,
        )
        return Response(DeviceOutputSerializer(devices, many=True).data)


class DeviceRevokeApi(APIView):
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=200, required=False, allow_blank=True)

    @extend_schema(
        request=InputSerializer,
        responses={200: DeviceOutputSerializer, 404: ErrorSerializer, 409: ErrorSerializer},
    )
    def post(self, request, device_id):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        device = device_get_for_user(user=request.user, device_id=device_id, request=request)
        try:
            device = device_revoke(
                actor=request.user,
                device=device,
                reason=serializer.validated_data.get("reason", ""),
                request=request,
            )
        except DeviceError as exc:
            return error_response(exc)
        return Response(DeviceOutputSerializer(device).data)


def _first_error(errors: dict) -> str:
    for field, messages in errors.items():
        return f"{field}: {messages[0]}"
    return "invalid request"
