"""gunicorn settings read from the repository root (gunicorn loads ./gunicorn.conf.py itself).

Only what keeps patient data out of gunicorn's own logs; workers, bind address and the rest
are given on the command line (scripts/run_platform.py, README).
"""

logger_class = "clinic.core.gunicorn_logging.PhiRedactingGunicornLogger"
