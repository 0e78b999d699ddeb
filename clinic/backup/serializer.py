"""JSON Lines with full-precision times, registered as the ``tjsonl`` serialisation format.

Django's JSON encoder cuts datetimes to milliseconds. Audit rows hash their
microsecond timestamps, so a restored trail would no longer verify: this
encoder keeps every digit. Reading needs nothing special (ISO 8601 parses back exactly).
"""

from __future__ import annotations

import datetime as dt

from django.core.serializers import jsonl
from django.core.serializers.json import DjangoJSONEncoder

FORMAT_NAME = "tjsonl"


class ExactTimeEncoder(DjangoJSONEncoder):
    def default(self, o):
        if isinstance(o, dt.datetime | dt.time):
            return o.isoformat()
        return super().default(o)


class Serializer(jsonl.Serializer):
    def _init_options(self):
        self.options.setdefault("cls", ExactTimeEncoder)
        super()._init_options()


Deserializer = jsonl.Deserializer


def register() -> None:
    from django.core import serializers

    if FORMAT_NAME not in serializers.get_serializer_formats():
        serializers.register_serializer(FORMAT_NAME, __name__)
