"""ALPR Records: the application factory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from app import db
from app.config import load_settings
from app.core.edges import BoundedJSONProvider, RowIdConverter


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app from the environment, then `config` overrides (tests pass theirs)."""
    instance_path = Path(config["INSTANCE_PATH"]) if config and "INSTANCE_PATH" in config else None
    settings = load_settings(instance_path)
    app = Flask(
        __name__,
        instance_path=settings["INSTANCE_PATH"],
        template_folder=str(Path(__file__).resolve().parent.parent / "templates"),
        static_folder=str(Path(__file__).resolve().parent.parent / "static"),
    )
    app.json = BoundedJSONProvider(app)
    app.url_map.converters["int"] = RowIdConverter
    app.config.update(settings)
    if config:
        app.config.update(config)
    from app.config import (
        validate_records_schedule,
        validate_retention_days,
        validate_tile_url,
        validate_trusted_proxies,
    )

    validate_retention_days(app.config["RETENTION_DAYS"])
    validate_trusted_proxies(app.config["TRUSTED_PROXIES"])
    app.config["RECORDS_SCHEDULE"] = validate_records_schedule(app.config["RECORDS_SCHEDULE"])
    app.config["MAP_TILE_URL"] = validate_tile_url(app.config["MAP_TILE_URL"])

    register_proxy(app)
    db.init_app(app)
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_security(app)
    register_templates(app)
    register_cli(app)
    return app


def register_proxy(app: Flask) -> None:
    """Behind TLS proxies, take the client's address, scheme and host from X-Forwarded-*.

    Without it every request seems to come from the proxy over http: one login rate-limit
    bucket for everyone, and no HSTS. Off by default, since without a proxy a client could
    forge those headers.
    """
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def register_extensions(app: Flask) -> None:
    """Bind the bare extensions, the user loader and the job queue to this app."""
    from app.auth.models import User, user_for_session_id
    from app.extensions import csrf, htmx, limiter, login_manager

    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def _load_user(session_id: str) -> User | None:
        return user_for_session_id(db.db_session(), session_id)

    from workers.queue import init_app as init_queue

    init_queue(app)


def register_blueprints(app: Flask) -> None:
    """One blueprint per domain package."""
    from app.alpr.api import api_bp as alpr_api_bp
    from app.alpr.views import bp as alpr_bp
    from app.audit.views import bp as audit_bp
    from app.auth.views import bp as auth_bp
    from app.bca.views import bp as bca_bp
    from app.breaches.views import bp as breaches_bp
    from app.extensions import csrf
    from app.home.views import bp as home_bp
    from app.investigations.views import bp as investigations_bp
    from app.public.views import bp as public_bp
    from app.reports.views import bp as reports_bp
    from app.requests.views import bp as requests_bp
    from app.retention.views import bp as retention_bp

    csrf.exempt(alpr_api_bp)  # devices and agencies send bearer tokens, not cookies
    blueprints = (
        home_bp,
        auth_bp,
        audit_bp,
        alpr_bp,
        alpr_api_bp,
        investigations_bp,
        retention_bp,
        breaches_bp,
        bca_bp,
        reports_bp,
        public_bp,
        requests_bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)


def register_error_handlers(app: Flask) -> None:
    """JSON under /api/, HTML elsewhere, never a stack trace."""
    from app.errors import register_error_handlers as register

    register(app)


def register_security(app: Flask) -> None:
    """The access rule on every request, security headers on every response."""
    from app.auth.access import enforce_access
    from app.retention.views import refuse_while_restoring
    from app.security import apply_security_headers

    app.before_request(refuse_while_restoring)
    app.before_request(enforce_access)
    app.after_request(apply_security_headers)


def register_templates(app: Flask) -> None:
    """Filters and the role-aware navigation."""
    from app.templating import register as register_template_helpers

    register_template_helpers(app)


def register_cli(app: Flask) -> None:
    """Each domain's command group under `flask --app wsgi`."""
    from app.alpr.cli import agencies_cli, devices_cli, hotlist_cli, reads_cli
    from app.alpr.ocr.cli import ocr_cli
    from app.audit.cli import audit_cli
    from app.auth.cli import users_cli
    from app.bca.cli import bca_cli
    from app.demo.cli import demo_cli
    from app.reports.cli import reports_cli
    from app.retention.cli import backup_cli, retention_cli
    from workers.cli import jobs_cli

    groups = (users_cli, audit_cli, demo_cli, jobs_cli, retention_cli)
    for group in (
        *groups,
        devices_cli,
        hotlist_cli,
        reads_cli,
        agencies_cli,
        ocr_cli,
        bca_cli,
        reports_cli,
        backup_cli,
    ):
        app.cli.add_command(group)
