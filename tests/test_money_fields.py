"""Typed amounts become integer minor units of the currency in one place, for every money field."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from portal import money
from portal.extensions import db
from portal.models import Channel, CreditEntry, CreditRequest, Order, OrderStatus, Payment, StaffRole
from portal.services import inbox, payments, policy, subscriptions
from tests import factories
from tests.helpers import TODAY, form_fields, sign_in_staff

pytestmark = pytest.mark.usefixtures("fixed_today")


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("0.01", "EUR", 1),
        ("12.5", "EUR", 1250),
        ("12.50", "EUR", 1250),
        ("12.500", "EUR", 1250),
        (".5", "EUR", 50),
        (" 007 ", "EUR", 700),
        ("0", "EUR", 0),
        ("1", "JPY", 1),
        ("1250", "JPY", 1250),
        ("1.0", "JPY", 1),
        ("1.005", "KWD", 1005),
        ("10000000", "EUR", 1_000_000_000),
    ],
)
def test_typed_amounts_become_minor_units(ctx, text, currency, minor):
    assert money.to_minor(text, currency) == minor


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        ("NaN", "EUR", "Enter an amount in EUR like 12.50."),
        ("sNaN", "EUR", "Enter an amount in EUR like 12.50."),
        ("Infinity", "EUR", "Enter an amount in EUR like 12.50."),
        ("-Infinity", "EUR", "Enter an amount in EUR like 12.50."),
        ("inf", "EUR", "Enter an amount in EUR like 12.50."),
        ("-0", "EUR", "Enter an amount in EUR like 12.50."),
        ("-0.01", "EUR", "Enter an amount in EUR like 12.50."),
        ("-5", "JPY", "Enter an amount in JPY like 1250."),
        ("+5", "EUR", "Enter an amount in EUR like 12.50."),
        ("1e3", "EUR", "Enter an amount in EUR like 12.50."),
        ("12,50", "EUR", "Enter an amount in EUR like 12.50."),
        ("1,000", "EUR", "Enter an amount in EUR like 12.50."),
        ("5.", "EUR", "Enter an amount in EUR like 12.50."),
        (".", "EUR", "Enter an amount in EUR like 12.50."),
        ("", "EUR", "Enter an amount in EUR like 12.50."),
        ("\u0661\u0662", "EUR", "Enter an amount in EUR like 12.50."),  # Arabic-Indic digits
        ("1\x00", "EUR", "Enter an amount in EUR like 12.50."),
        ("1" * 13, "EUR", "Enter an amount in EUR like 12.50."),
        ("12.345", "EUR", "Use at most 2 decimals for EUR."),
        ("0.001", "EUR", "Use at most 2 decimals for EUR."),
        ("1.5", "JPY", "JPY amounts have no decimals."),
        ("1.0005", "KWD", "Use at most 3 decimals for KWD."),
        ("10000000.01", "EUR", "That amount is too large."),
        ("999999999999", "JPY", "That amount is too large."),
    ],
)
def test_anything_else_is_refused_with_a_reason(app, text, currency, message):
    with app.test_request_context():
        with pytest.raises(money.InvalidAmount) as refused:
            money.to_minor(text, currency)
        assert str(refused.value.message) == message


@given(minor=st.integers(0, money.MAX_MINOR), currency=st.sampled_from(["EUR", "JPY", "KWD", "USD"]))
def test_minor_units_survive_the_round_trip(minor, currency):
    assert money.to_minor(str(money.from_minor(minor, currency)), currency) == minor


# --- the forms that take money -----------------------------------------------------------------


@pytest.fixture
def case_id(app):
    with app.app_context():
        customer = factories.customer("money@example.com")
        factories.subscription(customer, next_order_date=TODAY + timedelta(days=3))
        factories.staff(StaffRole.AGENT, "agent@staff.example")
        return inbox.receive(Channel.EMAIL, "money@example.com", "Late", "email:money").id


def _console(app):
    console = app.test_client()
    sign_in_staff(console, "agent@staff.example")
    return console


def _credit(console, case_id: int, amount: str, reason: str = "late delivery", **headers):
    page = console.get(f"/console/cases/{case_id}")
    fields = form_fields(page.text, "credit-form")
    return console.post(
        f"/console/cases/{case_id}/credit", data={**fields, "amount": amount, "reason": reason}, headers=headers
    )


def _ledger(app) -> list[tuple[int, str]]:
    with app.app_context():
        return [(e.amount_minor, e.currency) for e in db.session.scalars(select(CreditEntry).order_by(CreditEntry.id))]


def test_a_credit_of_exactly_one_cent_is_given(app, case_id):
    console = _console(app)
    assert _credit(console, case_id, "0.01").status_code == 302
    assert _ledger(app) == [(1, "EUR")]


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("NaN", "Enter an amount in EUR like 12.50."),
        ("sNaN", "Enter an amount in EUR like 12.50."),
        ("Infinity", "Enter an amount in EUR like 12.50."),
        ("-0", "Enter an amount in EUR like 12.50."),
        ("-15", "Enter an amount in EUR like 12.50."),
        ("0", "Enter at least €0.01."),
        ("0.00", "Enter at least €0.01."),
        ("12.345", "Use at most 2 decimals for EUR."),
        ("10000.01", "Enter at most €10,000.00."),
        ("1" * 40, "Enter an amount in EUR like 12.50."),
        ("", "Enter an amount."),
    ],
)
def test_credit_amounts_that_are_not_money_are_refused(app, case_id, amount, message):
    response = _credit(_console(app), case_id, amount)
    assert response.status_code == 400
    assert message in response.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CreditRequest)) == 0
    assert _ledger(app) == []


def test_refusals_are_translated(app, case_id):
    console = _console(app)
    spanish = _credit(console, case_id, "12.345", **{"Accept-Language": "es"})
    assert spanish.status_code == 400
    assert "Usa como máximo 2 decimales para EUR." in spanish.text
    german = _credit(console, case_id, "NaN", **{"Accept-Language": "de"})
    assert "Gib einen Betrag in EUR ein, zum Beispiel 12.50." in german.text


def test_yen_credits_have_no_decimals(app, case_id, monkeypatch):
    monkeypatch.setitem(app.config, "MERCHANT_CURRENCY", "JPY")
    console = _console(app)
    page = console.get(f"/console/cases/{case_id}")
    assert 'step="1"' in page.text
    refused = _credit(console, case_id, "1.5")
    assert refused.status_code == 400 and "JPY amounts have no decimals." in refused.text
    assert _credit(console, case_id, "1").status_code == 302
    assert _credit(console, case_id, "1500").status_code == 302
    assert _ledger(app) == [(1, "JPY"), (1500, "JPY")]


def test_the_reason_may_be_as_long_as_the_ledger_keeps(app, case_id):
    console = _console(app)
    longest = "r" * payments.REASON_MAX_LENGTH
    too_long = _credit(console, case_id, "5.00", longest + "r")
    assert too_long.status_code == 400
    # Above the agent's limit, so a manager approves it later: the whole reason must fit the ledger.
    assert _credit(console, case_id, "25.00", longest).status_code == 302
    with app.app_context():
        from portal.services import credits

        request_id = db.session.scalar(select(CreditRequest.id))
        credits.decide(factories.staff(StaffRole.MANAGER), request_id, approve=True)
        [entry] = db.session.scalars(select(CreditEntry)).all()
        assert (entry.amount_minor, entry.reason, entry.case_id) == (2500, longest, case_id)


def _admin(app):
    with app.app_context():
        factories.staff(StaffRole.ADMIN, "owner@staff.example")
    admin = app.test_client()
    sign_in_staff(admin, "owner@staff.example")
    return admin


def _save_limit(admin, amount: str):
    page = admin.get("/admin/policies")
    return admin.post("/admin/policies", data={**form_fields(page.text, "narrow"), "agent_credit_limit": amount})


def _limit(app) -> int:
    with app.app_context():
        return policy.get().agent_credit_limit_minor


def test_the_agent_credit_limit_in_euros(app):
    admin = _admin(app)
    assert 'value="20.00"' in admin.get("/admin/policies").text
    assert _save_limit(admin, "0").status_code == 302
    assert _limit(app) == 0
    assert _save_limit(admin, "100000.00").status_code == 302
    assert _limit(app) == 10_000_000
    for amount, message in [
        ("-0", "Enter an amount in EUR like 12.50."),
        ("NaN", "Enter an amount in EUR like 12.50."),
        ("12.345", "Use at most 2 decimals for EUR."),
        ("100000.01", "Enter at most €100,000.00."),
    ]:
        refused = _save_limit(admin, amount)
        assert refused.status_code == 400 and message in refused.text
    assert _limit(app) == 10_000_000


def test_the_agent_credit_limit_in_yen(app, monkeypatch):
    monkeypatch.setitem(app.config, "MERCHANT_CURRENCY", "JPY")
    admin = _admin(app)
    assert 'value="2000"' in admin.get("/admin/policies").text
    assert _save_limit(admin, "5000").status_code == 302
    assert _limit(app) == 5000
    assert 'value="5000"' in admin.get("/admin/policies").text
    refused = _save_limit(admin, "5000.5")
    assert refused.status_code == 400 and "JPY amounts have no decimals." in refused.text
    assert _limit(app) == 5000


def test_refund_amounts_use_the_same_rule(app, due):
    from tests.billing import payment_intents

    due()
    with app.app_context():
        subscriptions.roll_forward()
        payments.run_renewals()
        paid = db.session.scalar(select(Order.id).where(Order.status == OrderStatus.PAID))
        factories.staff(StaffRole.AGENT, "agent@staff.example")
        case_id = inbox.receive(Channel.EMAIL, "payer@example.com", "Torn bag", "email:torn").id
    console = _console(app)
    fields = form_fields(console.get(f"/console/cases/{case_id}").text, "refund-form")
    for amount, message in [("sNaN", "Enter an amount in EUR like 12.50."), ("3.505", "Use at most 2 decimals")]:
        refused = console.post(
            f"/console/cases/{case_id}/refund", data={**fields, "order_id": paid, "amount": amount, "reason": "torn"}
        )
        assert refused.status_code == 400 and message in refused.text
    done = console.post(
        f"/console/cases/{case_id}/refund", data={**fields, "order_id": paid, "amount": "0.01", "reason": "torn"}
    )
    assert done.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Payment.refunded_minor)) == 1
    [intent] = payment_intents(app)
    assert intent.amount == 1200
