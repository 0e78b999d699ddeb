"""The portals as a person uses them: real Chromium (Debian's /usr/bin/chromium) against a live server.

Screenshots go to test-artifacts/portal/ (git-ignored) so a reviewer can see what the test saw.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
from pathlib import Path

import pytest
from django.db import connections
from django.utils import timezone

from clinic.recordings.models import RecordingResult
from tests.clinic.recording_helpers import device_create
from tests.factories import (
    DEFAULT_PASSWORD,
    clinic_admin_create,
    patient_create,
    totp_code,
    totp_device_create,
)
from tests.portal.builders import analysed_recording_create

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "portal"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]  # fmt: skip

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(
        not shutil.which(CHROMIUM), reason="Debian chromium not installed (.ci/run installs it)"
    ),
]


@pytest.fixture
def browser_page():
    # Playwright's sync API keeps an event loop in this thread; the ORM calls below are plain sync code.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        errors: list[str] = []
        # Script errors and CSP violations (a blocked inline script would show here); not 404s.
        page.on(
            "console",
            lambda m: (
                errors.append(m.text)
                if m.type == "error" and "Content Security Policy" in m.text
                else None
            ),
        )
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.console_errors = errors
        yield page
        context.close()
        browser.close()
        # Without this, one PostgreSQL connection opened during these tests outlives the session
        # and the test database cannot be dropped ("being accessed by other users"); Django keeps
        # connections per async context and Playwright's sync API installs an event loop.
        connections.close_all()


def _login(page, base: str, user, totp=None) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("main form button[type=submit]")
    if totp is not None:
        page.wait_for_selector("input[name=token]")
        page.fill("input[name=token]", totp_code(totp))
        page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/accounts/" not in page.url, (page.url, page.inner_text("main")[:500])


# Desktop, and the narrowest tablet held upright (the portal CSS promises 768 px and up).
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "tablet": {"width": 768, "height": 1024}}


def _assert_fits_desktop_and_tablet(page, name: str) -> None:
    """No horizontal scrolling at either width; full-page screenshots of both kept as artifacts."""
    for label, size in WIDTHS.items():
        page.set_viewport_size(size)
        page.wait_for_timeout(200)  # Chart.js redraws on resize
        page.screenshot(path=str(ARTIFACTS / f"{name}-{label}.png"), full_page=True)
        overflow_px = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
        assert overflow_px <= 0, f"{name} is {overflow_px}px wider than a {label} screen"
    page.set_viewport_size(WIDTHS["desktop"])


def _skeleton_pixels(png: bytes) -> int:
    """Bright pixels of the replay canvas: bones and joints (the floor grid and background are dark)."""
    import numpy as np
    from PIL import Image

    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)
    return int((rgb.sum(axis=-1) > 380).sum())


@pytest.mark.django_db(transaction=True)
def test_therapist_sees_stored_points_and_3d_replay_and_nothing_outside_care_team(
    live_server, clinic_case, browser_page
):
    page, base = browser_page, live_server.url
    totp = totp_device_create(user=clinic_case["therapist"])
    patient = clinic_case["patient"]
    stored = [
        next(m for m in RecordingResult.objects.get(recording=r).measures if m["measure"] == "knee_flexion" and m["side"] == "right")["session_peak"]["value_deg"]
        for r in clinic_case["recordings"]
    ]  # fmt: skip

    _login(page, base, clinic_case["therapist"], totp)
    page.goto(f"{base}/portal/caseload/")
    assert page.locator(f"tr[data-patient='{patient.id}']").count() == 1
    _assert_fits_desktop_and_tablet(page, "caseload")

    page.click(f"tr[data-patient='{patient.id}'] a")
    chart = page.locator("canvas.trend-chart[data-measure='knee_flexion']")
    chart.wait_for()
    page.wait_for_selector("canvas.trend-chart[data-measure='knee_flexion'][data-ready='1']")
    import json

    plotted = {s["side"]: s["y"] for s in json.loads(chart.get_attribute("data-points"))}
    assert plotted["right"] == stored
    _assert_fits_desktop_and_tablet(page, "patient")

    page.goto(f"{base}/portal/sessions/{clinic_case['recordings'][-1].id}/")
    page.wait_for_selector("#replay-canvas[data-ready='1']")
    canvas = page.locator("#replay-canvas")
    first = canvas.screenshot(path=str(ARTIFACTS / "replay.png"))
    assert _skeleton_pixels(first) > 500
    page.click("#replay-play")
    for _ in range(50):  # (no wait_for_function: the page's CSP forbids evaluating strings)
        if int(canvas.get_attribute("data-frame")) > 5:
            break
        page.wait_for_timeout(100)
    assert int(canvas.get_attribute("data-frame")) > 5
    page.click("#replay-play")
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 100, box["y"] + 200)
    page.mouse.down()
    page.mouse.move(box["x"] + 300, box["y"] + 220, steps=5)
    page.mouse.up()
    rotated = canvas.screenshot(path=str(ARTIFACTS / "replay-rotated.png"))
    assert rotated != first
    assert page.locator("#trace-chart").count() == 1
    _assert_fits_desktop_and_tablet(page, "session")

    # Outside the care team: 404 by URL, whatever the path.
    response = page.goto(f"{base}/portal/patients/{clinic_case['other'].id}/")
    assert response.status == 404
    assert "Other Person" not in page.content()
    assert not page.console_errors, page.console_errors


@pytest.mark.django_db(transaction=True)
def test_patient_sees_own_progress_but_not_another_patient(live_server, clinic_case, browser_page):
    page, base = browser_page, live_server.url
    stranger = patient_create(display_name="Stranger Patient")
    device, _ = device_create(patient=stranger)
    theirs = analysed_recording_create(
        patient=stranger,
        device=device,
        recorded_at=timezone.now() - dt.timedelta(days=1),
        with_skeleton=False,
    )

    _login(page, base, clinic_case["patient"].user)
    page.goto(f"{base}/portal/me/")
    assert "Ada Example" in page.content()
    page.wait_for_selector("canvas.trend-chart")
    _assert_fits_desktop_and_tablet(page, "patient-home")
    assert page.goto(f"{base}/portal/sessions/{theirs.id}/").status == 404
    assert page.goto(f"{base}/portal/patients/{stranger.id}/").status == 403
    assert page.goto(f"{base}/portal/patients/{stranger.id}/export/measures.csv").status == 404
    assert "Stranger Patient" not in page.content()


@pytest.mark.django_db(transaction=True)
def test_admin_pages_fit_desktop_and_tablet(live_server, clinic_case, browser_page):
    page, base = browser_page, live_server.url
    admin = clinic_admin_create()
    totp = totp_device_create(user=admin)
    _login(page, base, admin, totp)
    # Long tokens in the audit log: a patient id and a long action name.
    page.goto(f"{base}/portal/patients/{clinic_case['patient'].id}/")  # refused: audited
    for name in ("users", "devices", "quarantine", "audit"):
        response = page.goto(f"{base}/portal/admin/{'' if name == 'users' else name + '/'}")
        assert response.status == 200, name
        _assert_fits_desktop_and_tablet(page, f"admin-{name}")
    assert not page.console_errors, page.console_errors


@pytest.mark.django_db(transaction=True)
def test_idle_session_is_logged_off(live_server, clinic_case, browser_page, settings):
    page, base = browser_page, live_server.url
    settings.IDLE_LOGOFF_S = 2
    totp = totp_device_create(user=clinic_case["therapist"])
    _login(page, base, clinic_case["therapist"], totp)
    assert page.goto(f"{base}/portal/caseload/").status == 200
    page.wait_for_timeout(3500)
    page.goto(f"{base}/portal/caseload/")
    assert "/accounts/login/" in page.url and "reason=idle" in page.url
    page.screenshot(path=str(ARTIFACTS / "idle-logoff.png"))
