"""API tokens: only a SHA-256 of each token is stored."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import ApiToken


def hash_token(token: str) -> str:
    # A plain hash is enough: tokens are 256-bit random, so there is nothing to brute-force,
    # and a deterministic hash lets us look the token up by an indexed unique column.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, name: str, role: str, now: datetime,
                 groups: Sequence[str] | None = None) -> str:
    """Create a token and return it in plain text. This is the only time it is visible.

    ``groups`` limits which tasks the user may claim and complete to those offered to one of
    them (or to the user by name); without groups the role alone decides.
    """
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, role=role, token_hash=hash_token(token), created_at=now,
                         groups=sorted(set(groups)) if groups else None))
    session.flush()
    return token


def find_token(session: Session, token: str) -> ApiToken | None:
    """The live (not revoked) token row for a presented token, or None."""
    return find_token_hash(session, hash_token(token)) if token else None


def find_token_hash(session: Session, token_hash: str) -> ApiToken | None:
    """The live token row with this hash (what a signed-in browser session keeps), or None."""
    return session.scalars(
        select(ApiToken).where(ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None))
    ).one_or_none()


def revoke_token(session: Session, token_id: int, now: datetime) -> bool:
    """Revoke by id; False if there is no such live token."""
    row = session.get(ApiToken, token_id)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = now
    return True


def list_tokens(session: Session) -> Sequence[ApiToken]:
    return session.scalars(select(ApiToken).order_by(ApiToken.id)).all()
