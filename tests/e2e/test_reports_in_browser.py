"""The manager's service report in a browser: charts, tables and forms pass axe."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from axe_playwright_python.sync_playwright import Axe

from portal.extensions import db
from portal.models import AttemptOutcome, CancelAttempt, StaffRole, Survey
from tests import factories

pytestmark = pytest.mark.e2e
axe = Axe()


def test_the_service_report_is_accessible(app, live_server, page):
    with app.app_context():
        factories.staff(StaffRole.MANAGER, "boss@example.com")
        customer = factories.customer()
        sub = factories.subscription(customer)
        when = datetime(2030, 1, 10, 10, tzinfo=UTC)
        for n, score in enumerate((5, 4, 2)):
            db.session.add(
                Survey(
                    key=f"e2e:{n}",
                    kind="csat",
                    customer_id=customer.id,
                    score=score,
                    self_serve=True,
                    channel="portal",
                    action="subscription.skip",
                    topic="subscription",
                    interaction_at=when,
                )
            )
        db.session.add(
            CancelAttempt(
                customer_id=customer.id,
                subscription_id=sub.id,
                reason_code="customer_service",
                outcome=AttemptOutcome.CANCELLED,
                tenure_days=40,
                offers_shown=[{"type": "talk"}],
                plan={"items": []},
                created_at=when,
            )
        )
        db.session.commit()
    page.goto(f"{live_server}/staff/login")
    page.get_by_label("Email address").fill("boss@example.com")
    page.get_by_label("Password").fill(factories.STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/console/cases")
    page.goto(f"{live_server}/console/reports/service?start=2029-12-01&end=2030-02-28&split=action")
    assert page.locator("svg.chart").count() >= 3
    results = axe.run(page)
    assert results.violations_count == 0, results.generate_report()
