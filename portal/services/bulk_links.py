"""Links for a campaign: one action link per customer named by email or id, made in batches
(one insert per thousand rows), for the CLI (`flask links bulk`) and the admin's upload.

Each customer's subject is found among their own records: "skip" takes the next order that can
still be skipped of their first active subscription, the subscription actions their first
subscription that allows the action, so a link can only ever touch its customer."""

from __future__ import annotations

import csv
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields

from sqlalchemy import insert, select

from portal.extensions import db
from portal.models import UPCOMING_STATUSES, ActionLink, Customer, LinkAction, Order, Subscription, utcnow
from portal.models.types import MAX_ID
from portal.services import audit, contact, notifications, subscriptions, tokens
from portal.services.actors import Actor
from portal.services.links import ORDER_ACTIONS, SUBSCRIPTION_ACTIONS, InvalidLinkRequest, lifetime
from portal.services.uow import unit_of_work
from portal.services.urls import public_url
from portal.web import is_safe_next

CHUNK = 1000
# Actions whose subject a bulk run can find by itself (a case cannot be).
BULK_ACTIONS = tuple(action.value for action in LinkAction if action is not LinkAction.OPEN_CASE)


@dataclass(frozen=True)
class BulkRow:
    identifier: str
    customer_id: int | None = None
    subscription_id: int | None = None
    order_id: int | None = None
    url: str = ""
    # Why no link was made: unknown_customer, no_subject, not_an_email_or_id.
    error: str = ""

    @classmethod
    def header(cls) -> list[str]:
        return [field.name for field in fields(cls)]

    def as_csv(self) -> list:
        return ["" if getattr(self, name) is None else getattr(self, name) for name in self.header()]


def _key(identifier: str) -> tuple[str, object] | None:
    text = identifier.strip()
    if text.isdigit() and 0 < int(text) <= MAX_ID:
        return "id", int(text)
    if "@" in text and len(text) <= 254:
        return "email", contact.normalize_email(text)
    return None


def _customers(keys: list[tuple[str, object]]) -> dict[tuple[str, object], Customer]:
    ids = [value for kind, value in keys if kind == "id"]
    emails = [value for kind, value in keys if kind == "email"]
    found: dict[tuple[str, object], Customer] = {}
    if ids:
        found |= {("id", c.id): c for c in db.session.scalars(select(Customer).where(Customer.id.in_(ids)))}
    if emails:
        found |= {("email", c.email): c for c in db.session.scalars(select(Customer).where(Customer.email.in_(emails)))}
    return found


def _subjects(action: LinkAction, customer_ids: list[int]) -> dict[int, tuple[int, int | None]]:
    """customer id -> (subscription id, order id) for the customers who have a subject."""
    if action not in ORDER_ACTIONS and action not in SUBSCRIPTION_ACTIONS:
        return {}
    owned = db.session.scalars(
        select(Subscription).where(Subscription.customer_id.in_(customer_ids)).order_by(Subscription.id)
    ).all()
    if action in SUBSCRIPTION_ACTIONS:
        chosen: dict[int, tuple[int, int | None]] = {}
        for sub in owned:
            if sub.customer_id not in chosen and action.value in subscriptions.available_actions(sub):
                chosen[sub.customer_id] = (sub.id, None)
        return chosen
    upcoming = db.session.scalars(
        select(Order)
        .where(Order.subscription_id.in_([s.id for s in owned]), Order.status.in_(UPCOMING_STATUSES))
        .order_by(Order.scheduled_for, Order.id)
    ).all()
    skippable = subscriptions.next_skippable_of(owned, upcoming)
    chosen = {}
    for sub in owned:
        if sub.customer_id not in chosen and sub.id in skippable:
            chosen[sub.customer_id] = (sub.id, skippable[sub.id].id)
    return chosen


def _url_prefix() -> str:
    # Built once from the URL map (a hundred thousand builds would cost more than the inserts).
    sample = public_url("links.open_link", link_id=1, secret="s")
    return sample.removesuffix("/1/s")


def _make_chunk(actor: Actor, action: LinkAction, identifiers: list[str], next_path: str | None) -> list[BulkRow]:
    keys = [_key(identifier) for identifier in identifiers]
    customers = _customers([key for key in keys if key is not None])
    subjects = _subjects(action, list({c.id for c in customers.values()}))
    needs_subject = action in ORDER_ACTIONS or action in SUBSCRIPTION_ACTIONS
    expires_at = utcnow() + lifetime(action)
    planned: list[tuple[str, Customer, tuple[int, int | None] | None, str]] = []
    rows: list[BulkRow | None] = []
    for identifier, key in zip(identifiers, keys, strict=True):
        customer = customers.get(key) if key else None
        subject = subjects.get(customer.id) if customer else None
        if key is None:
            rows.append(BulkRow(identifier, error="not_an_email_or_id"))
        elif customer is None:
            rows.append(BulkRow(identifier, error="unknown_customer"))
        elif needs_subject and subject is None:
            rows.append(BulkRow(identifier, customer_id=customer.id, error="no_subject"))
        else:
            planned.append((identifier, customer, subject, tokens.new_secret()))
            rows.append(None)
    if planned:
        values = [
            {
                "customer_id": customer.id,
                "action": action,
                "subscription_id": subject[0] if subject else None,
                "order_id": subject[1] if subject else None,
                "params": {},
                "next_path": next_path if action is LinkAction.SIGN_IN else None,
                "locale": notifications.recipient_locale(customer),
                "token_hash": tokens.digest(secret),
                "expires_at": expires_at,
                "created_by": (actor.label or "bulk")[:120],
                "created_at": utcnow(),
            }
            for _identifier, customer, subject, secret in planned
        ]
        ids = db.session.scalars(insert(ActionLink).returning(ActionLink.id, sort_by_parameter_order=True), values)
        prefix = _url_prefix()
        made = iter(
            BulkRow(
                identifier,
                customer.id,
                subject[0] if subject else None,
                subject[1] if subject else None,
                f"{prefix}/{link_id}/{secret}",
            )
            for (identifier, customer, subject, secret), link_id in zip(planned, ids, strict=True)
        )
        rows = [row if row is not None else next(made) for row in rows]
        audit.record(
            actor, "link.bulk_created", subject_type="link", after={"action": action.value, "count": len(planned)}
        )
    return rows


def read_identifiers(lines: Iterable[str]) -> Iterator[str]:
    """The emails or customer ids of a CSV: the column named email, customer_id or id, else the
    first column; blank lines are skipped."""
    reader = csv.reader(lines)
    first = next(reader, None)
    if first is None:
        return
    names = [name.strip().lower() for name in first]
    column = next((names.index(name) for name in ("email", "customer_id", "id") if name in names), None)
    if column is None:
        column = 0
        reader = itertools.chain([first], reader)
    for row in reader:
        if len(row) > column and row[column].strip():
            yield row[column].strip()


def write_rows(out, rows: Iterable[BulkRow]) -> int:
    writer = csv.writer(out)
    writer.writerow(BulkRow.header())
    count = 0
    for row in rows:
        writer.writerow(row.as_csv())
        count += 1
    return count


def _chunks(identifiers: Iterable[str]) -> Iterator[list[str]]:
    chunk: list[str] = []
    for identifier in identifiers:
        chunk.append(identifier)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def make_links(
    actor: Actor,
    identifiers: Iterable[str],
    action: str,
    *,
    next_path: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[BulkRow]:
    """A row per identifier, in order: the link, or why there is none. Each batch is committed
    on its own, so a long run keeps what it made if it is stopped."""
    if action not in BULK_ACTIONS or (next_path is not None and not is_safe_next(next_path)):
        raise InvalidLinkRequest()
    link_action = LinkAction(action)
    for chunk in _chunks(identifiers):
        with unit_of_work():
            rows = _make_chunk(actor, link_action, chunk, next_path)
        yield from rows
        if progress is not None:
            progress(len(chunk))
