"""The one list of database columns sealed at rest under a storage key, and their key rotation.

Every value sealed with ``clinic.keys.at_rest.blob_seal`` and kept in the database is listed
in ``SEALED_FIELDS``: which model, which columns hold the key version, the wrapped data key and
the ciphertext, which column names the owner bound into the associated data, and the purpose.
``manage.py rotate_keys`` re-wraps every entry, and ``--check`` counts every entry, so retiring
an old storage key is safe only when all of them report zero rows on it.
``tests/hipaa/test_key_rotation.py`` fails when a model gains a ``*wrapped_key`` column that
is not listed here, so a new sealed field cannot be forgotten by rotation.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db import models, transaction
from django.db.models import Count

from clinic.keys.at_rest import SealedBlob, blob_open, blob_rewrap


@dataclass(frozen=True)
class SealedField:
    label: str
    model: str  # "app_label.ModelName"
    purpose: str  # must equal the purpose the owning app seals with
    owner_field: str
    version_field: str
    wrapped_key_field: str
    ciphertext_field: str

    def model_class(self) -> type[models.Model]:
        return apps.get_model(self.model)

    def blob(self, row: models.Model) -> SealedBlob:
        return SealedBlob(
            getattr(row, self.version_field),
            bytes(getattr(row, self.wrapped_key_field)),
            bytes(getattr(row, self.ciphertext_field)),
        )

    def owner(self, row: models.Model) -> str:
        return str(getattr(row, self.owner_field))


SEALED_FIELDS: tuple[SealedField, ...] = (
    SealedField(
        label="recording skeletons",
        model="recordings.RecordingSkeleton",
        purpose="recording-skeleton",
        owner_field="recording_id",
        version_field="key_version",
        wrapped_key_field="wrapped_key",
        ciphertext_field="ciphertext",
    ),
    SealedField(
        label="emergency access reasons",
        model="emergency.EmergencyAccessGrant",
        purpose="emergency-reason",
        owner_field="id",
        version_field="reason_key_version",
        wrapped_key_field="reason_wrapped_key",
        ciphertext_field="reason_ciphertext",
    ),
    SealedField(
        label="session notes",
        model="portal.SessionNote",
        purpose="session-note",
        owner_field="id",
        version_field="key_version",
        wrapped_key_field="wrapped_key",
        ciphertext_field="ciphertext",
    ),
)


def sealed_field_rewrap(*, field: SealedField, to_version: int, batch_size: int = 200) -> int:
    """Re-wrap the data key of every row of ``field`` not yet on ``to_version``; how many changed.

    Only the small wrapped data key changes, the ciphertext is never rewritten, and each batch
    commits on its own: an interrupted rotation loses nothing and resumes with
    ``rotate_keys --rewrap-only``.
    """
    model = field.model_class()
    pk_name = model._meta.pk.name
    changed = 0
    while True:
        with transaction.atomic():
            batch = list(
                model.objects.select_for_update()
                .exclude(**{field.version_field: to_version})
                .order_by(pk_name)[:batch_size]
            )
            if not batch:
                return changed
            for row in batch:
                blob = blob_rewrap(
                    field.blob(row),
                    owner=field.owner(row),
                    purpose=field.purpose,
                    to_version=to_version,
                )
                setattr(row, field.version_field, blob.key_version)
                setattr(row, field.wrapped_key_field, blob.wrapped_key)
                row.save(update_fields=[field.version_field, field.wrapped_key_field])
            changed += len(batch)


def sealed_rewrap_all(*, to_version: int) -> dict[str, int]:
    """Every sealed field re-wrapped under ``to_version``: rows changed, by field label."""
    return {
        field.label: sealed_field_rewrap(field=field, to_version=to_version)
        for field in SEALED_FIELDS
    }


def sealed_version_counts() -> dict[str, dict[int, int]]:
    """Rows per storage key version, by field label: a version at zero everywhere may be retired."""
    counts: dict[str, dict[int, int]] = {}
    for field in SEALED_FIELDS:
        rows = (
            field.model_class()
            .objects.values(field.version_field)
            .annotate(n=Count("pk"))
            .order_by(field.version_field)
        )
        counts[field.label] = {row[field.version_field]: row["n"] for row in rows}
    return counts


def sealed_values_unopenable() -> list[str]:
    """Every sealed value that does not open with the keys held now (empty when all open).

    Reads and decrypts every row: for the rotation test and for an operator checking, before
    deleting an old key file, that nothing still needs it. Returns labels and ids, no content.
    """
    from clinic.keys.at_rest import AtRestDecryptionError
    from clinic.keys.keyring import KeyringError

    failures = []
    for field in SEALED_FIELDS:
        for row in field.model_class().objects.iterator(chunk_size=200):
            try:
                blob_open(field.blob(row), owner=field.owner(row), purpose=field.purpose)
            except (AtRestDecryptionError, KeyringError) as exc:
                failures.append(f"{field.label} {row.pk}: {type(exc).__name__}")
    return failures
