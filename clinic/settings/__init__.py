"""Settings by environment: ``base`` holds everything; ``dev``, ``test`` and
``production`` only change what differs. All environment variables are read
in ``clinic.settings.environment`` so there is one place to look.
"""
