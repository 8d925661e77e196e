"""WSGI entry point: `flask --app wsgi ...` and `gunicorn wsgi:app`."""

import os

from app import create_app

app = create_app()

if os.environ.get("ALPR_INPROCESS_SCHEDULER") == "1" and not app.config["REDIS_URL"]:
    from workers.inprocess import start_scheduler

    start_scheduler(app)
