# ALPR Records, one image for the web process, the job workers and the schedules
# (deploy/compose.yaml runs it three ways). Debian's packages as scripts/bootstrap installs them,
# and the PostgreSQL client programs for `flask --app wsgi backup create|restore`.
FROM python:3.11-slim-bookworm
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      tesseract-ocr libpango-1.0-0 libpangoft2-1.0-0 postgresql-client \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home-dir /var/lib/alpr --create-home --uid 10001 alpr
WORKDIR /opt/alpr
COPY pyproject.toml README.md alembic.ini wsgi.py ./
COPY app app
COPY workers workers
COPY migrations migrations
COPY templates templates
COPY static static
RUN pip install --no-cache-dir .
USER alpr
ENV ALPR_ENV=production ALPR_INSTANCE_PATH=/var/lib/alpr
EXPOSE 8000
CMD ["gunicorn", "--workers", "4", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "wsgi:app"]
