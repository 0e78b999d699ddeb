"""The landing page sends each signed-in role to its own portal; anonymous visitors to sign-in."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from tests.factories import clinic_admin_create, patient_create, staff_login_verified

pytestmark = pytest.mark.django_db


def _portal_link(html: str) -> str:
    marker = 'id="portal-link" href="'
    assert html.count(marker) == 1, html
    return html.split(marker, 1)[1].split('"', 1)[0]


@pytest.mark.parametrize(
    ("role", "portal"),
    [
        ("therapist", "portal:caseload"),
        ("patient", "portal:patient_home"),
        ("clinic_admin", "portal:admin_users"),
    ],
)
def test_home_links_each_role_to_a_portal_page_it_can_open(client, clinic_case, role, portal):
    if role == "therapist":
        staff_login_verified(client, clinic_case["therapist"])
    elif role == "clinic_admin":
        staff_login_verified(client, clinic_admin_create())
    else:
        client.force_login(clinic_case["patient"].user)
    response = client.get(reverse("core:home"))
    assert response.status_code == 200
    link = _portal_link(response.content.decode())
    assert link == reverse(portal)
    assert client.get(link).status_code == 200


def test_a_patient_is_not_offered_the_staff_portals(client):
    client.force_login(patient_create().user)
    html = client.get(reverse("core:home")).content.decode()
    assert reverse("portal:caseload") not in html and reverse("portal:admin_users") not in html


def test_anonymous_visitor_is_sent_to_sign_in_and_the_page_has_a_sign_in_branch(client):
    response = client.get(reverse("core:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    html = render_to_string("core/home.html", request=request)
    assert f'href="{reverse("accounts:login")}"' in html
    assert "portal-link" not in html and "Welcome" not in html
