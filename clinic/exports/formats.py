"""Export formats, as pure functions of figures and skeletons (no database, no network).

- CSV: one row per session × measure × side.
- FHIR R4: a collection Bundle of Observations, value in UCUM ``deg``, body
  site as SNOMED CT, AAOS normative range as referenceRange.
- OpenSim .trc: marker trajectories of one session in millimetres.
- PDF progress report via matplotlib's PdfPages.
"""

from __future__ import annotations

import csv
import io
import uuid

import numpy as np

from analysis.skeleton import JointSource, SkeletonSequence

CSV_COLUMNS = (
    "recorded_at",
    "exercise",
    "measure",
    "side",
    "peak_deg",
    "uncertainty_deg",
    "uncertain",
    "rep_peak_low_deg",
    "rep_peak_high_deg",
    "full_reps",
)

# SNOMED CT body structures for the joint each measure is taken at.
BODY_SITE_SNOMED = {
    "knee_flexion": ("72696002", "Knee region structure"),
    "hip_flexion": ("24136001", "Hip joint structure"),
    "hip_abduction": ("24136001", "Hip joint structure"),
    "shoulder_flexion": ("16982005", "Shoulder region structure"),
    "shoulder_abduction": ("16982005", "Shoulder region structure"),
    "shoulder_extension": ("16982005", "Shoulder region structure"),
    "shoulder_external_rotation": ("16982005", "Shoulder region structure"),
    "shoulder_internal_rotation": ("16982005", "Shoulder region structure"),
    "elbow_flexion": ("127949000", "Elbow region structure"),
    "ankle_dorsiflexion": ("70258002", "Ankle joint structure"),
    "trunk_flexion": ("22943007", "Trunk structure"),
    "trunk_lateral_flexion": ("22943007", "Trunk structure"),
}
LATERALITY_SNOMED = {"left": ("7771000", "Left"), "right": ("24028007", "Right")}


def figures_csv(rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        writer.writerow([r.recorded_at.isoformat(), r.exercise, r.measure, r.side, r.peak_deg, r.uncertainty_deg,
                         int(r.flagged), r.rep_peak_low_deg, r.rep_peak_high_deg, r.rep_count])  # fmt: skip
    return out.getvalue()


def _quantity(value: float) -> dict:
    return {
        "value": round(float(value), 2),
        "unit": "deg",
        "system": "http://unitsofmeasure.org",
        "code": "deg",
    }


def figures_fhir_bundle(rows, *, patient_id, normative: dict) -> dict:
    """A FHIR R4 collection Bundle; the patient is referenced by id only (no name, no birth date)."""
    entries = []
    for r in rows:
        code, display = BODY_SITE_SNOMED.get(r.measure, ("38266002", "Entire body as a whole"))
        site = {"coding": [{"system": "http://snomed.info/sct", "code": code, "display": display}]}
        if r.side in LATERALITY_SNOMED:
            lat_code, lat_display = LATERALITY_SNOMED[r.side]
            site["extension"] = [{
                "url": "http://hl7.org/fhir/StructureDefinition/bodySite-laterality",
                "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": lat_code, "display": lat_display}]},
            }]  # fmt: skip
        label = (f"{r.side} " if r.side else "") + r.measure.replace("_", " ")
        obs = {
            "resourceType": "Observation",
            "id": str(
                uuid.uuid5(uuid.NAMESPACE_URL, f"telerehab:{r.recording_id}:{r.measure}:{r.side}")
            ),
            "status": "final",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                            "code": "exam",
                            "display": "Exam",
                        }
                    ]
                }
            ],
            "code": {
                "coding": [
                    {"system": "urn:telerehab:measure", "code": r.measure, "display": label}
                ],
                "text": f"Peak {label} (active ROM)",
            },
            "subject": {"reference": f"Patient/{patient_id}"},
            "effectiveDateTime": r.recorded_at.isoformat(),
            "bodySite": site,
            "method": {"text": "Markerless 3D motion capture (telerehab), session peak"},
            "valueQuantity": _quantity(r.peak_deg),
        }
        if r.uncertainty_deg is not None:
            obs["component"] = [{
                "code": {"text": "Standard uncertainty"},
                "valueQuantity": _quantity(r.uncertainty_deg),
            }]  # fmt: skip
        if r.flagged:
            obs["interpretation"] = [{"text": "Uncertainty above 5°: not a clean measurement"}]
        norm = normative.get(r.measure)
        if norm is not None:
            obs["referenceRange"] = [
                {
                    "low": _quantity(norm.low_deg),
                    "high": _quantity(norm.high_deg),
                    "text": f"Normative active ROM, {norm.source}",
                }
            ]
        entries.append({"fullUrl": f"urn:uuid:{obs['id']}", "resource": obs})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def skeleton_trc(sequence: SkeletonSequence, *, file_name: str) -> str:
    """OpenSim .trc (tab separated), positions in mm, missing samples left empty."""
    joints = [j for j in sequence.joint_names if sequence.has_joint(j)]
    idx = [sequence.joint_names.index(j) for j in joints]
    t = sequence.timestamps_s - sequence.timestamps_s[0]
    n = sequence.n_frames
    rate = (n - 1) / float(t[-1]) if n > 1 and t[-1] > 0 else 0.0
    pos_mm = sequence.positions_m[:, idx].astype(np.float64) * 1000.0
    missing = sequence.source[:, idx] == JointSource.MISSING
    lines = [
        f"PathFileType\t4\t(X/Y/Z)\t{file_name}",
        "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\tOrigDataStartFrame\tOrigNumFrames",
        f"{rate:.3f}\t{rate:.3f}\t{n}\t{len(joints)}\tmm\t{rate:.3f}\t1\t{n}",
        "Frame#\tTime\t" + "\t\t\t".join(joints) + "\t\t",
        "\t\t" + "\t".join(f"X{k}\tY{k}\tZ{k}" for k in range(1, len(joints) + 1)),
        "",
    ]
    for f in range(n):
        cells = [str(f + 1), f"{t[f]:.5f}"]
        for j in range(len(joints)):
            cells += ["", "", ""] if missing[f, j] else [f"{v:.2f}" for v in pos_mm[f, j]]
        lines.append("\t".join(cells))
    return "\n".join(lines) + "\n"


def progress_report_pdf(
    *, title: str, patient_line: str, charts: list[dict], words: list[str], plan_lines: list[str]
) -> bytes:
    """A short report for a referrer or payer: summary page, then one chart per measure."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    out = io.BytesIO()
    with PdfPages(out, metadata={"Title": title, "Creator": "telerehab"}) as pdf:
        fig = Figure(figsize=(8.27, 11.69))
        fig.text(0.08, 0.94, title, fontsize=16, weight="bold")
        fig.text(0.08, 0.91, patient_line, fontsize=10)
        y = 0.86
        for heading, lines in (
            ("Progress", words),
            ("Current plan", plan_lines or ["No exercises prescribed."]),
        ):
            fig.text(0.08, y, heading, fontsize=12, weight="bold")
            y -= 0.03
            for line in lines:
                fig.text(0.1, y, line, fontsize=9, wrap=True)
                y -= 0.025
            y -= 0.02
        pdf.savefig(fig)
        for chart in charts:
            fig = Figure(figsize=(11.69, 8.27))
            ax = fig.add_subplot(1, 1, 1)
            if chart.get("normative"):
                ax.axhspan(
                    *chart["normative"], color="#d1fae5", alpha=0.5, label="Normative range (AAOS)"
                )
            if chart.get("goal") is not None:
                ax.axhline(
                    chart["goal"],
                    color="#15803d",
                    linestyle="--",
                    label=f"Goal {chart['goal']:.0f}°",
                )
            for s in chart["series"]:
                pts = [p for p in s["points"] if p["y"] is not None]
                xs, ys = [p["x"] for p in pts], [p["y"] for p in pts]
                us = [p["u"] or 0.0 for p in pts]
                ax.errorbar(
                    xs,
                    ys,
                    yerr=us,
                    color=s["colour"],
                    marker="o" if s["shape"] == "circle" else "^",
                    linestyle="-",
                    label=s["label"],
                    capsize=2,
                )
            ax.set_xlabel("Days since first session")
            ax.set_ylabel("Peak angle (°)")
            ax.set_title(chart["label"])
            ax.legend(loc="lower right")
            pdf.savefig(fig)
    return out.getvalue()
