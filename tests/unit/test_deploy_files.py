"""The production files a department's IT uses as they are: compose.yaml parses and runs the
app the README describes, the Dockerfile installs what bootstrap does, the systemd units verify."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
QUEUES = ("ocr", "retention", "exports", "default")
WORKERS = tuple(f"worker-{queue}" for queue in QUEUES)
APP_SERVICES = ("migrate", "web", "api", *WORKERS, "cron", "sequencer")
SEQUENCE = ["flask", "--app", "wsgi", "audit", "sequence", "--follow"]
#: The optional settings of a scaled-out installation (replica, S3 pictures, the sequencer).
SCALE_OUT_SETTINGS = (
    "DATABASE_REPLICA_URL",
    "ALPR_REPLICA_MAX_LAG_SECONDS",
    "ALPR_IMAGE_STORE",
    "ALPR_S3_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
    "ALPR_AUDIT_SEQUENCER",
)
REQUIRED_SECRETS = ("SECRET_KEY", "ACP_HMAC_KEY", "POSTGRES_PASSWORD")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_runs_web_workers_schedules_and_migrations(compose):
    services = compose["services"]
    assert set(services) == {"postgres", "redis", *APP_SERVICES}
    assert services["migrate"]["command"] == ["alembic", "upgrade", "head"]
    for pool in ("web", "api"):
        command = services[pool]["command"]
        assert command[0] == "gunicorn" and command[-1] == "wsgi:app"
        assert "/readyz" in " ".join(services[pool]["healthcheck"]["test"])
    for queue in QUEUES:
        command = services[f"worker-{queue}"]["command"]
        assert command[:3] == ["rq", "worker", "--with-scheduler"] and command[-1] == queue
    assert services["cron"]["command"][:2] == ["rq", "cron"]
    assert services["cron"]["command"][-1] == "workers/cron_config.py"
    assert (ROOT / "workers" / "cron_config.py").is_file()
    assert services["sequencer"]["command"] == SEQUENCE
    for name in ("web", "api", *WORKERS, "cron", "sequencer"):
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )


def test_every_queue_has_its_workers_in_compose_and_systemd():
    from workers.queue import QUEUES as APP_QUEUES

    assert set(QUEUES) == set(APP_QUEUES)
    unit = (DEPLOY / "systemd" / "alpr-worker@.service").read_text()
    assert re.search(r"^ExecStart=\S*/rq worker .*%i$", unit, re.MULTILINE)
    for queue in QUEUES:
        assert f"alpr-worker@{queue}" in unit
    readme = (ROOT / "README.md").read_text()
    enable = re.search(r"systemctl enable --now alpr-web alpr-api alpr-cron ([^`]*)`", readme)
    enable = enable.group(1)
    assert enable.split() == [f"alpr-worker@{queue}" for queue in QUEUES]


def test_cameras_have_a_pool_of_their_own_that_yields_the_cores_to_staff(compose):
    """A burst of camera batches must not queue an officer's search (bench/load.py)."""
    services = compose["services"]
    web, api = (services[name]["command"] for name in ("web", "api"))
    assert web[web.index("--bind") + 1].endswith(":8000")
    assert api[api.index("--bind") + 1].endswith(":8001")
    assert services["api"]["cpu_shares"] < services["web"].get("cpu_shares", 1024)
    unit = (DEPLOY / "systemd" / "alpr-api.service").read_text()
    assert re.search(r"^ExecStart=\S*/gunicorn .*--bind 127\.0\.0\.1:8001 .*wsgi:app$", unit, re.M)
    assert int(re.search(r"^Nice=(\d+)$", unit, re.MULTILINE).group(1)) > 0


def test_ocr_workers_keep_their_engines_loaded(compose):
    """OCR jobs run in the worker (SimpleWorker); the other queues fork a horse per job."""
    ocr = compose["services"]["worker-ocr"]["command"]
    assert ocr[ocr.index("--worker-class") + 1] == "rq.worker.SimpleWorker"
    template = (DEPLOY / "systemd" / "alpr-worker@.service").read_text()
    assert "Environment=RQ_WORKER_CLASS=rq.worker.Worker" in template
    assert "--worker-class ${RQ_WORKER_CLASS}" in template
    drop_in = DEPLOY / "systemd" / "alpr-worker@ocr.service.d" / "simple-worker.conf"
    assert "Environment=RQ_WORKER_CLASS=rq.worker.SimpleWorker" in drop_in.read_text()


def test_the_audit_sequencer_runs_once_in_compose_and_systemd(compose):
    """ALPR_AUDIT_SEQUENCER=process leaves every entry unchained until this process runs."""
    assert "replicas" not in compose["services"]["sequencer"].get("deploy", {})
    unit = (DEPLOY / "systemd" / "alpr-sequencer.service").read_text()
    (exec_start,) = re.findall(r"^ExecStart=(.*)$", unit, re.MULTILINE)
    assert exec_start.split() == ["/opt/alpr/.venv/bin/flask", *SEQUENCE[1:]]
    assert re.search(r"^Restart=always$", unit, re.MULTILINE)
    readme = (ROOT / "README.md").read_text()
    assert "systemctl enable --now alpr-sequencer" in readme
    assert "ALPR_AUDIT_SEQUENCER=process" in readme


def test_compose_passes_the_scale_out_settings_from_the_environment(compose):
    environment = compose["services"]["web"]["environment"]
    for name in SCALE_OUT_SETTINGS:
        assert environment[name].startswith(f"${{{name}:-"), name
    for name in APP_SERVICES:
        assert compose["services"][name]["environment"] == environment


def test_compose_holds_no_secret_and_demands_each_one(compose):
    text = (DEPLOY / "compose.yaml").read_text()
    for name in REQUIRED_SECRETS:
        assert re.search(rf"\$\{{{name}:\?", text), f"{name} must be required, not defaulted"
    for name in APP_SERVICES:
        environment = compose["services"][name]["environment"]
        assert environment["ALPR_ENV"] == "production"
        assert environment["ALPR_AUDIT_SIGNING_KEY_FILE"].startswith("/run/secrets/")
        assert "audit_signing_key" in compose["services"][name]["secrets"]
    assert not re.search(r"(SECRET_KEY|ACP_HMAC_KEY):\s+[0-9a-f]{16,}", text)


def test_the_image_installs_the_runtime_packages_bootstrap_installs():
    bootstrap = (ROOT / "scripts" / "bootstrap").read_text()
    runtime = re.search(r"RUNTIME_PACKAGES=\(([^)]*)\)", bootstrap).group(1).split()
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in runtime:
        assert package in dockerfile
    assert "USER alpr" in dockerfile and "wsgi:app" in dockerfile


def test_the_example_environment_names_every_production_setting_and_no_key():
    example = (DEPLOY / "alpr.env.example").read_text()
    settings = dict(
        line.split("=", 1) for line in example.splitlines() if line and not line.startswith("#")
    )
    assert settings["ALPR_ENV"] == "production"
    assert settings["SECRET_KEY"] == "" and settings["ACP_HMAC_KEY"] == ""
    assert {"DATABASE_URL", "REDIS_URL", "ALPR_AUDIT_SIGNING_KEY_FILE"} <= set(settings)
    assert set(SCALE_OUT_SETTINGS) <= set(settings)
    assert settings["DATABASE_REPLICA_URL"] == "" and settings["ALPR_AUDIT_SEQUENCER"] == ""
    assert settings["AWS_ACCESS_KEY_ID"] == "" and settings["AWS_SECRET_ACCESS_KEY"] == ""


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd is not installed")
def test_the_systemd_units_verify(tmp_path):
    """Each unit as installed, with /opt/alpr pointing at this checkout and its environment."""
    units = []
    folder = DEPLOY / "systemd"
    for unit in sorted([*folder.glob("*.service"), *folder.glob("*.timer")]):
        text = unit.read_text().replace("/opt/alpr/.venv/bin", str(Path(sys.executable).parent))
        text = text.replace("/opt/alpr", str(ROOT))
        text = text.replace("/etc/alpr/alpr.env", str(DEPLOY / "alpr.env.example"))
        name = unit.name.replace("@.service", "@ocr.service")
        (tmp_path / name).write_text(text)
        units.append(str(tmp_path / name))
    result = subprocess.run(
        ["systemd-analyze", "verify", *units], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr
