"""Ingest throughput and latency, envelope size, and processing time per session.

Starts a real gunicorn (several workers) on 127.0.0.1 over a fresh database
(PostgreSQL when DATABASE_URL points at one, else a temporary SQLite file),
pairs one device, then a thread-pool load generator POSTs pre-sealed
envelopes of N-minute sessions.  Sizes are measured on real Kinect v2 motion
(UI-PRMD, ../shared/data) tiled to 10 minutes, and on synthetic motion with
2 mm white noise on every joint (a pessimistic case for compression).

    python bench/bench_ingest.py                       # SQLite + embedded broker
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/0 \\
        python bench/bench_ingest.py --workers 4 --requests 120 --concurrency 8

The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from scratch_server import free_port, scratch_database_drop, scratch_database_url  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from analysis import SkeletonSequence  # noqa: E402
from capture_agent import wire  # noqa: E402

UIPRMD = REPO_ROOT.parent / "shared" / "data" / "ui-prmd"
FPS = 30.0


def kinect_session(minutes: float) -> SkeletonSequence | None:
    """Real Kinect v2 skeletons (UI-PRMD, correct repetitions) back to back for ``minutes``."""
    try:
        from analysis.datasets import uiprmd

        reps = [r for r in uiprmd.list_repetitions(UIPRMD) if r.correct]
    except Exception as exc:  # noqa: BLE001 - data not present on this machine
        print(f"UI-PRMD not available ({exc}); Kinect figures skipped")
        return None
    n_frames = int(minutes * 60 * FPS)
    parts, total = [], 0
    for rep in reps:
        seq = uiprmd.kinect_sequence(rep)
        parts.append(seq)
        total += seq.n_frames
        if total >= n_frames:
            break
    first = parts[0]
    return SkeletonSequence.build(
        joint_names=first.joint_names,
        timestamps_s=np.arange(n_frames) / FPS,
        positions_m=np.concatenate([p.positions_m for p in parts])[:n_frames],
        confidence=np.concatenate([p.confidence for p in parts])[:n_frames],
        source=np.concatenate([p.source for p in parts])[:n_frames],
        metadata={"device": "kinect_v2", "side": "right"},
    )


def synthetic_session(minutes: float, seed: int = 0) -> SkeletonSequence:
    from tests.clinic.recording_helpers import knee_flexion_session

    return knee_flexion_session(duration_s=minutes * 60, fps=FPS, seed=seed, noise_m=0.002)


def envelope_figures(label: str, seq: SkeletonSequence) -> dict:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    server, device = X25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    out: dict = {"frames": seq.n_frames, "raw_skeleton_bytes": len(seq.to_bytes())}
    for encoding in wire.PAYLOAD_ENCODINGS:
        t0 = time.perf_counter()
        data = wire.seal(
            seq,
            recording_id=str(uuid.uuid4()),
            device_id=str(uuid.uuid4()),
            patient_id=str(uuid.uuid4()),
            exercise="inline_lunge",
            server_public_key=server.public_key(),
            signing_key=device,
            payload_encoding=encoding,
        )
        t1 = time.perf_counter()
        env = wire.parse(data)
        wire.verify(env, device.public_key())
        t2 = time.perf_counter()
        wire.open_sequence(env, server)
        t3 = time.perf_counter()
        out[encoding] = {
            "envelope_bytes": len(data),
            "seal_s": round(t1 - t0, 3),
            "parse_verify_ms": round((t2 - t1) * 1000, 2),
            "decrypt_decode_s": round(t3 - t2, 3),
        }
        print(
            f"{label:<28} {encoding:<18} {len(data) / 1e6:6.3f} MB  seal {t1 - t0:5.2f} s  "
            f"verify {(t2 - t1) * 1000:6.1f} ms  open {t3 - t2:5.2f} s"
        )
    return out


# -- server under test ---------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--minutes", type=float, default=5.0, help="session length uploaded")
    parser.add_argument("--process", type=int, default=3, help="sessions timed through processing")
    args = parser.parse_args()

    print("== envelope size and crypto cost, 10-minute sessions at 30 fps ==")
    sizes = {}
    kinect10 = kinect_session(10)
    if kinect10 is not None:
        sizes["kinect_v2_uiprmd_10min"] = envelope_figures("Kinect v2 (UI-PRMD) 10 min", kinect10)
    sizes["synthetic_2mm_noise_10min"] = envelope_figures(
        "synthetic, 2 mm noise, 10 min", synthetic_session(10)
    )

    tmp = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    base_url = os.environ.get("DATABASE_URL", "")
    db_url, pg_name = scratch_database_url(base_url, tmp, prefix="bench_ingest")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="clinic.settings.dev",
        TELEREHAB_VAR_DIR=str(tmp),
        TELEREHAB_KEY_DIR=str(tmp / "keys"),
        DATABASE_URL=db_url,
        # One device drives the whole load: lift the per-device limit, or most would be 429.
        TELEREHAB_INGEST_UPLOADS_PER_MINUTE="1000000000",
    )
    server = None
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        t0 = time.perf_counter()
        call_command("migrate", verbosity=0)
        print(f"\nmigrated {connection.vendor} database in {time.perf_counter() - t0:.1f} s")

        from clinic.recordings.processing import recording_process
        from tests.clinic.recording_helpers import device_create
        from tests.factories import patient_create

        device, key = device_create(patient=patient_create())
        session = kinect10 if kinect10 is not None else synthetic_session(10)
        n_frames = int(args.minutes * 60 * FPS)
        upload_seq = SkeletonSequence.build(
            joint_names=session.joint_names,
            timestamps_s=session.timestamps_s[:n_frames],
            positions_m=session.positions_m[:n_frames],
            confidence=session.confidence[:n_frames],
            source=session.source[:n_frames],
            metadata=session.metadata,
        )
        from clinic.keys.keyring import transport_keys

        server_pub = transport_keys().current.public_key()
        t0 = time.perf_counter()
        payload = wire.encode_payload(upload_seq, wire.ENCODING_QUANTISED)
        bodies = [
            wire._seal_payload(
                payload,
                recording_id=str(uuid.uuid4()),
                device_id=str(device.id),
                patient_id=str(device.patient_id),
                exercise="inline_lunge",
                created_at=None,
                payload_encoding=wire.ENCODING_QUANTISED,
                server_public_key=server_pub,
                signing_key=key,
                randomness=None,
            )
            for _ in range(args.requests)
        ]
        print(
            f"sealed {len(bodies)} envelopes of {len(bodies[0]) / 1e6:.3f} MB "
            f"({args.minutes:g}-minute sessions) in {time.perf_counter() - t0:.1f} s"
        )

        port = free_port()
        log = (tmp / "gunicorn.log").open("wb")
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "clinic.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.workers),
                "--timeout",
                "120",
            ],
            cwd=REPO_ROOT,
            env=dict(os.environ),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        import httpx

        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        local = threading.local()

        def post(body: bytes) -> tuple[float, int]:
            client = getattr(local, "client", None)
            if client is None:
                client = local.client = httpx.Client(timeout=120)
            start = time.perf_counter()
            response = client.post(
                url + "/api/v1/recordings/",
                content=body,
                headers={"Content-Type": wire.CONTENT_TYPE},
            )
            return time.perf_counter() - start, response.status_code

        post(bodies[0])  # warm-up: every worker imports lazily on first request
        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            results = list(pool.map(post, bodies[1:]))
        wall = time.perf_counter() - t0
        latencies = sorted(r[0] for r in results)
        codes = {c: sum(1 for _, x in results if x == c) for c in {x for _, x in results}}
        n = len(latencies)
        p50 = latencies[n // 2]
        p99 = latencies[min(n - 1, int(round(0.99 * (n - 1))))]
        throughput = n / wall
        mb_s = sum(len(b) for b in bodies[1:]) / wall / 1e6
        print(
            f"\n== ingest over HTTP: {n} uploads, {args.concurrency} concurrent, "
            f"{args.workers} gunicorn workers, {connection.vendor} =="
        )
        print(f"status codes {codes}")
        print(f"throughput {throughput:.1f} uploads/s ({mb_s:.1f} MB/s)")
        print(
            f"latency p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms"
        )

        from clinic.recordings.models import Recording

        ids = list(Recording.objects.values_list("id", flat=True)[: args.process])
        times = []
        for rid in ids:
            t0 = time.perf_counter()
            state = recording_process(recording_id=rid).state
            times.append(time.perf_counter() - t0)
            print(f"processed {args.minutes:g}-min session {rid} → {state} in {times[-1]:.2f} s")
        ten = wire._seal_payload(
            wire.encode_payload(session, wire.ENCODING_QUANTISED),
            recording_id=str(uuid.uuid4()),
            device_id=str(device.id),
            patient_id=str(device.patient_id),
            exercise="inline_lunge",
            created_at=None,
            payload_encoding=wire.ENCODING_QUANTISED,
            server_public_key=server_pub,
            signing_key=key,
            randomness=None,
        )
        from clinic.recordings.ingest import recording_ingest

        rid10 = recording_ingest(body=ten).recording.id
        t0 = time.perf_counter()
        state10 = recording_process(recording_id=rid10).state
        t10 = time.perf_counter() - t0
        print(f"processed 10-min session → {state10} in {t10:.2f} s")

        figures = {
            "bench": "bench_ingest",
            "database": connection.vendor,
            "broker": "redis" if os.environ.get("REDIS_URL") else "embedded-sqlite",
            "gunicorn_workers": args.workers,
            "concurrency": args.concurrency,
            "uploads": n,
            "session_minutes": args.minutes,
            "upload_envelope_bytes": len(bodies[0]),
            "status_codes": {str(k): v for k, v in codes.items()},
            "throughput_uploads_per_s": round(throughput, 2),
            "throughput_mb_per_s": round(mb_s, 2),
            "latency_p50_ms": round(p50 * 1000, 1),
            "latency_p99_ms": round(p99 * 1000, 1),
            "processing_s_median_per_session": round(statistics.median(times), 2)
            if times
            else None,
            "processing_s_10min_session": round(t10, 2),
            "envelopes_10min": sizes,
            "cpu_count": os.cpu_count(),
            "load_avg_1min": round(os.getloadavg()[0], 2),
        }
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001, S110 - best effort before dropping the database
            pass
        if pg_name:
            scratch_database_drop(base_url, pg_name)
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
