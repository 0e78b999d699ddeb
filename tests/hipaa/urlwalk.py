"""Every URL pattern of the project, by ``namespace:name`` (or by route when unnamed)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver


@dataclass(frozen=True)
class Endpoint:
    key: str  # "namespace:name", or "route:<route>" for an unnamed pattern
    route: str
    kwargs: tuple[str, ...]


_KWARG = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>")


def _kwargs(route: str) -> tuple[str, ...]:
    return tuple(a or b for a, b in _KWARG.findall(route))


def url_endpoints(urlconf: str | None = None) -> dict[str, Endpoint]:
    found: dict[str, Endpoint] = {}

    def walk(patterns, prefix: str, namespace: str) -> None:
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                inner = namespace
                if entry.namespace:
                    inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
                walk(entry.url_patterns, route, inner)
            elif isinstance(entry, URLPattern):
                if entry.name:
                    key = f"{namespace}:{entry.name}" if namespace else entry.name
                else:
                    key = f"route:{route}"
                found[key] = Endpoint(key, route, _kwargs(route))

    walk(get_resolver(urlconf).url_patterns, "", "")
    return found
