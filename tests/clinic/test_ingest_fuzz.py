"""Property-based fuzzing of the device-facing endpoints: any input gets a 4xx with a code, never a 5xx."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capture_agent import wire
from clinic.recordings.models import Recording
from tests.clinic.recording_helpers import device_create, envelope_for
from tests.factories import patient_create

pytestmark = pytest.mark.django_db

FUZZ_EXAMPLES = 60
_settings = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@_settings
@given(
    body=st.binary(max_size=1024),
    content_type=st.sampled_from([wire.CONTENT_TYPE, "application/json", "text/plain", ""]),
)
def test_ingest_never_answers_5xx_to_random_bodies(client, body: bytes, content_type: str) -> None:
    response = client.post("/api/v1/recordings/", data=body, content_type=content_type)
    assert 400 <= response.status_code < 500
    assert response.json()["code"]
    assert not Recording.objects.exists()


@_settings
@given(
    flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 255)), min_size=1, max_size=4)
)
def test_ingest_refuses_every_mutation_of_a_valid_envelope(client, flips) -> None:
    device, key = _device()
    good = _good_envelope(device, key)
    data = bytearray(good)
    for index, mask in flips:
        data[index % len(data)] ^= mask
    if bytes(data) == good:
        return
    response = client.post("/api/v1/recordings/", data=bytes(data), content_type=wire.CONTENT_TYPE)
    assert 400 <= response.status_code < 500, response.content
    assert not Recording.objects.exists()


@_settings
@given(
    payload=st.dictionaries(
        st.sampled_from(["code", "label", "signing_public_key", "encryption_public_key", "x"]),
        st.one_of(
            st.text(max_size=80), st.integers(), st.none(), st.lists(st.integers(), max_size=3)
        ),
    )
)
def test_pairing_never_answers_5xx(client, payload: dict) -> None:
    response = client.post("/api/v1/devices/pair/", payload, content_type="application/json")
    assert response.status_code in (400, 429), response.content


_cache: dict = {}


def _device():
    if (
        "device" not in _cache
        or not type(_cache["device"][0]).objects.filter(id=_cache["device"][0].id).exists()
    ):
        _cache["device"] = device_create(patient=patient_create())
        _cache.pop("envelope", None)
    return _cache["device"]


def _good_envelope(device, key) -> bytes:
    if "envelope" not in _cache:
        _cache["envelope"] = envelope_for(device, key)
    return _cache["envelope"]
