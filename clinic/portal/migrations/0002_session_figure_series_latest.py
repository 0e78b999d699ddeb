"""An index for the caseload's latest-sessions-per-series read (index-only, no sort)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0001_initial"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="sessionfigure",
            index=models.Index(
                condition=models.Q(("primary", True)),
                fields=["patient", "measure", "side", "-recorded_at"],
                include=("peak_deg", "uncertainty_deg", "flagged", "recording"),
                name="session_figure_series_latest",
            ),
        ),
    ]
