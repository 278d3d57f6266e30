"""Follow-up service Flask application factory."""

from __future__ import annotations

import logging

from flask import Flask

from followup_service import metrics as followup_metrics
from followup_service.accounts.service import AccountService
from followup_service.bootstrap import bootstrap
from followup_service.config import load_settings
from shared import logs
from shared.config import Settings
from shared.health import database_check, kafka_check, redis_check
from shared.metrics import metrics_blueprint
from shared.outage import unavailable_part
from shared.security_headers import install_security_headers
from shared.web import (
    health_blueprint,
    install_json_errors,
    install_request_ids,
    install_url_checks,
)
from shared.web_auth import install_auth


def create_app(settings: Settings | None = None) -> Flask:
    """Build the follow-up app; tests pass their own settings."""
    settings = settings or load_settings()
    followup = bootstrap(settings)
    app = Flask(__name__)
    app.config.update(SETTINGS=settings, MAX_CONTENT_LENGTH=settings.max_body_bytes)
    app.extensions["followup"] = followup
    logs.configure_once(settings.service_name, "api")
    install_request_ids(app)
    install_json_errors(app)
    install_url_checks(app)
    install_security_headers(app)
    tokens = install_auth(app, settings, followup.redis)
    accounts = AccountService(followup, tokens)
    tokens.revocations.durable = accounts.record_revocation  # sign-outs outlive Redis
    tokens.rebuild_credentials = accounts.rebuild_credentials
    app.extensions["accounts"] = app.extensions["sign_in"] = accounts
    _publish_account_standing(accounts)

    from followup_service.api import bp as api_bp
    from followup_service.openapi import bp as openapi_bp
    from followup_service.pages import register_pages
    from followup_service.photos.api import install_photos
    from followup_service.tracking import bp as tracking_bp

    app.register_blueprint(api_bp)
    app.register_blueprint(tracking_bp)
    app.register_blueprint(openapi_bp)
    app.register_blueprint(
        health_blueprint(
            {
                "database": database_check(followup.engine),
                "kafka": kafka_check(settings.kafka_bootstrap_servers),
                "redis": redis_check(followup.redis),
            }
        )
    )
    app.register_blueprint(metrics_blueprint(followup_metrics.API_METRICS))
    register_pages(app)
    install_photos(app)
    return app


def _publish_account_standing(accounts: AccountService) -> None:
    """Both services refuse every credential while Redis lacks the complete copy of
    standings and revocations, so write it at start-up (the worker checks for it every
    second, and a request of this service that finds it missing rebuilds it)."""
    try:
        accounts.publish_all()
    except Exception as exc:  # a cold Redis or database must not stop the API from starting
        part = unavailable_part(exc)
        if part is None:
            logging.getLogger(__name__).exception("could not publish account standing yet")
        else:  # the first request that needs it, or the worker, rebuilds it
            logging.getLogger(__name__).warning("credential cache not written: %s away", part)
