"""Racing requests on PostgreSQL: one sign-in link, one winner."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent
from portal.services import auth
from portal.services.errors import InvalidToken
from tests import factories
from tests.helpers import sign_in_url

pytestmark = pytest.mark.postgres


def test_a_link_used_from_many_tabs_at_once_signs_in_once(app):
    with app.app_context():
        factories.customer("race@example.com")
    token = sign_in_url(app, "race@example.com").rsplit("/", 1)[1]
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def use_link():
        with app.app_context():
            barrier.wait()
            try:
                auth.consume_login_token(token)
                outcomes.append("signed in")
            except InvalidToken:
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=use_link) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused"] * 7 + ["signed in"]
    with app.app_context():
        signed_in = db.session.scalar(select(func.count()).select_from(AuditEvent)
                                      .where(AuditEvent.action == "auth.signed_in"))
        assert signed_in == 1


def test_parallel_workers_send_each_email_once(app, smtp):
    from portal.services import notifications
    from portal.services.actors import Actor

    with app.app_context():
        for n in range(20):
            factories.customer(f"bulk{n}@example.com")
            auth.request_login_link(f"bulk{n}@example.com", "en", Actor.system("test"))
    barrier = threading.Barrier(4)

    def worker():
        with app.app_context():
            barrier.wait()
            while notifications.deliver_pending(batch_size=3):
                pass
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    recipients = sorted(message["To"] for message in smtp.messages)
    assert recipients == sorted(f"bulk{n}@example.com" for n in range(20))
