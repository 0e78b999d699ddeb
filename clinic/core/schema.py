"""OpenAPI schema generation that fits the one-view-per-action style.

Each API view nests its own ``InputSerializer`` and ``OutputSerializer`` (HackSoft
style). drf-spectacular names components after the bare class name, so every
``InputSerializer`` would become the same "Input" component and overwrite the
others. Naming a nested serializer after the class that holds it
(``DevicePairApi.InputSerializer`` → ``DevicePairApiInput``) keeps them apart
without every view having to remember a ``ref_name``.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema


class ClinicAutoSchema(AutoSchema):
    def get_serializer_name(self, serializer, direction) -> str:
        return type(serializer).__qualname__.replace("<locals>.", "").replace(".", "")
