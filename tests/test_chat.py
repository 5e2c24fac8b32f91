"""The case page as a live chat: each side polls for the messages after the last one it shows, the
subscriber's feed holds only their own public messages, a reply posted in the background (or
twice) is stored once, and what the subscriber writes on the page is recorded as chat."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, CaseMessage, CaseStatus, Channel, Customer, OutboxEmail, StaffRole, StaffUser
from portal.services import handoff, inbox
from portal.services.actors import Actor
from tests import factories
from tests.helpers import form_fields, run_together, sign_in_customer, sign_in_staff
from tests.test_query_counts import counting

pytestmark = pytest.mark.usefixtures("fixed_today")
JSON = {"Accept": "application/json"}


@pytest.fixture
def chat(app):
    """A subscriber's case with their message, an agent's reply, an internal note and a second reply."""
    with app.app_context():
        customer = factories.customer("chatty@example.com", name="Cleo Chat")
        agent = factories.staff(StaffRole.AGENT, "agent@chat.example")
        case = handoff.open_case(
            Actor.for_customer(customer), customer, issue_type="delivery", message="Where is my box?", source_page=None
        )
        inbox.reply(agent, case, "It left the roastery today.")
        inbox.note(agent, case, "Courier says Thursday, not sure")
        inbox.reply(agent, case, "It arrives on Thursday.")
        ids = list(db.session.scalars(select(CaseMessage.id).where(CaseMessage.case_id == case.id)))
        return {"case": case.id, "messages": ids}


def _signed_in(app, email="chatty@example.com"):
    client = app.test_client()
    sign_in_customer(app, client, email)
    return client


def _bodies(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [message["body"] for message in response.json["messages"]]


def test_the_subscribers_feed_pages_after_an_id_and_never_shows_notes(app, chat):
    client = _signed_in(app)
    first, reply, _note, second = chat["messages"]
    feed = f"/cases/{chat['case']}/messages"
    everything = ["Where is my box?", "It left the roastery today.", "It arrives on Thursday."]
    assert _bodies(client.get(feed)) == everything
    assert _bodies(client.get(f"{feed}?after=0")) == everything
    assert _bodies(client.get(f"{feed}?after={first}")) == everything[1:]
    # After the reply the next public message is the second one: the note in between is not there.
    assert _bodies(client.get(f"{feed}?after={reply}")) == everything[2:]
    assert _bodies(client.get(f"{feed}?after={second}")) == []
    # Nonsense counts as nothing shown yet; past the range, as everything shown.
    assert _bodies(client.get(f"{feed}?after=-5")) == everything
    assert _bodies(client.get(f"{feed}?after=abc")) == everything
    assert _bodies(client.get(f"{feed}?after={10**30}")) == []
    shown = client.get(feed).json["messages"]
    assert [m["author"] for m in shown] == ["customer", "staff", "staff"]
    assert shown[0]["meta"].startswith("You · ") and shown[1]["meta"].startswith("Support · ")
    assert "Courier says" not in client.get(feed).text
    # The page carries where its polls start: the last message it shows.
    assert f'data-last-id="{second}"' in client.get(f"/cases/{chat['case']}").text


def test_the_feed_is_only_for_the_cases_own_subscriber(app, chat):
    with app.app_context():
        factories.customer("nosy@example.com")
    nosy = _signed_in(app, "nosy@example.com")
    assert nosy.get(f"/cases/{chat['case']}/messages").status_code == 404
    assert nosy.get(f"/cases/{chat['case']}/messages", headers=JSON).status_code == 404
    assert nosy.get("/cases/999999/messages").status_code == 404
    page = nosy.get("/help")
    refused = nosy.post(
        f"/cases/{chat['case']}",
        data={**form_fields(page.text, "help-form"), "body": "Let me in"},
        headers=JSON,
    )
    assert refused.status_code == 404 and refused.json["error"]["code"] == "not_found"
    anonymous = app.test_client().get(f"/cases/{chat['case']}/messages")
    assert anonymous.status_code == 302 and anonymous.location.startswith("/login?next=")


def test_the_agents_feed_needs_a_staff_role_and_shows_notes_and_channels(app, chat):
    feed = f"/console/cases/{chat['case']}/messages"
    subscriber = _signed_in(app)
    assert subscriber.get(feed).location.startswith("/staff/login?next=")
    assert app.test_client().get(feed).location.startswith("/staff/login?next=")
    console = app.test_client()
    sign_in_staff(console, "agent@chat.example")
    shown = console.get(f"{feed}?after={chat['messages'][1]}").json["messages"]
    assert [(m["body"], m["internal"]) for m in shown] == [
        ("Courier says Thursday, not sure", True),
        ("It arrives on Thursday.", False),
    ]
    assert shown[0]["meta"].startswith("Internal note · Portal · ")
    assert console.get(f"{feed}?after={chat['messages'][-1]}").json == {"messages": []}
    assert console.get("/console/cases/999999/messages").status_code == 404
    page = console.get(f"/console/cases/{chat['case']}").text
    assert f'data-last-id="{chat["messages"][-1]}"' in page


def _reply_fields(client, case_id: int) -> dict:
    return form_fields(client.get(f"/cases/{case_id}").text, "reply-form")


def _messages_from_customer(app, case_id: int) -> list[CaseMessage]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(CaseMessage).where(CaseMessage.case_id == case_id, CaseMessage.author == "customer")
            )
        )


def test_a_reply_posted_in_the_background_is_chat_and_applies_once(app, chat):
    client = _signed_in(app)
    fields = {**_reply_fields(client, chat["case"]), "body": "Thursday is fine, thanks"}
    sent = client.post(f"/cases/{chat['case']}", data=fields, headers=JSON)
    assert sent.status_code == 200, sent.text
    assert sent.json["message"] == "Your message is sent."
    assert sent.json["key"] and sent.json["key"] != fields["key"]
    # The same form again (a double click, a retried request): nothing more is stored.
    again = client.post(f"/cases/{chat['case']}", data=fields, headers=JSON)
    assert again.status_code == 200
    replies = _messages_from_customer(app, chat["case"])
    assert [(m.body, m.channel) for m in replies[1:]] == [("Thursday is fine, thanks", Channel.CHAT)]
    # The next message, with the key the answer gave, is a message of its own.
    client.post(f"/cases/{chat['case']}", data={**fields, "key": sent.json["key"], "body": "Bye"}, headers=JSON)
    assert [m.body for m in _messages_from_customer(app, chat["case"])][-2:] == ["Thursday is fine, thanks", "Bye"]
    console = app.test_client()
    sign_in_staff(console, "agent@chat.example")
    assert "Customer · Chat · " in console.get(f"/console/cases/{chat['case']}").text


def test_the_agents_reply_in_the_background_is_sent_once(app, chat):
    console = app.test_client()
    sign_in_staff(console, "agent@chat.example")
    page = console.get(f"/console/cases/{chat['case']}").text
    fields = {**form_fields(page, "reply-form"), "body": "Here is your tracking number"}
    for _ in range(2):
        sent = console.post(f"/console/cases/{chat['case']}/reply", data=fields, headers=JSON)
        assert sent.status_code == 200 and sent.json["key"] != fields["key"]
    with app.app_context():
        mails = db.session.scalars(select(OutboxEmail.body_text).where(OutboxEmail.kind == "case_reply")).all()
        assert sum("Here is your tracking number" in body for body in mails) == 1
    # The same form with other words (changed after going back) is a message of its own.
    changed = console.post(
        f"/console/cases/{chat['case']}/reply", data={**fields, "body": "Tracking: ABC"}, headers=JSON
    )
    assert changed.status_code == 200
    empty = console.post(f"/console/cases/{chat['case']}/reply", data={**fields, "body": ""}, headers=JSON)
    assert empty.status_code == 400 and empty.json["error"]["message"] == "Write a message first."
    assert _bodies(_signed_in(app).get(f"/cases/{chat['case']}/messages?after={chat['messages'][-1]}")) == [
        "Here is your tracking number",
        "Tracking: ABC",
    ]


def test_without_javascript_the_form_posts_reloads_and_applies_once(app, chat):
    client = _signed_in(app)
    fields = {**_reply_fields(client, chat["case"]), "body": "Sent twice by a double click"}
    for _ in range(2):
        response = client.post(f"/cases/{chat['case']}", data=fields)
        assert response.status_code == 302 and response.location == f"/cases/{chat['case']}"
    assert [m.body for m in _messages_from_customer(app, chat["case"])].count("Sent twice by a double click") == 1
    assert "Sent twice by a double click" in client.get(f"/cases/{chat['case']}").text
    # A page from before the form had its id still sends (as any new message).
    del fields["key"]
    fields["body"] = "No key"
    assert client.post(f"/cases/{chat['case']}", data=fields).status_code == 302
    assert client.post(f"/cases/{chat['case']}", data={**fields, "key": "<script>"}).status_code == 302
    assert [m.body for m in _messages_from_customer(app, chat["case"])].count("No key") == 2


def test_a_message_on_the_page_is_chat_whatever_channel_the_case_came_on(app, chat):
    with app.app_context():
        # The open case is done, so the email opens a case of its own.
        inbox.get_case(chat["case"]).status = CaseStatus.RESOLVED
        db.session.commit()
        email_case = inbox.receive(Channel.EMAIL, "chatty@example.com", "Hello by email", "email:chat-1").id
    client = _signed_in(app)
    fields = {**_reply_fields(client, email_case), "body": "And now on the page"}
    assert client.post(f"/cases/{email_case}", data=fields, headers=JSON).status_code == 200
    assert [m.channel for m in _messages_from_customer(app, email_case)] == [Channel.EMAIL, Channel.CHAT]


def test_an_empty_reply_in_the_background_says_why(app, chat):
    client = _signed_in(app)
    fields = {**_reply_fields(client, chat["case"]), "body": "   "}
    refused = client.post(f"/cases/{chat['case']}", data=fields, headers=JSON)
    assert refused.status_code >= 400 and "Please write a message" in refused.json["error"]["message"]
    stale = client.post(f"/cases/{chat['case']}", data={**fields, "csrf_token": "stale", "body": "Hi"}, headers=JSON)
    assert stale.status_code == 400 and stale.json["error"]["code"] == "csrf_failed"
    assert len(_messages_from_customer(app, chat["case"])) == 1


def test_a_poll_reads_the_same_statements_however_many_messages_come(app, chat):
    client = _signed_in(app)
    feed = f"/cases/{chat['case']}/messages"
    console = app.test_client()
    sign_in_staff(console, "agent@chat.example")
    staff_feed = f"/console/cases/{chat['case']}/messages"

    def statements(who, path):
        with app.app_context(), counting() as seen:
            assert who.get(path).status_code == 200
        return len(seen)

    few = statements(client, feed), statements(console, staff_feed)
    with app.app_context():
        agent = db.session.scalar(select(StaffUser))
        case = inbox.get_case(chat["case"])
        for n in range(20):
            inbox.reply(agent, case, f"Update {n}")
        customer = db.session.scalar(select(Customer))
        handoff.customer_reply(Actor.for_customer(customer), customer, case, "Thanks for all of them")
        assert db.session.scalar(select(func.count()).select_from(CaseMessage)) == 25
    assert (statements(client, feed), statements(console, staff_feed)) == few


def test_a_reply_while_the_subscriber_is_on_the_page_is_read_there_not_emailed(app, chat):
    client = _signed_in(app)
    feed = f"/cases/{chat['case']}/messages"

    def emailed() -> list[str]:
        with app.app_context():
            return list(db.session.scalars(select(OutboxEmail.body_text).where(OutboxEmail.kind == "case_reply")))

    def reply(body: str) -> dict:
        with app.app_context():
            agent = db.session.scalar(select(StaffUser))
            inbox.reply(agent, inbox.get_case(chat["case"]), body)
            return db.session.scalars(
                select(AuditEvent.after).where(AuditEvent.action == "case.replied").order_by(AuditEvent.id.desc())
            ).first()

    before = len(emailed())
    assert client.get(feed).status_code == 200  # the case page is open
    assert reply("Live answer") == {"channel": "portal", "live": True}
    assert len(emailed()) == before
    assert _bodies(client.get(f"{feed}?after={chat['messages'][-1]}")) == ["Live answer"]
    with app.app_context():
        case = inbox.get_case(chat["case"])
        case.customer_seen_at -= handoff.WATCHING_WINDOW
        db.session.commit()
    # Gone from the page for longer than the window: the next reply goes by email as well.
    assert reply("Later answer") == {"channel": "portal", "live": False}
    assert ["Later answer" in body for body in emailed()[before:]] == [True]


@pytest.mark.postgres
def test_a_reply_posted_from_many_tabs_at_once_is_stored_once(app, chat):
    def send():
        customer = db.session.scalar(select(Customer))
        case = inbox.get_case(chat["case"])
        handoff.customer_reply(Actor.for_customer(customer), customer, case, "Only once", "k" * 22)

    run_together(app, send, 8)
    assert [m.body for m in _messages_from_customer(app, chat["case"])] == ["Where is my box?", "Only once"]
    with app.app_context():
        replied = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "case.customer_replied")
        assert db.session.scalar(replied) == 1


def test_the_case_page_asked_for_json_is_still_the_page(app, chat):
    page = _signed_in(app).get(f"/cases/{chat['case']}", headers=JSON)
    assert page.status_code == 200 and "Where is my box?" in page.text


def test_both_case_pages_load_their_script_from_our_origin_under_the_strict_policy(app, chat):
    console = app.test_client()
    sign_in_staff(console, "agent@chat.example")
    for response in (_signed_in(app).get(f"/cases/{chat['case']}"), console.get(f"/console/cases/{chat['case']}")):
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self';" in policy and "connect-src 'self';" in policy and "unsafe" not in policy
        assert re.findall(r"<script[^>]*>", response.text) == ['<script src="/static/js/chat.js">']
