"""Forms of the portals: input checking only; the services decide what is allowed."""

from __future__ import annotations

import functools

from django import forms
from django.utils.safestring import SafeString

from clinic.plans.catalogue import CATALOGUE
from clinic.plans.models import WEEKDAY_NAMES
from clinic.portal.models import ClinicalEvent


class PrescribeForm(forms.Form):
    exercise = forms.ChoiceField(choices=[(k, e.label) for k, e in CATALOGUE.items()])
    side = forms.ChoiceField(
        choices=[("", "Both / not sided"), ("left", "Left"), ("right", "Right")], required=False
    )
    sets = forms.IntegerField(min_value=1, max_value=20, initial=3)
    reps = forms.IntegerField(min_value=1, max_value=100, initial=10)
    target_rom_deg = forms.FloatField(
        min_value=1, max_value=200, required=False, label="Target ROM (°)"
    )
    weekdays = forms.MultipleChoiceField(
        choices=[(str(i), n) for i, n in enumerate(WEEKDAY_NAMES)],
        widget=forms.CheckboxSelectMultiple,
        initial=["0", "2", "4"],
        label="Schedule",
    )


class NoteForm(forms.Form):
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=4000, label="Add a note"
    )


class ClinicalEventForm(forms.Form):
    kind = forms.ChoiceField(choices=ClinicalEvent.Kind.choices)
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))


class CaseloadFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Name contains")
    sort = forms.ChoiceField(
        required=False,
        choices=[
            ("alerts", "Most alerts"),
            ("name", "Name"),
            ("last_session", "Last session"),
            ("adherence", "Lowest adherence"),
        ],
    )
    alerts = forms.BooleanField(required=False, label="Only patients with alerts")


@functools.cache
def blank_form_html(form_class: type[forms.Form]) -> SafeString:
    """An unbound form's fields as ``<p>`` blocks, rendered once per process.

    The therapist's patient page shows the same two blank forms on every view; rendering
    their widgets through the template engine each time was a third of that page's template
    time. Only for forms whose blank rendering cannot vary (static choices and initials).
    """
    return form_class().as_p()
