"""The agent console's cases: the queue, one case with its full context, and what agents do there."""

from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import current_actor, staff_required
from portal.auth.forms import ConfirmForm
from portal.console import context
from portal.console.forms import (
    AddressOnBehalfForm,
    AssignForm,
    CreditForm,
    NoteForm,
    QueueFilterForm,
    RefundForm,
    ReplyForm,
    StatusForm,
)
from portal.console.views import bp
from portal.errors import error_response, wants_json
from portal.formatting import LazyDate, local_date
from portal.forms import new_message_key, show_error
from portal.i18n import channel_label, country_name, status_label
from portal.models import CaseStatus, Channel, OrderStatus, StaffRole
from portal.services import (
    account,
    addresses,
    case_queue,
    credits,
    customers,
    handoff,
    history,
    inbox,
    payments,
    response_times,
    support_settings,
)
from portal.services import staff as staff_service
from portal.services.errors import DomainError
from portal.web import after_id, request_id


@bp.route("/cases")
@staff_required(StaffRole.AGENT)
def queue():
    form = QueueFilterForm(request.args)
    form.status.choices = [("open", _("Open")), ("", _("All"))] + [(s.value, status_label(s)) for s in CaseStatus]
    form.channel.choices = [("", _("All"))] + [(c.value, channel_label(c)) for c in Channel]
    staff = staff_service.list_staff()
    form.assignee.choices = [("", _("Anyone")), ("me", _("Me")), ("none", _("Nobody"))] + [
        (str(s.id), s.name) for s in staff
    ]
    filters = case_queue.QueueFilter(
        status=form.status.data if "status" in request.args else "open",
        channel=form.channel.data,
        assignee=form.assignee.data,
        breached=bool(form.breached.data),
    )
    page = case_queue.queue(current_user.staff, filters, page=request.args.get("page", 1, type=int))
    return render_template(
        "console/queue.html",
        form=form,
        page=page,
        rows=page.rows,
        target_hours=response_times.first_response_target_hours(),
        staff_names={s.id: s.name for s in staff},
        topics=handoff.ISSUE_TYPES,
    )


def _saved_reply_choices() -> list[tuple[str, str]]:
    # The same list for the page and for its post, so the post accepts what the page offers.
    return [("", _("None"))] + support_settings.choices()


def case_page(case, status: int = 200, **forms):
    customer = customers.get_customer(case.customer_id) if case.customer_id else None
    reply_form = forms.get("reply_form") or ReplyForm(formdata=None)
    reply_form.saved_reply.choices = _saved_reply_choices()
    status_form = StatusForm(formdata=None, status=case.status.value)
    status_form.status.choices = [(s.value, status_label(s)) for s in CaseStatus]
    assign_form = AssignForm(formdata=None, assignee=case.assignee_id or 0)
    assign_form.assignee.choices = [(0, _("Nobody"))] + [(s.id, s.name) for s in staff_service.list_staff() if s.active]
    view = refund_form = address_form = None
    thread = case_queue.customer_history(case)
    if customer is not None:
        view = account.dashboard(customer)
        address_form = forms.get("address_form") or address_on_behalf_form(view.subscriptions, formdata=None)
        paid = [o for o in view.past_orders if o.status is OrderStatus.PAID]
        refund_form = forms.get("refund_form") or RefundForm(formdata=None)
        refund_form.order_id.choices = [(o.id, f"#{o.id} · {LazyDate(o.scheduled_for)}") for o in paid]
    return render_template(
        "console/case.html",
        case=case,
        customer=customer,
        view=view,
        snap=context.present(case.snapshot),
        clock=response_times.response_clock(case),
        history=thread,
        last_id=max((m.id for m in thread if m.case_id == case.id), default=0),
        activity=history.for_staff(customer.id, limit=15) if customer else [],
        topic=handoff.ISSUE_TYPES.get(case.issue_type, case.issue_type),
        reply_form=reply_form,
        note_form=forms.get("note_form") or NoteForm(formdata=None),
        status_form=status_form,
        assign_form=assign_form,
        credit_form=forms.get("credit_form") or CreditForm(formdata=None),
        refund_form=refund_form,
        address_form=address_form,
    ), status


def address_on_behalf_form(owned, formdata):
    """The address form's choices: all live subscriptions at once, or one of them."""
    form = AddressOnBehalfForm(formdata=formdata)
    form.subscription_id.choices = [(0, _("All subscriptions"))] + [
        (s.id, f"#{s.id} {s.items[0].variant.product.name}") for s in addresses.movable(owned)
    ]
    form.country.choices = [(code, country_name(code)) for code in addresses.shipping_countries()]
    return form


@bp.route("/cases/<int:case_id>")
@staff_required(StaffRole.AGENT)
def case(case_id: int):
    return case_page(inbox.get_case(case_id))


@bp.route("/cases/<int:case_id>/messages")
@staff_required(StaffRole.AGENT)
def case_messages(case_id: int):
    """What the case page polls for: the case's messages and notes after `?after=<message id>`."""
    messages = case_queue.messages_after(inbox.get_case(case_id), after_id())
    return jsonify({"messages": [_message_json(message) for message in messages]})


def _message_json(message) -> dict:
    # The same words as the page shows for each message.
    if message.internal:
        who = _("Internal note")
    elif message.author == "customer":
        who = _("Customer")
    else:
        who = _("Support")
    return {
        "id": message.id,
        "author": message.author,
        "internal": message.internal,
        "meta": f"{who} · {channel_label(message.channel)} · {local_date(message.created_at, 'short')}",
        "body": message.body,
    }


def back_to_case(case):
    return redirect(url_for("console.case", case_id=case.id))


@bp.route("/cases/<int:case_id>/reply", methods=["POST"])
@staff_required(StaffRole.AGENT)
def reply(case_id: int):
    """Posted by the page's script (asking for JSON, the page stays) or by the form itself."""
    case = inbox.get_case(case_id)
    form = ReplyForm()
    form.saved_reply.choices = _saved_reply_choices()
    status = 400
    if form.validate_on_submit():
        body = form.body.data or support_settings.text(form.saved_reply.data, case)
        try:
            inbox.reply(current_user.staff, case, body, request_id(), form.message_key())
        except DomainError as error:
            status = show_error(form.body, error)
        else:
            if wants_json():
                return jsonify({"key": new_message_key(), "message": _("Reply sent.")})
            flash(_("Reply sent."), "success")
            return back_to_case(case)
    if wants_json():
        return error_response(status, " ".join(str(e) for e in form.body.errors) or None)
    return case_page(case, status, reply_form=form)


@bp.route("/cases/<int:case_id>/note", methods=["POST"])
@staff_required(StaffRole.AGENT)
def note(case_id: int):
    case = inbox.get_case(case_id)
    form = NoteForm()
    if form.validate_on_submit():
        try:
            inbox.note(current_user.staff, case, form.body.data, request_id())
        except DomainError as error:
            return case_page(case, show_error(form.body, error), note_form=form)
        return back_to_case(case)
    return case_page(case, 400, note_form=form)


@bp.route("/cases/<int:case_id>/status", methods=["POST"])
@staff_required(StaffRole.AGENT)
def change_status(case_id: int):
    case = inbox.get_case(case_id)
    form = StatusForm()
    form.status.choices = [(s.value, s.value) for s in CaseStatus]
    if not form.validate_on_submit():
        return case_page(case, 400)
    inbox.set_status(current_user.staff, case, CaseStatus(form.status.data), request_id())
    return back_to_case(case)


@bp.route("/cases/<int:case_id>/assign", methods=["POST"])
@staff_required(StaffRole.AGENT)
def assign(case_id: int):
    case = inbox.get_case(case_id)
    if request.form.get("claim"):
        if ConfirmForm().validate_on_submit():
            inbox.assign(current_user.staff, case, current_user.staff.id, request_id())
        return back_to_case(case)
    form = AssignForm()
    form.assignee.choices = [(0, "")] + [(s.id, s.name) for s in staff_service.list_staff()]
    if not form.validate_on_submit():
        return case_page(case, 400)
    inbox.assign(current_user.staff, case, form.assignee.data or None, request_id())
    return back_to_case(case)


@bp.route("/cases/<int:case_id>/credit", methods=["POST"])
@staff_required(StaffRole.AGENT)
def credit(case_id: int):
    case = inbox.get_case(case_id)
    form = CreditForm()
    if form.validate_on_submit():
        try:
            request_ = credits.request_credit(
                current_user.staff, case, form.amount.data, form.reason.data, request_id()
            )
        except DomainError as error:
            return case_page(case, show_error(form.amount, error), credit_form=form)
        if request_.status.value == "approved":
            flash(_("Credit given."), "success")
        else:
            flash(_("That is above your limit for this case, so a manager has to approve it."), "success")
        return back_to_case(case)
    return case_page(case, 400, credit_form=form)


@bp.route("/cases/<int:case_id>/refund", methods=["POST"])
@staff_required(StaffRole.AGENT)
def refund(case_id: int):
    case = inbox.get_case(case_id)
    if case.customer_id is None:
        return case_page(case, 404)
    customer = customers.get_customer(case.customer_id)
    form = RefundForm()
    orders = {o.id: o for o in account.recent_past_orders(customer)}
    form.order_id.choices = [(order_id, "") for order_id in orders]
    if form.order_id.data in orders:
        form.amount.currency = orders[form.order_id.data].currency
    if not form.validate_on_submit():
        return case_page(case, 400, refund_form=form)
    order = account.get_order(customer, form.order_id.data)
    try:
        payments.refund(current_actor(), order, form.amount.data, form.reason.data)
    except DomainError as error:
        flash(error.message, "error")
        return case_page(case, error.status)
    flash(_("Refund made."), "success")
    return back_to_case(case)


@bp.route("/approvals", methods=["GET", "POST"])
@staff_required(StaffRole.MANAGER)
def approvals():
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            return render_template("console/approvals.html", pending=credits.pending()), 400
        try:
            credits.decide(
                current_user.staff,
                request.form.get("request_id", type=int, default=0),
                request.form.get("decision") == "approve",
                request_id(),
            )
        except DomainError as error:
            flash(error.message, "error")
            return render_template("console/approvals.html", pending=credits.pending()), error.status
        return redirect(url_for("console.approvals"))
    return render_template("console/approvals.html", pending=credits.pending())


@bp.route("/reports/credits")
@staff_required(StaffRole.MANAGER)
def credit_report():
    return render_template("console/credit_report.html", rows=credits.by_agent())
