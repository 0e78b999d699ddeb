"""p95 server time of the therapist's caseload and patient pages on a large clinic.

Builds PATIENTS patients × SESSIONS analysed sessions (results in the analysis
pipeline's format, one per session, with the figures read model filled) in a
fresh test database, then times GET /portal/caseload/ and /portal/patients/<id>/
through Django's test client (server time: view, queries, template; no network).
Each therapist has CASELOAD patients; each patient has a plan in force and
misses about one daily session in ten. Uses DATABASE_URL (PostgreSQL for the
figure the issue asks for). --keep-db builds once into test_telerehab_bench and
reuses it (for profiling). Last line: one JSON object.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
      python bench/bench_portal.py --patients 1000 --sessions 100 --requests 60
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings.test")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--caseload", type=int, default=50)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument(
        "--keep-db",
        action="store_true",
        help="build into test_telerehab_bench once and reuse it on later runs (for profiling; "
        "drop it afterwards with: dropdb -h 127.0.0.1 -U postgres test_telerehab_bench)",
    )
    args = parser.parse_args()
    if args.keep_db:
        os.environ["TELEREHAB_TEST_RUN_ID"] = "bench"

    import django

    django.setup()
    import numpy as np
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from clinic.accounts.models import Role, User
    from clinic.care.models import Patient
    from tests.factories import staff_login_verified

    # Not setup_test_environment(): it instruments every template render for the
    # test client, which a production server does not pay for.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    old_name = connection.creation.create_test_db(
        verbosity=0, autoclobber=True, keepdb=args.keep_db, serialize=False
    )
    try:
        if args.keep_db and _built_matches(args):
            print(f"reusing {connection.settings_dict['NAME']} ({connection.vendor})")
        else:
            if args.keep_db:  # kept from other arguments: start again from empty tables
                from django.core.management import call_command

                call_command("flush", interactive=False, verbosity=0)
            built = time.perf_counter()
            _build(args)
            build_s = time.perf_counter() - built
            print(
                f"built {args.patients} patients × {args.sessions} sessions in {build_s:.0f} s ({connection.vendor})"
            )
        with connection.cursor() as cursor:
            # Steady state, as autovacuum leaves a table soon after a bulk load: planner
            # statistics, and the visibility map that lets index-only scans skip the heap.
            cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
        therapist = User.objects.filter(role=Role.THERAPIST).order_by("date_joined", "id").first()
        client = Client()
        staff_login_verified(client, therapist)
        mine = list(
            Patient.objects.filter(care_team__therapist=therapist).values_list("id", flat=True)
        )

        cpu_ms: dict[str, list[float]] = {"caseload": [], "patient": []}

        def timed(url: str, kind: str = "caseload") -> float:
            t0, c0 = time.perf_counter(), time.process_time()
            response = client.get(url)
            elapsed = (time.perf_counter() - t0) * 1000.0
            cpu_ms[kind].append((time.process_time() - c0) * 1000.0)
            assert response.status_code == 200, (url, response.status_code)
            return elapsed

        timed("/portal/caseload/")  # warm
        if os.environ.get("BENCH_PROFILE"):
            import cProfile
            import pstats

            for url in ("/portal/caseload/", f"/portal/patients/{mine[0]}/"):
                profile = cProfile.Profile()
                profile.runcall(client.get, url)
                pstats.Stats(profile).sort_stats("tottime").print_stats(18)
            from django.db import reset_queries
            from django.test.utils import CaptureQueriesContext

            for url in ("/portal/caseload/", f"/portal/patients/{mine[0]}/"):
                with CaptureQueriesContext(connection) as ctx:
                    client.get(url)
                for q in ctx.captured_queries:
                    print(q["time"], q["sql"][:300])
            reset_queries()
        cpu_ms["caseload"].clear()
        caseload_ms = [timed("/portal/caseload/") for _ in range(args.requests)]
        patient_ms = [
            timed(f"/portal/patients/{mine[k % len(mine)]}/", "patient")
            for k in range(args.requests)
        ]
        out = {
            "database": connection.vendor,
            "patients": args.patients,
            "sessions_per_patient": args.sessions,
            "caseload_size": len(mine),
            "requests": args.requests,
            "caseload_p50_ms": round(float(np.percentile(caseload_ms, 50)), 1),
            "caseload_p95_ms": round(float(np.percentile(caseload_ms, 95)), 1),
            "patient_p50_ms": round(float(np.percentile(patient_ms, 50)), 1),
            "patient_p95_ms": round(float(np.percentile(patient_ms, 95)), 1),
            "goal_p95_ms": 150,
            # Django's own CPU per request (not PostgreSQL's, not waiting): steadier than wall
            # time on a loaded machine, so before/after comparisons can use it.
            "caseload_cpu_p50_ms": round(float(np.percentile(cpu_ms["caseload"], 50)), 1),
            "patient_cpu_p50_ms": round(float(np.percentile(cpu_ms["patient"], 50)), 1),
            "load_average_1min": round(os.getloadavg()[0], 2),
            "cpu_count": os.cpu_count(),
        }
        print(
            f"caseload ({len(mine)} patients): p50 {out['caseload_p50_ms']} ms, p95 {out['caseload_p95_ms']} ms"
        )
        print(
            f"patient page ({args.sessions} sessions): p50 {out['patient_p50_ms']} ms, p95 {out['patient_p95_ms']} ms"
        )
        print(json.dumps(out))
    finally:
        if not args.keep_db:
            connection.creation.destroy_test_db(old_name, verbosity=0)


def _built_matches(args: argparse.Namespace) -> bool:
    """Whether a kept database holds the data set these arguments would build."""
    from clinic.accounts.models import Role, User
    from clinic.care.models import Patient
    from clinic.recordings.models import Recording

    sessions = Recording.objects.count()
    return (
        Patient.objects.count() == args.patients
        and User.objects.filter(role=Role.THERAPIST).count()
        == max(1, args.patients // args.caseload)
        and 0.8 * args.patients * args.sessions <= sessions <= args.patients * args.sessions
    )


def _build(args: argparse.Namespace) -> None:
    """PATIENTS patients, each on one therapist's caseload, with a paired device, a plan in
    force (so adherence and missed-session alerts are computed, not skipped) and SESSIONS
    analysed daily sessions with their figure rows."""
    import numpy as np
    from django.utils import timezone

    from clinic.devices.models import Device
    from clinic.plans.models import PlanExercise
    from clinic.portal.models import SessionFigure
    from clinic.portal.services import session_figures_for_result
    from clinic.recordings.analysing import session_analyse
    from clinic.recordings.models import Recording, RecordingResult, RecordingState
    from tests.clinic.recording_helpers import knee_flexion_session
    from tests.factories import patient_create, therapist_create
    from tests.portal.builders import EXERCISE

    _, template, quality = session_analyse(knee_flexion_session(duration_s=9.0), exercise=EXERCISE)
    rng = np.random.default_rng(0)
    therapists = [therapist_create() for _ in range(max(1, args.patients // args.caseload))]
    now = timezone.now()
    for p in range(args.patients):
        therapist = therapists[p % len(therapists)]
        patient = patient_create(therapists=[therapist])
        device = Device.objects.create(patient=patient, label="bench", signing_public_key=b"0" * 32, encryption_public_key=b"0" * 32,
                                       signing_key_id=uuid.uuid4().hex, paired_at=now, last_seen_at=now)  # fmt: skip
        PlanExercise.objects.create(patient=patient, exercise=EXERCISE, side="right", sets=3, reps=10, target_rom_deg=120.0,
                                    weekdays="0246", start_date=(now - dt.timedelta(days=args.sessions)).date(),
                                    prescribed_by=therapist, prescribed_at=now - dt.timedelta(days=args.sessions))  # fmt: skip
        recordings, results, figures = [], [], []
        for s in range(args.sessions):
            if rng.random() < 0.1:  # about one session in ten is missed
                continue
            at = now - dt.timedelta(days=args.sessions - s)
            rec = Recording(id=uuid.uuid4(), device=device, patient=patient, exercise=EXERCISE, recorded_at=at, received_at=at,
                            state=RecordingState.ANALYSED, state_changed_at=at, envelope=b"", envelope_sha256="0" * 64,
                            envelope_bytes=0, payload_encoding="skeleton-v1+zlib", server_key_id="bench")  # fmt: skip
            measures = json.loads(json.dumps(template))
            shift = float(rng.normal(0.3 * s, 3.0))
            for m in measures:
                if m.get("session_peak") and m["session_peak"]["value_deg"] is not None:
                    m["session_peak"]["value_deg"] = round(
                        m["session_peak"]["value_deg"] + shift, 2
                    )
            result = RecordingResult(
                recording=rec,
                analysis_method="bench",
                measures=measures,
                quality=quality,
                processing_s=0.0,
                created_at=at,
            )
            recordings.append(rec)
            results.append(result)
            figures += session_figures_for_result(result, rec)
        Recording.objects.bulk_create(recordings)
        RecordingResult.objects.bulk_create(results)
        SessionFigure.objects.bulk_create(figures)


if __name__ == "__main__":
    main()
