"""Intake service Flask application factory."""

from __future__ import annotations

from flask import Flask

from intake_service.bootstrap import bootstrap
from intake_service.config import load_settings
from shared import logs
from shared.config import Settings
from shared.health import database_check, kafka_check, redis_check
from shared.metrics import metrics_blueprint
from shared.security_headers import install_security_headers
from shared.web import (
    health_blueprint,
    install_json_errors,
    install_request_ids,
    install_url_checks,
)
from shared.web_auth import install_auth


def create_app(settings: Settings | None = None) -> Flask:
    """Build the intake app; tests pass their own settings."""
    settings = settings or load_settings()
    intake = bootstrap(settings)
    app = Flask(__name__)
    app.config.update(SETTINGS=settings, MAX_CONTENT_LENGTH=settings.max_body_bytes)
    app.extensions["intake"] = intake
    logs.configure_once(settings.service_name, "api")
    install_request_ids(app)
    install_json_errors(app)
    install_url_checks(app)
    install_security_headers(app)
    install_auth(app, settings, intake.redis)

    from intake_service.api import bp as api_bp
    from intake_service.notify_requests import internal_blueprint
    from intake_service.open311 import build_blueprint as open311_blueprint
    from intake_service.openapi import bp as openapi_bp
    from intake_service.pages import register_pages
    from intake_service.photos import install_photos
    from intake_service.tables import notify_requests

    app.register_blueprint(api_bp)
    app.register_blueprint(openapi_bp)
    app.register_blueprint(open311_blueprint())
    app.register_blueprint(internal_blueprint(notify_requests))
    app.register_blueprint(
        health_blueprint(
            {
                "database": database_check(intake.engine),
                "kafka": kafka_check(settings.kafka_bootstrap_servers),
                "redis": redis_check(intake.redis),
            }
        )
    )
    app.register_blueprint(metrics_blueprint())
    register_pages(app)
    install_photos(app)
    return app
