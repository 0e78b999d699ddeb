"""Drains the outbox to the clinic over HTTPS, retrying what can be retried.

Every outcome is decided by the server's answer: 201 (new) and 200 (identical
retry) mean delivered; a refusal with a code (bad signature, revoked device,
conflict, ...) is permanent and kept for a person to look at; network errors,
429 and 5xx are transient and retried with exponential back-off and jitter.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx

from capture_agent import wire
from capture_agent.transport.identity import Identity
from capture_agent.transport.outbox import Outbox, OutboxItem, backoff_delay_s
from capture_agent.transport.security import server_url_check

INGEST_PATH = "/api/v1/recordings/"
CHUNK_BYTES = 64 * 1024
_PROGRESS_EVERY_BYTES = 256 * 1024
_TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass
class UploadReport:
    delivered: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class Uploader:
    """One server, one outbox; safe to run next to a recorder adding to the same outbox."""

    def __init__(
        self,
        identity: Identity,
        outbox: Outbox,
        *,
        client: httpx.Client | None = None,
        timeout_s: float = 60.0,
        base_delay_s: float = 2.0,
        max_delay_s: float = 600.0,
        rng: random.Random | None = None,
        on_progress: Callable[[OutboxItem, int], None] | None = None,
    ) -> None:
        self.server_url = server_url_check(identity.server_url)
        self.identity = identity
        self.outbox = outbox
        self.client = client or httpx.Client(timeout=timeout_s, verify=True)
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not secrecy
        self.on_progress = on_progress

    def close(self) -> None:
        self.client.close()

    def _chunks(self, item: OutboxItem, data: bytes) -> Iterator[bytes]:
        last_saved = 0
        for start in range(0, len(data), CHUNK_BYTES):
            chunk = data[start : start + CHUNK_BYTES]
            yield chunk
            sent = start + len(chunk)
            if self.on_progress:
                self.on_progress(item, sent)
            if sent - last_saved >= _PROGRESS_EVERY_BYTES:
                self.outbox.set_progress(item.recording_id, sent)
                last_saved = sent

    def upload_one(self, item: OutboxItem) -> str:
        """Send one recording; returns "delivered", "retrying" or "failed"."""
        data = self.outbox.envelope(item.recording_id)
        try:
            response = self.client.post(
                self.server_url + INGEST_PATH,
                content=self._chunks(item, data),
                headers={"Content-Type": wire.CONTENT_TYPE, "Content-Length": str(len(data))},
            )
        except httpx.HTTPError as exc:
            self._retry(item, f"network: {type(exc).__name__}: {exc}")
            return "retrying"
        if response.status_code in (200, 201):
            self.outbox.mark_uploaded(item.recording_id, server_status=response.status_code)
            return "delivered"
        code, message = _error_of(response)
        if response.status_code in _TRANSIENT_STATUS:
            self._retry(item, f"HTTP {response.status_code} {code}: {message}")
            return "retrying"
        self.outbox.mark_failed(
            item.recording_id,
            error=f"HTTP {response.status_code} {code}: {message}",
            server_status=response.status_code,
        )
        return "failed"

    def _retry(self, item: OutboxItem, error: str) -> None:
        delay = backoff_delay_s(
            item.attempts, base_s=self.base_delay_s, cap_s=self.max_delay_s, rng=self.rng
        )
        self.outbox.mark_retry(item.recording_id, error=error, delay_s=delay)

    def upload_due(self, *, now: float | None = None) -> UploadReport:
        report = UploadReport()
        for item in self.outbox.due(now=now):
            outcome = self.upload_one(item)
            getattr(report, outcome).append(item.recording_id)
        return report

    def run(
        self, *, stop: threading.Event | None = None, until_empty: bool = False, poll_s: float = 1.0
    ) -> None:
        """Keep draining; with ``until_empty`` return once nothing is pending."""
        stop = stop or threading.Event()
        while not stop.is_set():
            self.upload_due()
            counts = self.outbox.counts()
            if until_empty and counts["pending"] == 0:
                return
            next_at = self.outbox.next_attempt_at()
            wait = poll_s if next_at is None else max(0.05, min(poll_s, next_at - time.time()))
            stop.wait(wait)


def _error_of(response: httpx.Response) -> tuple[str, str]:
    try:
        body = response.json()
        return str(body.get("code", "unknown")), str(body.get("message", ""))[:300]
    except (ValueError, AttributeError):
        return "unknown", response.text[:200]
