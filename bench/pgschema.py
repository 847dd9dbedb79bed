"""A fresh PostgreSQL schema per benchmark run, so runs never see each other's rows."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from engine.store import make_engine

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def fresh_schema() -> str:
    """Create an empty schema and return a URL whose connections use it."""
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    return f"{PG_URL}?options=-csearch_path%3D{schema}"
