"""Help before handoff: the merchant's short answers, shown where a question is likely (on the help
page, beside a refusal, in the cancel flow), each showing recorded so deflection can be measured:
an answer deflected a question when the subscriber did not ask for a person within a day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import force_locale, get_locale
from sqlalchemy import exists, func, select

from portal.extensions import db
from portal.models import Case, Customer, HelpAnswer, HelpAnswerView, utcnow
from portal.services import audit
from portal.services.actors import Actor
from portal.services.errors import DomainError
from portal.services.handoff import ISSUE_TYPES
from portal.services.lookup import get_or_404
from portal.services.uow import transactional
from portal.text import lazy_text as _l

PLACES = ("help", "refusal", "cancel")
SHOWN_AT_MOST = 3
# Asking for a person this soon after reading an answer means the answer did not help.
HANDOFF_WINDOW = timedelta(hours=24)
TITLE_MAX_LENGTH, BODY_MAX_LENGTH = 200, 2000


@dataclass(frozen=True)
class ShownAnswer:
    id: int
    title: str
    body: str


def _text(answer: HelpAnswer, locale: str) -> dict[str, str]:
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    return answer.texts.get(locale) or answer.texts.get(default) or {"title": "", "body": ""}


def _matches(text: dict[str, str], words: list[str]) -> bool:
    haystack = f"{text['title']} {text['body']}".lower()
    return all(word in haystack for word in words)


def _pick(place: str, topic: str | None, refusal_code: str | None, query: str | None, locale: str) -> list:
    answers = list(
        db.session.scalars(
            select(HelpAnswer).where(HelpAnswer.enabled.is_(True)).order_by(HelpAnswer.position, HelpAnswer.id)
        )
    )
    words = (query or "").lower().split()
    if words:
        return [a for a in answers if _matches(_text(a, locale), words)]
    if refusal_code:
        exact = [a for a in answers if refusal_code in (a.refusal_codes or [])]
        if exact:
            return exact
    return [a for a in answers if topic is None or a.topic == topic]


@transactional
def show(
    customer: Customer,
    place: str,
    *,
    topic: str | None = None,
    refusal_code: str | None = None,
    query: str | None = None,
) -> list[ShownAnswer]:
    """The answers that fit, in the viewer's language, recorded as shown to this customer."""
    locale = str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
    chosen = _pick(place, topic, refusal_code, query, locale)[:SHOWN_AT_MOST]
    now = utcnow()
    for answer in chosen:
        db.session.add(
            HelpAnswerView(
                answer_id=answer.id,
                customer_id=customer.id,
                place=place,
                shown_at=now,
                handoff_counts_until=now + HANDOFF_WINDOW,
            )
        )
    return [ShownAnswer(answer.id, **_text(answer, locale)) for answer in chosen]


# --- the merchant's side ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerFigures:
    answer: HelpAnswer
    shown: int
    handed_off: int

    @property
    def deflection_rate(self) -> float | None:
        """Share of showings not followed by a request for a person within a day."""
        return None if not self.shown else (self.shown - self.handed_off) / self.shown


def all_answers() -> list[AnswerFigures]:
    """Each answer with how often it was shown and how often a case followed within a day."""
    asked = exists().where(
        Case.customer_id == HelpAnswerView.customer_id,
        Case.created_at >= HelpAnswerView.shown_at,
        Case.created_at <= HelpAnswerView.handoff_counts_until,
    )
    counts = {
        answer_id: (shown, handed)
        for answer_id, shown, handed in db.session.execute(
            select(HelpAnswerView.answer_id, func.count(), func.count().filter(asked)).group_by(
                HelpAnswerView.answer_id
            )
        )
    }
    answers = db.session.scalars(select(HelpAnswer).order_by(HelpAnswer.position, HelpAnswer.id))
    return [AnswerFigures(answer, *counts.get(answer.id, (0, 0))) for answer in answers]


def get_answer(answer_id: int) -> HelpAnswer:
    return get_or_404(HelpAnswer, answer_id)


class InvalidAnswer(DomainError):
    code = "invalid_help_answer"


@transactional
def save_answer(
    actor: Actor,
    answer_id: int | None,
    *,
    topic: str,
    refusal_codes: list[str],
    texts: dict[str, dict[str, str]],
    position: int,
    enabled: bool,
) -> HelpAnswer:
    if topic not in ISSUE_TYPES:
        raise InvalidAnswer(_l("Choose one of the topics."))
    cleaned = {}
    for lang in current_app.config["LANGUAGES"]:
        title = " ".join((texts.get(lang, {}).get("title") or "").split())
        body = (texts.get(lang, {}).get("body") or "").strip()
        if not title or not body:
            raise InvalidAnswer(_l("Write the title and the answer in every language."))
        if len(title) > TITLE_MAX_LENGTH or len(body) > BODY_MAX_LENGTH:
            raise InvalidAnswer(_l("That is too long."))
        cleaned[lang] = {"title": title, "body": body}
    answer = HelpAnswer() if answer_id is None else get_answer(answer_id)
    before = None if answer_id is None else {"topic": answer.topic, "texts": answer.texts, "enabled": answer.enabled}
    answer.topic, answer.texts, answer.position, answer.enabled = topic, cleaned, position, enabled
    answer.refusal_codes = sorted({code.strip() for code in refusal_codes if code.strip()})
    db.session.add(answer)
    db.session.flush()
    audit.record(
        actor,
        "policy.help_answer_saved",
        subject_type="help_answer",
        subject_id=answer.id,
        before=before,
        after={"topic": topic, "texts": cleaned, "enabled": enabled},
    )
    return answer


# --- what the demo shop ships -----------------------------------------------------------------------

DEFAULT_ANSWERS: list[tuple[str, list[str], Any, Any]] = [
    (
        "payment",
        [],
        _l("My payment failed. What now?"),
        _l(
            "Add a working card on the Payment page and press Pay now: we charge the failed order at once. "
            "We also try again by ourselves on the days shown in our email."
        ),
    ),
    (
        "delivery",
        [],
        _l("My delivery is late"),
        _l(
            "Deliveries usually arrive within 3 working days of the order date. If yours has not arrived after 5, "
            "talk to us and we will send it again or give you a credit."
        ),
    ),
    (
        "subscription",
        ["too_many_skips"],
        _l("I want to skip more orders than I can"),
        _l("For a longer break, pause your subscription instead: it resumes by itself on the date you choose."),
    ),
    (
        "subscription",
        ["order_locked", "order_already_coming"],
        _l("Why can I not change my next order?"),
        _l(
            "An order is packed a few days before its date, so it can no longer change. You can still change "
            "every order after it."
        ),
    ),
    (
        "subscription",
        ["date_out_of_window", "pause_date_out_of_range"],
        _l("Why can I not choose that date?"),
        _l(
            "Dates far ahead are not offered so that we can keep your coffee fresh. Pick the latest date offered; "
            "you can move it again later."
        ),
    ),
    (
        "subscription",
        [],
        _l("Can I change the size or the coffee?"),
        _l("Yes: open your subscription and choose Change products. The new price shows before you confirm."),
    ),
    (
        "cancel",
        [],
        _l("Can I stop for a while instead of cancelling?"),
        _l(
            "Pause deliveries from your subscription page, for a number of deliveries or until a date. "
            "Nothing is charged while it is paused."
        ),
    ),
    (
        "other",
        [],
        _l("How do I change my address or email?"),
        _l(
            "Change the shipping address from any subscription, and your email on Your details. An email change "
            "waits for the link we send to the new address."
        ),
    ),
]


def load_defaults() -> None:
    """The demo shop's answers, in every shipped language (nothing if the merchant has some)."""
    if db.session.scalar(select(func.count()).select_from(HelpAnswer)):
        return
    for position, (topic, codes, title, body) in enumerate(DEFAULT_ANSWERS):
        texts = {}
        for lang in current_app.config["LANGUAGES"]:
            with force_locale(lang):
                texts[lang] = {"title": str(title), "body": str(body)}
        db.session.add(HelpAnswer(topic=topic, refusal_codes=codes, texts=texts, position=position, enabled=True))
    db.session.flush()
