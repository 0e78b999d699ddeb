"""Reads of the portals. Every read of patient data writes its audit event here, in the same
transaction as the read, so a page can never show PHI that left no trace."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Subquery, UUIDField, Window
from django.db.models.functions import RowNumber, TruncDate
from django.http import Http404
from django.utils import timezone

from analysis.normative import AAOS_NORMATIVE
from clinic.audit.services import audit_event_record
from clinic.care.models import Patient
from clinic.care.selectors import patient_get_for_user, patients_visible_to
from clinic.devices.models import Device
from clinic.plans.catalogue import CATALOGUE, measure_label
from clinic.plans.models import PlanExercise
from clinic.plans.selectors import plan_due_sessions, plans_for_patients_since
from clinic.portal import alerts as alert_rules
from clinic.portal.figures import result_figures
from clinic.portal.models import ClinicalEvent, SessionFigure, SessionNote
from clinic.portal.rendering import trend_table_rows, url_fill, url_pattern
from clinic.portal.services import session_note_text
from clinic.portal.trend import trend_fit, trend_words
from clinic.recordings.models import Recording, RecordingState

ADHERENCE_WINDOW_DAYS = 14
REGRESSION_WINDOW_DAYS = 42
TREND_WINDOW_DAYS = 42
SIDE_STYLE = {
    "left": {"colour": "#1f5fbf", "shape": "circle", "word": "Left"},
    "right": {"colour": "#c2410c", "shape": "triangle", "word": "Right"},
    "": {"colour": "#4b5563", "shape": "rect", "word": ""},
}


def _silent_days() -> int:
    return int(getattr(settings, "PORTAL_DEVICE_SILENT_DAYS", 3))


# --- caseload ------------------------------------------------------------------------


@dataclass
class CaseloadRow:
    patient_id: str
    name: str
    last_session_at: dt.datetime | None
    sessions_done: int
    sessions_due: int
    alerts: list[alert_rules.Alert] = field(default_factory=list)

    @property
    def adherence_pct(self) -> int | None:
        if self.sessions_due == 0:
            return None
        return int(round(100 * min(self.sessions_done, self.sessions_due) / self.sessions_due))


CASELOAD_SORTS = {
    "name": (lambda r: r.name.lower(), False),
    "last_session": (lambda r: r.last_session_at or dt.datetime.min.replace(tzinfo=dt.UTC), True),
    "adherence": (lambda r: -1 if r.adherence_pct is None else r.adherence_pct, False),
    "alerts": (lambda r: len(r.alerts), True),
}


def _due_and_done(
    items: list[PlanExercise], sessions: set[tuple[dt.date, str]], days: list[dt.date]
):
    due = plan_due_sessions(items, days)
    done = sum(1 for key in set(due) if key in sessions)
    return due, done


def caseload_for_therapist(
    *,
    user,
    request=None,
    sort: str = "alerts",
    name_filter: str = "",
    only_alerts: bool = False,
    now=None,
) -> list[CaseloadRow]:
    """The care team's patients with last session, adherence and alerts; audited as one view."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    last_session = (
        Recording.objects.filter(patient=OuterRef("pk"))
        .order_by("-recorded_at")
        .values("recorded_at")[:1]
    )
    active_devices = Device.objects.filter(patient=OuterRef("pk"), revoked_at__isnull=True)
    device_seen = active_devices.order_by(F("last_seen_at").desc(nulls_last=True)).values(
        "last_seen_at"
    )[:1]
    last_figures = (
        SessionFigure.objects.filter(patient=OuterRef("pk"), primary=True)
        .order_by("-recorded_at")
        .values("recording_id")[:1]
    )
    with transaction.atomic():
        patients = list(
            patients_visible_to(user=user)
            .annotate(
                last_session_at=Subquery(last_session),
                device_last_seen=Subquery(device_seen),
                has_device=Exists(active_devices),
                # UUIDField, not the inferred ForeignKey: SQLite returns a foreign key's value
                # as a string, which never matched the UUIDs below (no "uncertain" alert there).
                last_figure_recording=Subquery(last_figures, output_field=UUIDField()),
            )
            .only("id", "display_name")
            .order_by("display_name")
        )
        ids = [p.id for p in patients]
        window_start = today - dt.timedelta(days=ADHERENCE_WINDOW_DAYS)
        # Days, not timestamps, come back from the database: parsing thousands of
        # timestamptz values costs more than the query itself. A range on recorded_at
        # (not recorded_at::date) so the (patient, recorded_at) index bounds the scan, and
        # no ORDER BY: the model's default ordering would add recorded_at to the DISTINCT.
        window_start_at = timezone.make_aware(dt.datetime.combine(window_start, dt.time.min))
        sessions: dict = defaultdict(set)
        for pid, exercise, day in (
            Recording.objects.filter(patient_id__in=ids, recorded_at__gte=window_start_at)
            .annotate(day=TruncDate("recorded_at"))
            .order_by()
            .values_list("patient_id", "exercise", "day")
            .distinct()
        ):
            sessions[pid].add((day, exercise))
        plans = plans_for_patients_since(patient_ids=ids, since=window_start)
        # Only the last few sessions of each series matter for regression and the latest flag.
        ranked = (
            SessionFigure.objects.filter(
                patient_id__in=ids,
                primary=True,
                recorded_at__gte=now - dt.timedelta(days=REGRESSION_WINDOW_DAYS),
            )
            .annotate(
                rank=Window(
                    RowNumber(),
                    partition_by=[F("patient_id"), F("measure"), F("side")],
                    order_by=F("recorded_at").desc(),
                )
            )
            .filter(rank__lte=alert_rules.REFERENCE_SESSIONS + 1)
            .order_by("patient_id", "measure", "side", "-rank")
            .values_list(
                "patient_id",
                "measure",
                "side",
                "rank",
                "peak_deg",
                "uncertainty_deg",
                "flagged",
                "recording_id",
            )
        )
        figures: dict = defaultdict(lambda: defaultdict(list))
        newest: dict = {}
        for pid, measure, side, rank, peak, u, flagged, recording_id in ranked:
            figures[pid][(measure, side)].append((rank, peak, u))
            if rank == 1:
                newest.setdefault(pid, {}).setdefault(recording_id, []).append(flagged)
        latest_flagged = {
            p.id: any(newest.get(p.id, {}).get(p.last_figure_recording, [])) for p in patients
        }
        rows = []
        past_days = [today - dt.timedelta(days=k) for k in range(ADHERENCE_WINDOW_DAYS, 0, -1)]
        missed_days = set(past_days[-alert_rules.MISSED_WINDOW_DAYS :])
        for p in patients:
            items = plans.get(p.id, [])
            due, done = _due_and_done(items, sessions[p.id], past_days)
            due_recent = [d for d in due if d[0] in missed_days]
            row_alerts = alert_rules.caseload_alerts(
                regression=alert_rules.regression_alerts(figures[p.id], measure_label),
                missed=alert_rules.missed_sessions(due_days=due_recent, done=sessions[p.id]),
                latest_flagged=latest_flagged.get(p.id, False),
                device_last_seen=p.device_last_seen,
                has_device=p.has_device,
                has_plan=any(i.stopped_at is None for i in items),
                now=now,
                silent_days=_silent_days(),
            )
            rows.append(
                CaseloadRow(
                    str(p.id), p.display_name, p.last_session_at, done, len(due), row_alerts
                )
            )
        audit_event_record(
            action="caseload.view",
            outcome="success",
            actor=user,
            object_type="caseload",
            request=request,
            details={"patients": len(rows), "patient_ids": [str(i) for i in ids]},
        )
    if name_filter:
        rows = [r for r in rows if name_filter.lower() in r.name.lower()]
    if only_alerts:
        rows = [r for r in rows if r.alerts]
    key, reverse = CASELOAD_SORTS.get(sort, CASELOAD_SORTS["alerts"])
    rows.sort(key=lambda r: r.name.lower())
    rows.sort(key=key, reverse=reverse)
    return rows


# --- patient page -----------------------------------------------------------------


def _goal_for(items: list[PlanExercise], measure: str, side: str) -> float | None:
    goals = [
        i.target_rom_deg
        for i in items
        if i.target_rom_deg is not None
        and CATALOGUE.get(i.exercise)
        and CATALOGUE[i.exercise].target_measure == measure
        and (not i.side or not side or i.side == side)
    ]
    return max(goals) if goals else None


def _deg_text(value: float | None, flagged: bool) -> str:
    if value is None:
        return "—"
    return f"≈{value:.0f} (uncertain)" if flagged else f"{value:.1f}"


def _chart(
    measure: str,
    rows: list,  # SessionFigure value rows, oldest first (see patient_progress)
    items: list[PlanExercise],
    first_day: dt.date,
    today: dt.date,
    missed_by_day: set[int],
):
    session_url = url_pattern("portal:session")  # reversed once, not per row
    by_side: dict[str, list] = defaultdict(list)
    for r in rows:
        by_side[r.side].append(r)
    series, words, table = [], [], []
    norm = AAOS_NORMATIVE.get(measure)
    goals = [g for g in (_goal_for(items, measure, s) for s in by_side) if g is not None]
    for side in sorted(by_side):
        style = SIDE_STYLE.get(side, SIDE_STYLE[""])
        points = []
        for r in by_side[side]:
            points.append(
                {
                    "x": (r.day - first_day).days,
                    "y": r.peak_deg,
                    "low": r.rep_peak_low_deg,
                    "high": r.rep_peak_high_deg,
                    "u": r.uncertainty_deg,
                    "flagged": r.flagged,
                    "date": r.day.isoformat(),
                    "recording": str(r.recording_id),
                }
            )
            # Pre-formatted here: 100s of rows × floatformat filters dominated the page time.
            table.append(
                {
                    "side": style["word"],
                    **points[-1],
                    "peak_text": _deg_text(r.peak_deg, r.flagged),
                    "spread_text": "—"
                    if r.rep_peak_low_deg is None
                    else f"{r.rep_peak_low_deg:.0f}–{r.rep_peak_high_deg:.0f}",
                    "u_text": "—" if r.uncertainty_deg is None else f"{r.uncertainty_deg:.1f}",
                    "url": url_fill(session_url, r.recording_id),
                }
            )
        # A missed scheduled day breaks the line (Chart.js draws no segment across a null).
        taken = {p["x"] for p in points}
        gaps = [{"x": d, "y": None} for d in sorted(missed_by_day - taken)]
        merged = sorted(points + gaps, key=lambda p: p["x"])
        series.append(
            {"side": side, "label": measure_label(measure, side or None), **style, "points": merged}
        )
        recent_from_x = (today - dt.timedelta(days=TREND_WINDOW_DAYS) - first_day).days
        recent = [p for p in points if p["x"] >= recent_from_x]
        goal = _goal_for(items, measure, side)
        trend = trend_fit(
            days=np.array([p["x"] for p in recent], float),
            peaks_deg=np.array([np.nan if p["y"] is None else p["y"] for p in recent], float),
            today=today,
            first_day=first_day,
            goal_deg=goal,
        )
        words.append(trend_words(measure_label(measure, side or None), trend, today=today))
    table.sort(key=lambda p: (p["date"], p["side"]))
    return {
        "measure": measure,
        "label": measure_label(measure),
        "normative": None if norm is None else [norm.low_deg, norm.high_deg],
        "normative_source": None if norm is None else norm.source,
        "goal": max(goals) if goals else None,
        "series": series,
        "trend_words": words,
        "table": table,
        "table_html": trend_table_rows(table),
    }


def patient_progress(*, user, patient_id, request=None, now=None) -> dict:
    """Everything the patient page shows: charts per primary measure, plan, sessions, events."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    patient = patient_get_for_user(user=user, patient_id=patient_id, request=request)
    with transaction.atomic():
        # Plain rows with the local day from the database: model instances and a
        # localdate() per row were most of this page's Python time.
        figures = list(
            SessionFigure.objects.filter(patient=patient, primary=True).order_by("recorded_at")
            .annotate(day=TruncDate("recorded_at")).values_list(
                "recording_id", "day", "exercise", "measure", "side", "peak_deg",
                "uncertainty_deg", "flagged", "rep_peak_low_deg", "rep_peak_high_deg", named=True,
            )
        )  # fmt: skip
        items = list(PlanExercise.objects.filter(patient=patient).order_by("prescribed_at"))
        sessions = list(
            Recording.objects.filter(patient=patient)
            .order_by("-recorded_at")
            .annotate(day=TruncDate("recorded_at"))
            .values("id", "recorded_at", "day", "exercise", "state", "state_reason")[:200]
        )
        events = list(ClinicalEvent.objects.filter(patient=patient))
        audit_event_record(
            action="patient.view",
            outcome="success",
            actor=user,
            patient_id=patient.id,
            object_type="patient",
            object_id=str(patient.id),
            request=request,
        )
    first_day = min([f.day for f in figures[:1]] + [e.day for e in events] + [today])
    # The session list stops at 200; the figures reach back to the first analysed session.
    done = {(s["day"], s["exercise"]) for s in sessions}
    done |= {(f.day, f.exercise) for f in figures}
    by_measure: dict[str, list] = defaultdict(list)
    for f in figures:
        by_measure[f.measure].append(f)
    charts = []
    for measure, rows in by_measure.items():
        exercises = {k for k, e in CATALOGUE.items() if e.target_measure == measure}
        relevant = [i for i in items if i.exercise in exercises]
        start = max(first_day, min((i.start_date for i in relevant), default=today))
        days = [start + dt.timedelta(days=k) for k in range((today - start).days)]
        missed_by_day = {
            (day - first_day).days
            for day, exercise in plan_due_sessions(relevant, days)
            if (day, exercise) not in done
        }
        charts.append(_chart(measure, rows, items, first_day, today, missed_by_day))
    markers = [
        {"x": (e.day - first_day).days, "label": e.get_kind_display(), "date": e.day.isoformat()}
        for e in events
    ]
    if figures:
        markers.insert(
            0, {"x": 0, "label": "Baseline (first session)", "date": first_day.isoformat()}
        )
    return {
        "patient": patient,
        "charts": charts,
        "markers": markers,
        "first_day": first_day.isoformat(),
        "plan": [i for i in items if i.stopped_at is None],
        "sessions": sessions,
        "events": events,
        "latest_figures_flagged": any(f.flagged for f in figures[-4:]),
    }


# --- session page -----------------------------------------------------------------


def session_detail(*, user, recording_id, request=None, with_replay: bool = True) -> dict:
    """One session: figures, per-rep table, quality flags, notes and (decrypted) replay data."""
    from clinic.portal.replay import replay_data
    from clinic.recordings.storage import skeleton_open

    recording = Recording.objects.filter(id=recording_id).defer("envelope").first()
    if recording is None:
        raise Http404("No such session.")
    patient = patient_get_for_user(user=user, patient_id=recording.patient_id, request=request)
    with transaction.atomic():
        result = (
            getattr(recording, "result", None)
            if recording.state == RecordingState.ANALYSED
            else None
        )
        figures = result_figures(result.measures) if result is not None else []
        notes = [
            {
                "author": n.author.get_full_name() or n.author.get_username(),
                "at": n.created_at,
                "text": session_note_text(n),
            }
            for n in SessionNote.objects.filter(recording=recording).select_related("author")
        ]
        replay = None
        stored = getattr(recording, "skeleton", None) if with_replay else None
        if stored is not None:
            sequence = skeleton_open(stored)
            replay = replay_data(
                sequence,
                traces=[(f.measure, f.side or None) for f in figures if f.primary and f.available],
            )
        audit_event_record(
            action="session.view",
            outcome="success",
            actor=user,
            patient_id=patient.id,
            object_type="recording",
            object_id=str(recording.id),
            request=request,
        )
    quality = dict(result.quality) if result is not None else {}
    flags = []
    if any(f.flagged for f in figures if f.available):
        flags.append("Some figures have an uncertainty above 5° and are shown as uncertain.")
    if quality.get("interpolated_fraction", 0) > 0.1:
        flags.append(
            f"{quality['interpolated_fraction'] * 100:.0f}% of joint samples were interpolated (joints out of view)."
        )
    if quality.get("lifted_fraction", 0) > 0.5:
        flags.append(
            "Most joints were estimated from 2D video (no valid depth): depth-axis angles are less certain."
        )
    if quality.get("rejected_fraction", 0) > 0.05:
        flags.append(
            f"{quality['rejected_fraction'] * 100:.0f}% of samples were rejected as implausible."
        )
    if recording.state != RecordingState.ANALYSED:
        flags.append(f"Not analysed: {recording.get_state_display()}. {recording.state_reason}")
    return {
        "patient": patient,
        "recording": recording,
        "figures": [f for f in figures if f.available],
        "unavailable": [f for f in figures if not f.available],
        "quality": quality,
        "flags": flags,
        "notes": notes,
        "replay": replay,
    }


def patient_for_self(*, user) -> Patient:
    """The patient record of a patient log-in (Http404 for anyone else)."""
    patient = Patient.objects.filter(user=user).first() if user.is_authenticated else None
    if patient is None:
        raise Http404("No patient record for this log-in.")
    return patient
