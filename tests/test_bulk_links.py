"""`flask links bulk`: emails or customer ids in, one link per row out, each for its own customer."""

from __future__ import annotations

import csv
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import ActionLink, Order, OrderStatus, Subscription, SubscriptionStatus
from portal.services import subscriptions
from tests import factories
from tests.helpers import TODAY, follow_link

pytestmark = pytest.mark.usefixtures("fixed_today")


@pytest.fixture
def campaign(app, tmp_path):
    with app.app_context():
        ids = []
        for n in range(3):
            customer = factories.customer(f"bulk{n}@example.com")
            factories.subscription(customer, next_order_date=TODAY + timedelta(days=10))
            ids.append(customer.id)
        idle_id = factories.customer("nosub@example.com").id
        subscriptions.roll_forward()
    source = tmp_path / "in.csv"
    source.write_text(
        "email\nBULK0@example.com\n"
        f"{ids[1]}\nnobody@example.com\nnot-an-address\n\nnosub@example.com\nbulk2@example.com\n"
    )
    return source, ids, idle_id


def _run(app, source, target, *options):
    result = app.test_cli_runner().invoke(args=["links", "bulk", str(source), str(target), *options])
    assert result.exit_code == 0, result.output
    with target.open() as handle:
        return list(csv.DictReader(handle))


def test_skip_links_for_each_customers_next_order(app, tmp_path, campaign):
    source, ids, idle_id = campaign
    rows = _run(app, source, tmp_path / "out.csv", "--action", "skip")
    assert [row["identifier"] for row in rows] == [
        "BULK0@example.com",
        str(ids[1]),
        "nobody@example.com",
        "not-an-address",
        "nosub@example.com",
        "bulk2@example.com",
    ]
    assert [row["error"] for row in rows] == ["", "", "unknown_customer", "not_an_email_or_id", "no_subject", ""]
    assert rows[4]["customer_id"] == str(idle_id)
    made = [row for row in rows if row["url"]]
    assert [int(row["customer_id"]) for row in made] == [ids[0], ids[1], ids[2]]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ActionLink)) == 3
        for row in made:
            order = db.session.get(Order, int(row["order_id"]))
            assert order.customer_id == int(row["customer_id"]) and order.status is OrderStatus.SCHEDULED
    follow_link(app.test_client(), made[1]["url"].removeprefix("http://localhost"))
    with app.app_context():
        assert db.session.get(Order, int(made[1]["order_id"])).status is OrderStatus.SKIPPED
        others = [db.session.get(Order, int(row["order_id"])).status for row in (made[0], made[2])]
        assert others == [OrderStatus.SCHEDULED, OrderStatus.SCHEDULED]


def test_pause_links_only_for_subscriptions_that_can_pause(app, tmp_path, campaign):
    source, ids, _idle = campaign
    with app.app_context():
        db.session.scalar(
            select(Subscription).where(Subscription.customer_id == ids[0])
        ).status = SubscriptionStatus.CANCELLED
        db.session.commit()
    rows = _run(app, source, tmp_path / "out.csv", "--action", "pause")
    assert [row["error"] for row in rows][:2] == ["no_subject", ""]


def test_update_card_links_need_no_subject_and_unknown_actions_are_refused(app, tmp_path, campaign):
    source, _ids, _idle = campaign
    rows = _run(app, source, tmp_path / "out.csv", "--action", "update_card")
    assert [bool(row["url"]) for row in rows] == [True, True, False, False, True, True]
    refused = app.test_cli_runner().invoke(args=["links", "bulk", str(source), "x.csv", "--action", "open_case"])
    assert refused.exit_code != 0
