"""Recording API: device ingest (signature-authenticated) and reading a recording's results."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from capture_agent import wire
from clinic.audit.services import audit_event_record
from clinic.recordings.errors import TRUNCATED, IngestRejectedError
from clinic.recordings.ingest import ingest_precheck, recording_ingest
from clinic.recordings.selectors import recording_get_for_user, recordings_quarantined

ErrorSerializer = inline_serializer(
    "IngestError", fields={"code": serializers.CharField(), "message": serializers.CharField()}
)


class EnvelopeParser(BaseParser):
    """Declares the envelope media type to DRF and the schema; the view reads the body itself."""

    media_type = wire.CONTENT_TYPE

    def parse(self, stream, media_type=None, parser_context=None):
        return None


class RecordingIngestOutputSerializer(serializers.Serializer):
    recording_id = serializers.UUIDField()
    state = serializers.CharField()
    created = serializers.BooleanField()


class RecordingIngestApi(APIView):
    """A paired device uploads one sealed recording (the envelope, as bytes).

    Authentication is the envelope's Ed25519 signature by a registered,
    unrevoked device; there is no session or token.  201 new, 200 identical
    retry, 409 same id with different content, 429 (with Retry-After) when the
    device exceeds its uploads per minute; every refusal has a ``code``.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [EnvelopeParser]

    @extend_schema(
        request={wire.CONTENT_TYPE: {"type": "string", "format": "binary"}},
        responses={
            201: RecordingIngestOutputSerializer,
            200: RecordingIngestOutputSerializer,
            400: ErrorSerializer,
            401: ErrorSerializer,
            403: ErrorSerializer,
            409: ErrorSerializer,
            411: ErrorSerializer,
            413: ErrorSerializer,
            415: ErrorSerializer,
            422: ErrorSerializer,
            429: ErrorSerializer,
        },
    )
    def post(self, request):
        try:
            length_header = request.META.get("CONTENT_LENGTH") or ""
            length = int(length_header) if length_header.strip() else None
        except ValueError:
            length = None
        try:
            ingest_precheck(
                content_type=request.META.get("CONTENT_TYPE", ""),
                content_length=length,
                request=request,
            )
            body = request._request.read(length) if length else b""
            if len(body) < (length or 0):
                raise _truncated(request, len(body), length)
            outcome = recording_ingest(body=body, request=request)
        except IngestRejectedError as exc:
            response = Response({"code": exc.code, "message": exc.message}, status=exc.http_status)
            if exc.retry_after_s is not None:
                response["Retry-After"] = str(exc.retry_after_s)
            return response
        return Response(
            RecordingIngestOutputSerializer(
                {
                    "recording_id": outcome.recording.id,
                    "state": outcome.recording.state,
                    "created": outcome.created,
                }
            ).data,
            status=status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK,
        )


def _truncated(request, got: int, expected: int) -> IngestRejectedError:
    message = f"body ended after {got} of {expected} announced bytes"
    audit_event_record(
        action="recording.ingest",
        outcome="denied",
        object_type="recording",
        request=request,
        details={"code": TRUNCATED, "message": message},
    )
    return IngestRejectedError(TRUNCATED, message, 400)


class RecordingMeasureSerializer(serializers.Serializer):
    measure = serializers.CharField()
    side = serializers.CharField(allow_null=True)
    rom_deg = serializers.FloatField()
    uncertainty_deg = serializers.FloatField()


class RecordingDetailApi(APIView):
    """State and results of one recording, for the patient and their care team."""

    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        patient_id = serializers.UUIDField()
        exercise = serializers.CharField()
        recorded_at = serializers.DateTimeField()
        state = serializers.CharField()
        state_code = serializers.CharField()
        measures = serializers.JSONField(allow_null=True)
        analysis_method = serializers.CharField(allow_null=True)

    @extend_schema(
        parameters=[OpenApiParameter("recording_id", str, OpenApiParameter.PATH)],
        responses={200: OutputSerializer, 404: ErrorSerializer},
    )
    def get(self, request, recording_id):
        recording = recording_get_for_user(
            user=request.user, recording_id=recording_id, request=request
        )
        result = getattr(recording, "result", None)
        audit_event_record(
            action="recording.view",
            outcome="success",
            actor=request.user,
            patient_id=recording.patient_id,
            object_type="recording",
            object_id=str(recording.id),
            request=request,
        )
        return Response(
            self.OutputSerializer(
                {
                    "id": recording.id,
                    "patient_id": recording.patient_id,
                    "exercise": recording.exercise,
                    "recorded_at": recording.recorded_at,
                    "state": recording.state,
                    "state_code": recording.state_code,
                    "measures": result.measures if result else None,
                    "analysis_method": result.analysis_method if result else None,
                }
            ).data
        )


class QuarantinedRecordingSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    patient_id = serializers.UUIDField()
    device_id = serializers.UUIDField()
    exercise = serializers.CharField()
    received_at = serializers.DateTimeField()
    state = serializers.CharField()
    state_code = serializers.CharField()
    state_reason = serializers.CharField()
    state_changed_at = serializers.DateTimeField()
    processing_attempts = serializers.IntegerField()


class RecordingQuarantineListApi(APIView):
    """Recordings that were rejected or could not be processed, for clinic administrators.

    Only state, codes and reasons: no skeleton or clinical figure.  Anyone
    else gets 403 (the list is not patient-scoped, so there is nothing to hide
    behind a 404).
    """

    @extend_schema(responses={200: QuarantinedRecordingSerializer(many=True), 403: ErrorSerializer})
    def get(self, request):
        if getattr(request.user, "role", None) != "clinic_admin":
            audit_event_record(
                action="recording.quarantine.list",
                outcome="denied",
                actor=request.user,
                request=request,
            )
            return Response(
                {"code": "forbidden", "message": "only clinic administrators see quarantine"},
                status=status.HTTP_403_FORBIDDEN,
            )
        rows = list(recordings_quarantined(user=request.user)[:500])
        audit_event_record(
            action="recording.quarantine.list",
            outcome="success",
            actor=request.user,
            request=request,
            details={"rows": len(rows)},
        )
        return Response(QuarantinedRecordingSerializer(rows, many=True).data)
