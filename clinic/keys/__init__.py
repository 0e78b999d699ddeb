"""Server key management: the envelope (transport) key and versioned at-rest storage keys.

Key files live in ``settings.TELEREHAB_KEY_DIR`` (``TELEREHAB_KEY_DIR`` in the
environment, outside the repository in production; ``var/keys`` in
development, created on first run by ``clinic.core.keys``).  No key is ever
stored in the database.
"""
