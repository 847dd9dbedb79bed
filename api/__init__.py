"""HTTP API: a Flask app factory with one blueprint per resource over ``engine`` services."""

from __future__ import annotations

from typing import Any

from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(DATABASE_URL=None, SIMULATED_CLOCK=False)
    if config:
        app.config.update(config)

    from .health import bp as health_bp

    app.register_blueprint(health_bp)
    return app
