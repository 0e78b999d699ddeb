"""Transport rules the agent enforces before it sends a byte."""

from __future__ import annotations

from urllib.parse import urlsplit

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class InsecureTransportError(Exception):
    """A server URL that would send patient data in the clear."""


def server_url_check(url: str) -> str:
    """HTTPS everywhere; plain HTTP only to this machine (development and tests).

    Returns the URL without a trailing slash so paths join predictably.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" and host:
        return url.rstrip("/")
    if parts.scheme == "http" and host in LOOPBACK_HOSTS:
        return url.rstrip("/")
    if parts.scheme == "http":
        raise InsecureTransportError(
            f"refusing plain HTTP to {host!r}: use https:// (HTTP is allowed only to 127.0.0.1)"
        )
    raise InsecureTransportError(f"server URL {url!r} must be https://")
