"""One-action links: what merchants put in emails ("Skip next delivery", "Update your card").

A link is scoped to one customer, one action and its subject (an order, a subscription, a case or
a page), expires (the merchant's policy: sign-in links in minutes, action links in hours), carries
the subscriber's language, and acts once. Opening it shows what would happen; only `act` (the
POST) does it, through `actions.perform`, the path every other caller takes, and then signs the
browser in. A link that no longer works can be sent again, fresh, to the address on file.

Other code builds links with `action_url(customer, action, subject)`.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import update

from portal.extensions import db
from portal.models import (
    ActionLink,
    ActorType,
    Case,
    Customer,
    LinkAction,
    LinkRequest,
    Order,
    Subscription,
    SubscriptionStatus,
    utcnow,
)
from portal.models.links import LINK_PATH_MAX_LENGTH
from portal.services import actions, audit, auth, notifications, policy, subscriptions, tokens
from portal.services.actors import Actor
from portal.services.errors import DomainError
from portal.services.lookup import is_record_id
from portal.services.subscriptions.schedule import Impact
from portal.services.uow import standalone, transactional
from portal.services.urls import public_url
from portal.text import lazy_text as _l
from portal.web import is_safe_next

ORDER_ACTIONS = frozenset({LinkAction.SKIP, LinkAction.UNSKIP})
SUBSCRIPTION_ACTIONS = frozenset(
    {LinkAction.PAUSE, LinkAction.RESUME, LinkAction.REACTIVATE, LinkAction.KEEP, LinkAction.ORDER_NOW}
)
# Links that only sign in and open a page; the others change a subscription first.
PAGE_ACTIONS = frozenset({LinkAction.SIGN_IN, LinkAction.UPDATE_CARD, LinkAction.OPEN_CASE})


class InvalidLinkRequest(DomainError):
    status = 422
    code = "invalid_link"
    default_message = _l("That link cannot be made.")


class LinkUnusable(DomainError):
    """Used, expired, revoked or not a link at all: the same answer for each."""

    status = 400
    code = "link_unusable"
    default_message = _l("This link has expired or was already used.")


def lifetime(action: LinkAction) -> timedelta:
    rules = policy.get()
    if action is LinkAction.SIGN_IN:
        return timedelta(minutes=rules.sign_in_link_minutes)
    return timedelta(hours=rules.action_link_hours)


@dataclass(frozen=True)
class Scope:
    """What a link may touch, checked against the customer when it is made."""

    subscription: Subscription | None = None
    order: Order | None = None
    case: Case | None = None
    params: dict = field(default_factory=dict)
    next_path: str | None = None


def _invalid(message) -> InvalidLinkRequest:
    return InvalidLinkRequest(message)


def _scope(customer: Customer, action: LinkAction, subject, params: dict | None, next_path: str | None) -> Scope:
    params = dict(params or {})
    if action in ORDER_ACTIONS:
        if not isinstance(subject, Order) or subject.subscription is None:
            raise _invalid(_l("This action needs one of the customer's orders."))
        if subject.subscription.customer_id != customer.id:
            raise _invalid(_l("That order does not belong to this customer."))
        return Scope(subscription=subject.subscription, order=subject)
    if action in SUBSCRIPTION_ACTIONS:
        if not isinstance(subject, Subscription):
            raise _invalid(_l("This action needs one of the customer's subscriptions."))
        if subject.customer_id != customer.id:
            raise _invalid(_l("That subscription does not belong to this customer."))
        if action is LinkAction.PAUSE:
            options = policy.get().pause_cycle_options
            cycles = params.get("cycles", options[0])
            if cycles not in options:
                raise _invalid(_l("A pause link may pause for one of the lengths the shop offers."))
            params = {"cycles": cycles}
        else:
            params = {}
        return Scope(subscription=subject, params=params)
    if action is LinkAction.OPEN_CASE:
        if not isinstance(subject, Case) or subject.customer_id != customer.id:
            raise _invalid(_l("That case does not belong to this customer."))
        return Scope(case=subject)
    if subject is not None:
        raise _invalid(_l("This kind of link has no subject."))
    if next_path is not None and (not is_safe_next(next_path) or len(next_path) > LINK_PATH_MAX_LENGTH):
        raise _invalid(_l("A sign-in link may only lead to a page of this portal."))
    return Scope(next_path=next_path if action is LinkAction.SIGN_IN else None)


def url_of(link: ActionLink, secret: str) -> str:
    return public_url("links.open_link", link_id=link.id, secret=secret)


@transactional
def create(
    actor: Actor,
    customer: Customer,
    action: LinkAction | str,
    subject=None,
    *,
    params: dict | None = None,
    next_path: str | None = None,
    valid_for: timedelta | None = None,
    locale: str | None = None,
    record: bool = True,
) -> tuple[ActionLink, str]:
    """A new link and its URL (the secret exists only in the URL); joins the caller's unit of work.

    `record=False` is for links inside the portal's own emails: the change that sends the email
    is the audit event, and the subscriber's activity page is not filled with link rows."""
    try:
        action = LinkAction(action)
    except ValueError:
        raise _invalid(_l("There is no such link action.")) from None
    scope = _scope(customer, action, subject, params, next_path)
    secret = tokens.new_secret()
    link = ActionLink(
        customer_id=customer.id,
        action=action,
        subscription_id=scope.subscription.id if scope.subscription else None,
        order_id=scope.order.id if scope.order else None,
        case_id=scope.case.id if scope.case else None,
        params=scope.params,
        next_path=scope.next_path,
        locale=locale or notifications.recipient_locale(customer),
        token_hash=tokens.digest(secret),
        expires_at=utcnow() + (valid_for or lifetime(action)),
        created_by=(actor.label or actor.type.value)[:120],
    )
    db.session.add(link)
    db.session.flush()
    if not record:
        return link, url_of(link, secret)
    audit.record(
        actor,
        "link.created",
        subject_type="link",
        subject_id=link.id,
        customer_id=customer.id,
        after={"action": action.value, **_subject_record(link)},
    )
    return link, url_of(link, secret)


def action_url(
    customer: Customer,
    action: LinkAction | str,
    subject=None,
    *,
    params: dict | None = None,
    next_path: str | None = None,
    valid_for: timedelta | None = None,
    actor: Actor | None = None,
) -> str:
    """The URL of a one-action link for an email, in the caller's unit of work.

    `subject` is the order (skip, unskip), the subscription (pause, resume, reactivate, keep,
    order now) or the case (open case) it acts on; none for sign-in and update card."""
    _link, url = create(
        actor or Actor.system("email"),
        customer,
        action,
        subject,
        params=params,
        next_path=next_path,
        valid_for=valid_for,
        record=False,
    )
    return url


def _subject_of(link: ActionLink) -> Order | Subscription | Case | None:
    if link.order_id is not None:
        return db.session.get(Order, link.order_id)
    if link.subscription_id is not None:
        return db.session.get(Subscription, link.subscription_id)
    if link.case_id is not None:
        return db.session.get(Case, link.case_id)
    return None


def _subject_record(link: ActionLink) -> dict:
    names = ("subscription_id", "order_id", "case_id", "next_path")
    return {name: getattr(link, name) for name in names if getattr(link, name) is not None} | link.params


# --- opening a link -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Opened:
    """A link as its page shows it. `usable` is False for used, expired and revoked links,
    which still name their owner's language and action so the page can offer a fresh copy."""

    link: ActionLink
    usable: bool
    subscription: Subscription | None = None
    impact: Impact | None = None
    refusal: DomainError | None = None


def _matching(link_id: int, secret: str) -> ActionLink | None:
    link = db.session.get(ActionLink, link_id) if is_record_id(link_id) else None
    if link is None or not hmac.compare_digest(link.token_hash, tokens.digest(secret)):
        return None
    return link


def _usable(link: ActionLink) -> bool:
    return link.used_at is None and link.revoked_at is None and link.expires_at > utcnow()


def _service_params(link: ActionLink) -> dict:
    return {"order_id": link.order_id} if link.order_id else dict(link.params)


def open_link(link_id: int, secret: str) -> Opened:
    """What the link would do, with the impact preview; changes and records nothing (mail
    scanners and previews open links)."""
    link = _matching(link_id, secret)
    if link is None:
        raise LinkUnusable()
    if not _usable(link):
        return Opened(link, usable=False)
    if link.action in PAGE_ACTIONS:
        return Opened(link, usable=True)
    subscription = db.session.get(Subscription, link.subscription_id)
    try:
        impact = subscriptions.check_preview(subscription, link.action.value, **_service_params(link))
    except DomainError as error:
        return Opened(link, usable=True, subscription=subscription, refusal=error)
    return Opened(link, usable=True, subscription=subscription, impact=impact)


@dataclass(frozen=True)
class Acted:
    principal: auth.Principal
    link: ActionLink
    result: actions.ActionResult | None = None
    # A refusal of the change itself (a policy, a stale version): the link is spent and the
    # subscriber, signed in, sees why on the page of the subscription.
    refusal: DomainError | None = None


def link_actor(link: ActionLink, request_id: str | None = None) -> Actor:
    return Actor(ActorType.LINK, link.customer_id, f"link {link.id}", request_id)


@standalone
def _use(
    link_id: int, secret: str, user_agent: str | None, request_id: str | None
) -> tuple[ActionLink, auth.Principal]:
    """Spend the link and sign in, committed together before the change runs (ordering now
    charges a card, which happens outside any open transaction)."""
    link = _matching(link_id, secret)
    if link is None or tokens.use_once(ActionLink, ActionLink.id == link.id, ActionLink.revoked_at.is_(None)) is None:
        raise LinkUnusable()
    db.session.refresh(link)
    customer = db.session.get(Customer, link.customer_id)
    audit.record(
        link_actor(link, request_id),
        "link.used",
        subject_type="link",
        subject_id=link.id,
        customer_id=customer.id,
        after={"action": link.action.value, **_subject_record(link)},
    )
    return link, auth.start_session(customer=customer, user_agent=user_agent)


def act(link_id: int, secret: str, version: int | None, user_agent: str | None, request_id: str | None) -> Acted:
    """The confirm button: use the link once (whoever races for it), then do its action as the
    portal would, with the version the page showed."""
    link, principal = _use(link_id, secret, user_agent, request_id)
    if link.action in PAGE_ACTIONS:
        return Acted(principal, link)
    subscription = db.session.get(Subscription, link.subscription_id)
    try:
        result = actions.perform(
            link_actor(link, request_id),
            subscription,
            link.action.value,
            subscription.version if version is None else version,
            **_service_params(link),
        )
    except DomainError as error:
        return Acted(principal, link, refusal=error)
    return Acted(principal, link, result)


# --- fresh copies and revocation ------------------------------------------------------------------


@transactional
def request_fresh_copy(link_id: int, request_id: str | None = None) -> None:
    """Note that a fresh copy of a link was asked for; the worker sends it to the address on
    file. The same row is written whether or not the link exists, so the answer tells nothing."""
    db.session.add(LinkRequest(email="", locale="", link_id=link_id, request_id=request_id))


def send_fresh_copy(link_id: int, request_id: str | None) -> None:
    """Worker, in its unit of work: a new link for the same action, to the owner's address on
    file. A revoked link is not renewed; a subject that is gone leaves a sign-in link to the
    subscription instead."""
    old = db.session.get(ActionLink, link_id) if is_record_id(link_id) else None
    if old is None or old.revoked_at is not None:
        return
    customer = db.session.get(Customer, old.customer_id)
    actor = Actor.system("fresh link", request_id)
    try:
        link, url = create(actor, customer, old.action, _subject_of(old), params=old.params, next_path=old.next_path)
    except InvalidLinkRequest:
        link, url = create(actor, customer, LinkAction.SIGN_IN)
    notifications.queue_email(
        "fresh_link",
        customer.email,
        notifications.recipient_locale(customer),
        customer_name=customer.name,
        url=url,
        action=link.action.value,
        expires_at=link.expires_at,
    )


def _revoke_where(condition) -> int:
    ids = list(
        db.session.scalars(
            update(ActionLink)
            .where(condition, ActionLink.used_at.is_(None), ActionLink.revoked_at.is_(None))
            .values(revoked_at=utcnow())
            .returning(ActionLink.id)
        )
    )
    return len(ids)


@transactional
def revoke(actor: Actor, link: ActionLink) -> bool:
    """Stop one link from working; False when it was already used or revoked."""
    revoked = _revoke_where(ActionLink.id == link.id)
    audit.record(actor, "link.revoked", subject_type="link", subject_id=link.id, customer_id=link.customer_id)
    return bool(revoked)


@transactional
def revoke_all(actor: Actor, customer: Customer) -> int:
    """Every unused link of a customer, at once (a lost phone, a forwarded email)."""
    count = _revoke_where(ActionLink.customer_id == customer.id)
    audit.record(
        actor,
        "link.revoked_all",
        subject_type="customer",
        subject_id=customer.id,
        customer_id=customer.id,
        after={"revoked": count},
    )
    return count


def get(link_id: int) -> ActionLink | None:
    return db.session.get(ActionLink, link_id) if is_record_id(link_id) else None


# --- what a change confirmation offers ------------------------------------------------------------

# The action that takes a change back, where there is one.
UNDO = {"skip": LinkAction.UNSKIP, "unskip": LinkAction.SKIP, "pause": LinkAction.RESUME}


def change_links(subscription: Subscription, action: str, params: dict) -> dict[str, str]:
    """ "Undo" and "Skip the next one" for the email that confirms a change (caller's unit of work)."""
    customer = subscription.customer
    found: dict[str, str] = {}
    undo = UNDO.get(action)
    if undo in ORDER_ACTIONS and params.get("order_id"):
        order = db.session.get(Order, params["order_id"])
        if order is not None:
            found["undo"] = action_url(customer, undo, order)
    elif undo is not None:
        found["undo"] = action_url(customer, undo, subscription)
    elif action == "cancel":
        back = LinkAction.REACTIVATE if subscription.status is SubscriptionStatus.CANCELLED else LinkAction.KEEP
        found["undo"] = action_url(customer, back, subscription)
    if action != "cancel":
        following = subscriptions.next_skippable(subscription)
        if following is not None:
            found["skip_next"] = action_url(customer, LinkAction.SKIP, following)
    return found
