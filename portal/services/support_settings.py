"""What the merchant sets for support in admin: saved replies (per language, with placeholders for
the customer's first name and next order), the tone guidelines shown beside them, business hours
and the first-response target.

The hours, the target and the guidelines live on the policy row (empty: config's values); the
replies are `saved_replies` rows once the merchant first edits them, the translated defaults until
then. A reply's text is the merchant's, so placeholders are filled by plain substitution, never
by `str.format` or `%`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app
from flask_babel import force_locale, get_locale
from sqlalchemy import func, select

from portal.extensions import db
from portal.formatting import language_names, local_date
from portal.models import Case, Customer, Order, OrderStatus, SavedReply
from portal.services import audit, clock, policy
from portal.services.actors import Actor
from portal.services.errors import DomainError, NotFound
from portal.services.uow import forget, per_transaction, transactional
from portal.text import lazy_text as _l

PLACEHOLDERS = ("first_name", "next_order")
KEY_MAX_LENGTH, TITLE_MAX_LENGTH, BODY_MAX_LENGTH, TONE_MAX_LENGTH = 40, 200, 2000, 2000
MAX_TARGET_HOURS = 24 * 14
_BRACED = re.compile(r"\{([^{}]*)\}")
_PLACEHOLDER = re.compile(r"\{(first_name|next_order)\}")
_KEY = re.compile(r"^[a-z0-9_]{1,40}$")

DEFAULT_REPLIES: list[tuple[str, Any, Any]] = [
    (
        "card_updated",
        _l("Card updated, order paid"),
        _l(
            "Hi {first_name}, thanks for updating your card. I have retried your order and it went through, "
            "so it is on its way. Nothing else for you to do."
        ),
    ),
    (
        "skip_done",
        _l("Skipped for you"),
        _l(
            "Hi {first_name}, done: I have skipped that order for you. Your next delivery stays as it was, "
            "and you can always change it in your account."
        ),
    ),
    (
        "delivery_sorry",
        _l("Delivery problem, credit given"),
        _l(
            "Hi {first_name}, I am sorry your delivery did not arrive as it should. I have added a credit to "
            "your account; it comes off your next order automatically."
        ),
    ),
]
DEFAULT_TONE = _l(
    "Warm and plain. Use the customer's first name, say what you did and what happens next, and never "
    "make them repeat themselves."
)


class InvalidSupportSetting(DomainError):
    code = "invalid_support_setting"

    def __init__(self, message=None, *, field: str | None = None):
        super().__init__(message)
        # The form field it is about ("body_es"), so the page can show it there.
        self.field = field


# --- business hours and the first-response target ---------------------------------------------------


@dataclass(frozen=True)
class BusinessHours:
    days: frozenset[int]
    start: int
    end: int


@dataclass(frozen=True)
class SupportSettings:
    hours: BusinessHours
    first_response_target_hours: int
    # Only what the merchant wrote; `tone_guidelines` falls back to the default wording.
    tone: dict[str, str]


_CACHED = "support_settings"


def get() -> SupportSettings:
    """Read once per transaction: the queue asks for the hours on every row."""
    return per_transaction(_CACHED, _load)


def _load() -> SupportSettings:
    stored, hours = policy.row(), current_app.config["BUSINESS_HOURS"]

    def pick(name: str, default):
        value = getattr(stored, name, None)
        return default if value is None else value

    return SupportSettings(
        BusinessHours(
            frozenset(pick("support_days", hours["days"])),
            pick("support_opens_hour", hours["start"]),
            pick("support_closes_hour", hours["end"]),
        ),
        pick("first_response_target_hours", current_app.config["FIRST_RESPONSE_TARGET_BUSINESS_HOURS"]),
        dict(pick("tone_guidelines", {})),
    )


@transactional
def save_hours(actor: Actor, *, days: set[int], start: int, end: int, target_hours: int) -> SupportSettings:
    if not days or not days <= set(range(7)):
        raise InvalidSupportSetting(_l("Choose at least one day."))
    if not 0 <= start < end <= 24:
        raise InvalidSupportSetting(_l("Support must open before it closes, between 0:00 and 24:00."))
    if not 1 <= target_hours <= MAX_TARGET_HOURS:
        raise InvalidSupportSetting(
            _l("The first-response target must be from 1 to %(most)d business hours.", most=MAX_TARGET_HOURS)
        )
    current = get()
    stored = policy.row_for_update()
    stored.support_days, stored.support_opens_hour, stored.support_closes_hour = sorted(days), start, end
    stored.first_response_target_hours = target_hours
    audit.record(
        actor,
        "policy.support_hours_saved",
        subject_type="policy",
        subject_id=1,
        before=_hours_record(current.hours, current.first_response_target_hours),
        after=_hours_record(BusinessHours(frozenset(days), start, end), target_hours),
    )
    forget(_CACHED)
    return get()


def _hours_record(hours: BusinessHours, target: int) -> dict[str, Any]:
    return {"days": sorted(hours.days), "start": hours.start, "end": hours.end, "target_hours": target}


def tone_guidelines(locale: str) -> str:
    """The merchant's guidelines in `locale`, else in the default language, else the default wording."""
    own = get().tone
    text = own.get(locale) or own.get(current_app.config["BABEL_DEFAULT_LOCALE"])
    if text:
        return text
    with force_locale(locale):
        return str(DEFAULT_TONE)


@transactional
def save_tone(actor: Actor, texts: dict[str, str]) -> None:
    """A language left empty shows the default language's guidelines."""
    cleaned = {lang: (texts.get(lang) or "").strip() for lang in current_app.config["LANGUAGES"]}
    if any(len(text) > TONE_MAX_LENGTH for text in cleaned.values()):
        raise InvalidSupportSetting(_l("That is too long."))
    cleaned = {lang: text for lang, text in cleaned.items() if text}
    before = get().tone
    policy.row_for_update().tone_guidelines = cleaned
    audit.record(
        actor, "policy.tone_guidelines_saved", subject_type="policy", subject_id=1, before=before, after=cleaned
    )
    forget(_CACHED)


# --- saved replies ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    key: str
    position: int
    # {"en": {"title": ..., "body": ...}, ...}; `text` fills what a language lacks.
    texts: dict[str, dict[str, str]]

    def text(self, locale: str) -> dict[str, str]:
        """In `locale`, each part from the default language where that translation is empty."""
        own, default = self.texts.get(locale) or {}, self.texts.get(current_app.config["BABEL_DEFAULT_LOCALE"]) or {}
        return {part: own.get(part) or default.get(part) or "" for part in ("title", "body")}


def _translated(title, body) -> dict[str, dict[str, str]]:
    texts = {}
    for lang in current_app.config["LANGUAGES"]:
        with force_locale(lang):
            texts[lang] = {"title": str(title), "body": str(body)}
    return texts


def replies() -> list[Reply]:
    stored = policy.row()
    if stored is None or not stored.saved_replies_edited:
        return [Reply(key, n, _translated(title, body)) for n, (key, title, body) in enumerate(DEFAULT_REPLIES)]
    rows = db.session.scalars(select(SavedReply).order_by(SavedReply.position, SavedReply.id))
    return [Reply(row.key, row.position, dict(row.texts)) for row in rows]


def reply(key: str) -> Reply:
    found = next((r for r in replies() if r.key == key), None)
    if found is None:
        raise NotFound()
    return found


def placeholder_problem(text: str):
    """Why `text` cannot be saved (an unknown placeholder, a brace without its pair), else None."""
    for match in _BRACED.finditer(text):
        if match.group(1) not in PLACEHOLDERS:
            return _l("“%(found)s” is not a placeholder. Use {first_name} or {next_order}.", found=match.group(0)[:40])
    if "{" in _BRACED.sub("", text) or "}" in _BRACED.sub("", text):
        return _l("A brace is missing its pair. Braces are only for {first_name} and {next_order}.")
    return None


def _materialise() -> None:
    """The first edit turns the defaults into the merchant's own rows."""
    locked = policy.row_for_update()
    if locked.saved_replies_edited:
        return
    defaults = replies()
    locked.saved_replies_edited = True
    db.session.add_all(SavedReply(key=r.key, position=r.position, texts=r.texts) for r in defaults)
    db.session.flush()


def _clean(texts: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    names, default = language_names(), current_app.config["BABEL_DEFAULT_LOCALE"]
    cleaned = {}
    for lang in current_app.config["LANGUAGES"]:
        given = texts.get(lang) or {}
        title, body = " ".join((given.get("title") or "").split()), (given.get("body") or "").strip()
        if len(title) > TITLE_MAX_LENGTH or len(body) > BODY_MAX_LENGTH:
            raise InvalidSupportSetting(
                _l("That is too long."), field=f"{'title' if len(body) <= BODY_MAX_LENGTH else 'body'}_{lang}"
            )
        problem = placeholder_problem(body)
        if problem is not None:
            raise InvalidSupportSetting(
                _l("%(language)s: %(problem)s", language=names[lang], problem=problem), field=f"body_{lang}"
            )
        cleaned[lang] = {"title": title, "body": body}
    if not cleaned[default]["title"] or not cleaned[default]["body"]:
        raise InvalidSupportSetting(
            _l("Write the title and the reply in %(language)s at least.", language=names[default]),
            field=f"title_{default}" if not cleaned[default]["title"] else f"body_{default}",
        )
    return cleaned


@transactional
def save_reply(
    actor: Actor, key: str | None, *, new_key: str, texts: dict[str, dict[str, str]], position: int
) -> Reply:
    """Add a reply (`key` None) or change one; an empty translation uses the default language's."""
    new_key = (new_key or "").strip().lower()
    if not _KEY.match(new_key):
        raise InvalidSupportSetting(
            _l("Use lowercase letters, digits and underscores for the short name."), field="key"
        )
    cleaned = _clean(texts)
    before = None if key is None else reply(key)
    _materialise()
    rows = {row.key: row for row in db.session.scalars(select(SavedReply))}
    if new_key != key and new_key in rows:
        raise InvalidSupportSetting(_l("Another saved reply already has that short name."), field="key")
    row = rows[key] if key is not None else SavedReply()
    row.key, row.texts, row.position = new_key, cleaned, position
    db.session.add(row)
    db.session.flush()
    audit.record(
        actor,
        "policy.saved_reply_saved",
        subject_type="saved_reply",
        subject_id=row.id,
        before=None if before is None else {"key": before.key, "texts": before.texts},
        after={"key": new_key, "texts": cleaned},
    )
    return reply(new_key)


@transactional
def delete_reply(actor: Actor, key: str) -> None:
    gone = reply(key)
    _materialise()
    row = db.session.scalar(select(SavedReply).where(SavedReply.key == key))
    audit.record(
        actor,
        "policy.saved_reply_deleted",
        subject_type="saved_reply",
        subject_id=row.id,
        before={"key": gone.key, "texts": gone.texts},
    )
    db.session.delete(row)


# --- what the agent sends -------------------------------------------------------------------------------


def choices() -> list[tuple[str, str]]:
    """The saved replies for the console's picker, titled in the agent's language (what is sent is
    in the customer's)."""
    locale = str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
    return [(r.key, r.text(locale)["title"]) for r in replies()]


def render(body: str, values: dict[str, str]) -> str:
    """Fill the known placeholders; anything else in the merchant's text stays as written."""
    return _PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), body)


def _next_order(customer: Customer) -> date | None:
    return db.session.scalar(
        select(func.min(Order.scheduled_for)).where(
            Order.customer_id == customer.id,
            Order.status == OrderStatus.SCHEDULED,
            Order.scheduled_for >= clock.today(),
        )
    )


def text(key: str | None, case: Case) -> str:
    """A saved reply written out for this case's customer, in their language ("" for no reply)."""
    found = next((r for r in replies() if r.key == (key or "")), None)
    if found is None:
        return ""
    customer = db.session.get(Customer, case.customer_id) if case.customer_id else None
    locale = (customer.locale if customer else None) or current_app.config["BABEL_DEFAULT_LOCALE"]
    body = found.text(locale)["body"]
    words = (customer.name or "").split() if customer else []
    values = {"first_name": words[0] if words else ""}
    if "{next_order}" in body:
        upcoming = _next_order(customer) if customer else None
        with force_locale(locale):
            values["next_order"] = local_date(upcoming, "long") if upcoming else str(_l("not planned yet"))
    return render(body, values)
