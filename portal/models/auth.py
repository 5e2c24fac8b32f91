from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, TimestampMixin
from portal.models.types import str_enum

# The longest page a sign-in link may lead back to.
NEXT_PATH_MAX_LENGTH = 500


class TokenPurpose(str, enum.Enum):
    SIGN_IN = "sign_in"
    EMAIL_CHANGE = "email_change"


class LoginToken(TimestampMixin, Base):
    """A single-use emailed link (sign-in, or confirming a new email address).

    Only the SHA-256 of the token is stored.
    """

    __tablename__ = "login_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[TokenPurpose] = mapped_column(
        str_enum(TokenPurpose, "token_purpose"),
        default=TokenPurpose.SIGN_IN,
        server_default=TokenPurpose.SIGN_IN.value,
    )
    new_email: Mapped[str | None] = mapped_column(String(254))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class LinkRequest(TimestampMixin, Base):
    """Someone asked at /login for a sign-in link to this address.

    The request only writes this row, the same for any address; the worker finds the customer,
    sends the link and deletes the row, so neither the answer nor its timing tells whether the
    address has an account."""

    __tablename__ = "link_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(8))
    next_path: Mapped[str | None] = mapped_column(String(NEXT_PATH_MAX_LENGTH))
    request_id: Mapped[str | None] = mapped_column(String(64))
    # A fresh copy of this action link was asked for (its page said it no longer works): the
    # worker sends it to the address on file, and `email` is then empty.
    link_id: Mapped[int | None]


class PrincipalType(str, enum.Enum):
    CUSTOMER = "customer"
    STAFF = "staff"


class UserSession(TimestampMixin, Base):
    """A signed-in browser. The cookie holds the token; deleting the row signs it out."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    principal_type: Mapped[PrincipalType] = mapped_column(str_enum(PrincipalType, "principal_type"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), index=True)
    expires_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    user_agent: Mapped[str | None] = mapped_column(String(300))
