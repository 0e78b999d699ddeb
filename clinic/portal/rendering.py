"""Long tables and lists rendered in Python: hundreds of rows through the template engine (and
format_html per cell) cost more than every query of the page together. Every value from data
goes through ``escape`` (the escaping the template engine applies); the markup around it is
constant."""

from __future__ import annotations

from html import escape  # what django.utils.html.escape calls, minus its lazy-string wrapper

from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.safestring import SafeString, mark_safe

_URL_PLACEHOLDER = "00000000-0000-0000-0000-000000000000"


def url_pattern(name: str) -> str:
    """The URL of ``name`` for a placeholder id: reversed once, filled per row with str.replace."""
    return reverse(name, args=[_URL_PLACEHOLDER])


def url_fill(pattern: str, object_id) -> str:
    return pattern.replace(_URL_PLACEHOLDER, str(object_id))


def trend_table_rows(rows: list[dict]) -> SafeString:
    """``<tr>`` per session of a trend chart's table view (rows from selectors._chart)."""
    out = []
    for r in rows:
        row_class, cell_class = (
            (' class="uncertain"', ' class="flag"') if r["flagged"] else ("", "")
        )
        out.append(
            f"<tr{row_class}><td>{escape(r['date'])}</td>"
            f"<td>{escape(r['side'] or '—')}</td><td{cell_class}>{escape(r['peak_text'])}</td>"
            f"<td>{escape(r['spread_text'])}</td><td>{escape(r['u_text'])}</td>"
            f'<td><a href="{escape(r["url"])}">open</a></td></tr>'
        )
    return mark_safe("\n".join(out))  # noqa: S308 - every value above is escaped


def session_list_items(sessions: list[dict]) -> SafeString:
    """``<li>`` per session (newest first) for the therapist's patient page."""
    pattern = url_pattern("portal:session")
    out = []
    for s in sessions:
        when = dateformat.format(timezone.localtime(s["recorded_at"]), "j M Y H:i")
        state = (
            "" if s["state"] == "analysed" else f' <span class="flag">{escape(s["state"])}</span>'
        )
        out.append(
            f'<li><a href="{escape(url_fill(pattern, s["id"]))}">{escape(when)}</a> '
            f"{escape(s['exercise'])}{state}</li>"
        )
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped


def caseload_table_rows(rows) -> SafeString:
    """``<tr>`` per caseload row (clinic.portal.selectors.CaseloadRow), same markup as before."""
    pattern = url_pattern("portal:patient")
    out = []
    for r in rows:
        if r.last_session_at is None:
            last = "none yet"
        else:
            local = timezone.localtime(r.last_session_at)
            last = (
                f'<time datetime="{escape(local.isoformat())}">'
                f"{escape(dateformat.format(local, 'j M Y'))}</time>"
            )
        if r.adherence_pct is None:
            adherence = "no plan"
        else:
            adherence = f"{r.adherence_pct}% ({r.sessions_done} of {r.sessions_due})"
        if r.alerts:
            items = "".join(
                f'<li class="alert alert--{escape(a.kind)}">{escape(a.text)}</li>' for a in r.alerts
            )
            alerts = f'<ul class="alerts">{items}</ul>'
        else:
            alerts = '<span class="ok">none</span>'
        out.append(
            f'<tr data-patient="{escape(r.patient_id)}">'
            f'<th scope="row"><a href="{escape(url_fill(pattern, r.patient_id))}">{escape(r.name)}</a></th>'
            f"<td>{last}</td><td>{adherence}</td><td>{alerts}</td></tr>"
        )
    return mark_safe("\n".join(out))  # noqa: S308 - every value above is escaped
