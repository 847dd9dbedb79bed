"""pytest fixtures for the API tests: ``pytest_plugins = ["api.testing"]`` in a test module.

``app`` runs on every database of the shared ``db_url`` fixture with a simulated clock that starts
at :data:`api.testkit.START`; ``tokens`` holds one API token per role; ``client`` is Flask's test client.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from .testkit import close_app, issue_tokens, make_app


@pytest.fixture
def app(db_url: str) -> Iterator[Flask]:
    application = make_app(db_url)
    try:
        yield application
    finally:
        close_app(application)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def tokens(app: Flask) -> dict[str, str]:
    return issue_tokens(app)
