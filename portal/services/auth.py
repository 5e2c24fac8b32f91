"""Sign-in links, password sign-in and server-side sessions for subscribers and staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select

from portal.extensions import db
from portal.models import (
    Customer,
    LinkRequest,
    LoginToken,
    PrincipalType,
    StaffUser,
    TokenPurpose,
    UserSession,
    utcnow,
)
from portal.models.auth import NEXT_PATH_MAX_LENGTH
from portal.services import audit, contact, links, notifications, policy, tokens
from portal.services.actors import Actor
from portal.services.errors import InvalidCredentials, InvalidToken
from portal.services.passwords import verify_password
from portal.services.tokens import digest as _digest
from portal.services.uow import transactional, unit_of_work
from portal.services.urls import public_url

# Refreshing last_seen_at on every request would turn every page view into a write.
LAST_SEEN_GRANULARITY = timedelta(minutes=5)


def find_customer_by_email(email: str) -> Customer | None:
    return db.session.scalar(select(Customer).where(Customer.email == contact.normalize_email(email)))


# --- sign-in links ---------------------------------------------------------------------------


def issue_token(
    customer: Customer,
    purpose: TokenPurpose = TokenPurpose.SIGN_IN,
    new_email: str | None = None,
    minutes: int | None = None,
) -> str:
    """A single-use link token; longer lives are for links in reminders (a failed payment)."""
    token = tokens.new_secret()
    minutes = minutes or policy.get().sign_in_link_minutes
    db.session.add(
        LoginToken(
            customer_id=customer.id,
            token_hash=_digest(token),
            purpose=purpose,
            new_email=new_email,
            expires_at=utcnow() + timedelta(minutes=minutes),
        )
    )
    return token


def login_url(token: str, next_path: str | None = None) -> str:
    return public_url("auth.login_with_token", token=token, **({"next": next_path} if next_path else {}))


@transactional
def request_login_link(email: str, locale: str, actor: Actor, next_path: str | None = None) -> None:
    """Note that a sign-in link was asked for; the worker sends it (`send_requested_links`).

    The same row is written whether or not the address belongs to a customer, so neither the
    answer nor the time it takes tells anyone which addresses have an account."""
    db.session.add(
        LinkRequest(
            email=contact.normalize_email(email),
            locale=locale,
            next_path=next_path if next_path and len(next_path) <= NEXT_PATH_MAX_LENGTH else None,
            request_id=actor.request_id,
        )
    )


def send_requested_links(batch_size: int = 50) -> int:
    """Worker: email a link for each request whose address is a customer's; returns how many
    requests were answered. Each batch is claimed (SKIP LOCKED on PostgreSQL), answered and
    deleted in one transaction, so several workers never send one link twice."""
    answered = 0
    while True:
        with unit_of_work():
            batch = db.session.scalars(
                select(LinkRequest).order_by(LinkRequest.id).limit(batch_size).with_for_update(skip_locked=True)
            ).all()
            for link_request in batch:
                _send_link(link_request)
                db.session.delete(link_request)
        if not batch:
            return answered
        answered += len(batch)


def _send_link(link_request: LinkRequest) -> None:
    if link_request.link_id is not None:
        links.send_fresh_copy(link_request.link_id, link_request.request_id)
        return
    customer = find_customer_by_email(link_request.email)
    if customer is None:
        return
    token = issue_token(customer)
    notifications.queue_email(
        "login_link",
        customer.email,
        customer.locale or link_request.locale,
        customer_name=customer.name,
        url=login_url(token, link_request.next_path),
        minutes=policy.get().sign_in_link_minutes,
    )
    audit.record(
        Actor.system("login page", link_request.request_id),
        "auth.link_requested",
        subject_type="customer",
        subject_id=customer.id,
        customer_id=customer.id,
    )


@transactional
def create_portal_session_url(customer: Customer, actor: Actor, next_path: str | None = None) -> str:
    """A single-use sign-in URL handed out by a merchant or agent (CLI and API)."""
    token = issue_token(customer)
    audit.record(
        actor, "auth.portal_session_created", subject_type="customer", subject_id=customer.id, customer_id=customer.id
    )
    return login_url(token, next_path)


def check_token(token: str, purpose: TokenPurpose = TokenPurpose.SIGN_IN) -> LoginToken:
    """Whether a link still works, without using it up (the GET confirm page)."""
    found = db.session.scalar(
        select(LoginToken).where(
            LoginToken.token_hash == _digest(token),
            LoginToken.purpose == purpose,
            LoginToken.used_at.is_(None),
            LoginToken.expires_at > utcnow(),
        )
    )
    if found is None:
        raise InvalidToken()
    return found


def token_owner(token: str) -> Customer | None:
    """Whose sign-in link this is, used or not (its page speaks their language)."""
    return db.session.scalar(
        select(Customer)
        .join(LoginToken, LoginToken.customer_id == Customer.id)
        .where(LoginToken.token_hash == _digest(token))
    )


def check_login_token(token: str) -> Customer:
    return db.session.get(Customer, check_token(token).customer_id)


def use_token(token: str, purpose: TokenPurpose) -> LoginToken:
    """Use a link once, inside the caller's unit of work.

    The conditional UPDATE makes racing requests produce one winner.
    """
    token_id = tokens.use_once(LoginToken, LoginToken.token_hash == _digest(token), LoginToken.purpose == purpose)
    if token_id is None:
        raise InvalidToken()
    return db.session.get(LoginToken, token_id)


def _record_sign_in(
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: int,
    customer_id: int | None,
    *,
    method: str | None = None,
    failed: bool = False,
) -> None:
    fields = {"subject_type": subject_type, "subject_id": subject_id, "customer_id": customer_id}
    if failed:
        audit.record_failure(actor, action, InvalidCredentials.code, **fields)
        return
    audit.record(actor, action, after={"method": method} if method else None, **fields)


@transactional
def sign_in_with_token(token: str, user_agent: str | None = None, request_id: str | None = None) -> Principal:
    """Use a sign-in link (once, whoever races for it) and open a session, together."""
    customer = db.session.get(Customer, use_token(token, TokenPurpose.SIGN_IN).customer_id)
    _record_sign_in(
        Actor.for_customer(customer, request_id), "auth.signed_in", "customer", customer.id, customer.id, method="link"
    )
    return start_session(customer=customer, user_agent=user_agent)


@transactional
def sign_in_customer(
    email: str, password: str, user_agent: str | None = None, request_id: str | None = None
) -> Principal:
    customer = find_customer_by_email(email)
    ok = verify_password(customer.password_hash if customer else None, password)
    if customer is not None:
        _record_sign_in(
            Actor.for_customer(customer, request_id),
            "auth.signed_in",
            "customer",
            customer.id,
            customer.id,
            method="password",
            failed=not ok,
        )
    if not ok:
        raise InvalidCredentials()
    return start_session(customer=customer, user_agent=user_agent)


@transactional
def sign_in_staff(email: str, password: str, user_agent: str | None = None, request_id: str | None = None) -> Principal:
    """Deactivated members are refused exactly like a wrong password."""
    staff = db.session.scalar(select(StaffUser).where(StaffUser.email == contact.normalize_email(email)))
    usable = staff is not None and staff.active
    ok = verify_password(staff.password_hash if usable else None, password)
    if staff is not None:
        _record_sign_in(
            Actor.for_staff(staff, request_id), "auth.staff_signed_in", "staff", staff.id, None, failed=not ok
        )
    if not ok:
        raise InvalidCredentials()
    return start_session(staff=staff, user_agent=user_agent)


# --- sessions --------------------------------------------------------------------------------


@dataclass
class Principal:
    """The signed-in person as Flask-Login sees them: a customer or a staff member."""

    session_token: str
    customer: Customer | None = None
    staff: StaffUser | None = None

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return self.session_token

    @property
    def is_customer(self) -> bool:
        return self.customer is not None

    @property
    def is_staff(self) -> bool:
        return self.staff is not None

    @property
    def display_name(self) -> str:
        return (self.customer or self.staff).name

    def actor(self, request_id: str | None = None) -> Actor:
        if self.customer is not None:
            return Actor.for_customer(self.customer, request_id)
        return Actor.for_staff(self.staff, request_id)


@transactional
def start_session(
    *, customer: Customer | None = None, staff: StaffUser | None = None, user_agent: str | None = None
) -> Principal:
    token = tokens.new_secret()
    now = utcnow()
    db.session.add(
        UserSession(
            token_hash=_digest(token),
            principal_type=PrincipalType.CUSTOMER if customer else PrincipalType.STAFF,
            customer_id=customer.id if customer else None,
            staff_user_id=staff.id if staff else None,
            expires_at=now + timedelta(hours=current_app.config["SESSION_LIFETIME_HOURS"]),
            last_seen_at=now,
            user_agent=(user_agent or "")[:300] or None,
        )
    )
    return Principal(token, customer=customer, staff=staff)


def load_session(token: str) -> Principal | None:
    """The signed-in person for a session token: one indexed query per request."""
    row = db.session.execute(
        select(UserSession, Customer, StaffUser)
        .outerjoin(Customer, Customer.id == UserSession.customer_id)
        .outerjoin(StaffUser, StaffUser.id == UserSession.staff_user_id)
        .where(UserSession.token_hash == _digest(token), UserSession.expires_at > utcnow())
    ).first()
    if row is None:
        return None
    user_session, customer, staff = row
    if user_session.principal_type is PrincipalType.STAFF:
        if staff is None or not staff.active:
            return None
        principal = Principal(token, staff=staff)
    else:
        if customer is None:
            return None
        principal = Principal(token, customer=customer)
    now = utcnow()
    if now - user_session.last_seen_at > LAST_SEEN_GRANULARITY:
        with unit_of_work():
            user_session.last_seen_at = now
    return principal


@transactional
def end_session(token: str) -> None:
    db.session.execute(delete(UserSession).where(UserSession.token_hash == _digest(token)))


def end_sessions(*, staff_id: int | None = None, customer_id: int | None = None, keep_token: str | None = None) -> None:
    """Sign a person out everywhere (but the current browser, when given).

    In the caller's unit of work, so a role or password change and the sign-out land together.
    """
    column, value = (
        (UserSession.staff_user_id, staff_id) if staff_id is not None else (UserSession.customer_id, customer_id)
    )
    statement = delete(UserSession).where(column == value)
    if keep_token:
        statement = statement.where(UserSession.token_hash != _digest(keep_token))
    db.session.execute(statement)


@transactional
def purge_expired() -> int:
    """Housekeeping for the worker: expired sessions and long-dead sign-in tokens."""
    now = utcnow()
    removed = db.session.execute(delete(UserSession).where(UserSession.expires_at <= now)).rowcount
    removed += db.session.execute(delete(LoginToken).where(LoginToken.expires_at <= now - timedelta(days=1))).rowcount
    return removed
