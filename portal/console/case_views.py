"""The agent console's cases: the queue, one case with its full context, and what agents do there."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import current_actor, staff_required
from portal.auth.forms import ConfirmForm
from portal.console.forms import (
    ActOnBehalfForm,
    AddressOnBehalfForm,
    AssignForm,
    CreditForm,
    NoteForm,
    QueueFilterForm,
    RefundForm,
    ReplyForm,
    StatusForm,
    SwapOnBehalfForm,
)
from portal.console.views import bp
from portal.formatting import money
from portal.i18n import ACTION_TITLES, country_name, status_label
from portal.models import CaseStatus, Channel, StaffRole
from portal.services import (
    account,
    actions,
    addresses,
    agent_actions,
    case_context,
    credits,
    customers,
    inbox,
    payments,
    response_times,
    saved_replies,
    subscriptions,
)
from portal.services import staff as staff_service
from portal.services.errors import DomainError, NotFound
from portal.web import request_id


@bp.route("/cases")
@staff_required(StaffRole.AGENT)
def queue():
    form = QueueFilterForm(request.args)
    form.status.choices = [("open", _("Open")), ("", _("All"))] + [(s.value, status_label(s)) for s in CaseStatus]
    form.channel.choices = [("", _("All"))] + [
        (c.value, c.value.upper() if c is Channel.SMS else c.value.capitalize()) for c in Channel
    ]
    form.assignee.choices = [("", _("Anyone")), ("me", _("Me")), ("none", _("Nobody"))] + [
        (str(s.id), s.name) for s in staff_service.list_staff()
    ]
    filters = inbox.QueueFilter(
        status=form.status.data if "status" in request.args else "open",
        channel=form.channel.data,
        assignee=form.assignee.data,
        breached=bool(form.breached.data),
    )
    return render_template(
        "console/queue.html",
        form=form,
        rows=inbox.queue(current_user.staff, filters),
        target_hours=response_times.first_response_target_hours(),
    )


def _case_page(case, status: int = 200, **forms):
    customer = customers.get_customer(case.customer_id) if case.customer_id else None
    reply_form = forms.get("reply_form") or _reply_form(formdata=None)
    status_form = _status_form(formdata=None, status=case.status.value)
    assign_form = _assign_form(formdata=None, assignee=case.assignee_id or 0)
    act_form = refund_form = swap_form = address_form = None
    if customer is not None:
        owned = case_context.subscriptions(customer)
        swap_form, address_form = _swap_form(owned, formdata=None), _address_form(owned, formdata=None)
        act_form = _act_form(owned, formdata=None)
        refund_form = forms.get("refund_form") or _refund_form(customer, formdata=None)
    return render_template(
        "console/case.html",
        case=case,
        customer=customer,
        clock=response_times.response_clock(case),
        history=inbox.customer_history(case),
        activity=account.recent_activity(customer.id) if customer else [],
        reply_form=reply_form,
        note_form=forms.get("note_form") or NoteForm(formdata=None),
        status_form=status_form,
        assign_form=assign_form,
        credit_form=forms.get("credit_form") or CreditForm(formdata=None),
        act_form=act_form,
        refund_form=refund_form,
        swap_form=swap_form,
        address_form=address_form,
    ), status


# Each form below gets its choices from `case_context` in one place, for the page and for the
# post alike. formdata: the posted form, or None for an empty one.


def _reply_form(formdata):
    form = ReplyForm(formdata=formdata)
    form.saved_reply.choices = [("", _("None"))] + [
        (key, str(reply.title)) for key, reply in saved_replies.SAVED_REPLIES.items()
    ]
    return form


def _status_form(formdata, **values):
    form = StatusForm(formdata=formdata, **values)
    form.status.choices = [(s.value, status_label(s)) for s in CaseStatus]
    return form


def _assign_form(formdata, **values):
    form = AssignForm(formdata=formdata, **values)
    form.assignee.choices = [(0, _("Nobody"))] + [(s.id, s.name) for s in case_context.assignable_staff()]
    return form


def _act_form(owned, formdata):
    form = ActOnBehalfForm(formdata=formdata)
    form.subscription_id.choices = [
        (s.id, f"#{s.id} {s.items[0].variant.product.name} ({status_label(s.status)})") for s in owned
    ]
    form.action.choices = [
        (key, str(ACTION_TITLES.get(action, _("Cancel subscription") if action == "cancel" else action)))
        for key, (action, _p) in agent_actions.ON_BEHALF.items()
    ]
    return form


def _refund_form(customer, formdata):
    """The refund form; a posted order's currency tells the amount field its precision."""
    form = RefundForm(formdata=formdata)
    orders = {o.id: o for o in case_context.refundable_orders(customer)}
    form.order_id.choices = [(o.id, f"#{o.id} · {o.scheduled_for.isoformat()}") for o in orders.values()]
    if form.order_id.data in orders:
        form.amount.currency = orders[form.order_id.data].currency
    return form


def _swap_form(owned, formdata):
    """owned: the customer's subscriptions."""
    form = SwapOnBehalfForm(formdata=formdata)
    live = case_context.changeable(owned)
    form.item_id.choices = [
        (item.id, f"#{s.id} {item.quantity} × {item.variant.display_name}") for s in live for item in s.items
    ]
    choices = {}
    for variants in subscriptions.swap_choices_of(live).values():
        choices.update({v.id: f"{v.display_name} · {money(v.price_minor, v.currency)}" for v in variants})
    form.variant_id.choices = sorted(choices.items())
    return form


def _address_form(owned, formdata):
    form = AddressOnBehalfForm(formdata=formdata)
    form.subscription_id.choices = [(0, _("All subscriptions"))] + [
        (s.id, f"#{s.id} {s.items[0].variant.product.name}") for s in case_context.changeable(owned)
    ]
    form.country.choices = [(code, country_name(code)) for code in addresses.shipping_countries()]
    return form


@bp.route("/cases/<int:case_id>")
@staff_required(StaffRole.AGENT)
def case(case_id: int):
    return _case_page(inbox.get_case(case_id))


def _back(case):
    return redirect(url_for("console.case", case_id=case.id))


@bp.route("/cases/<int:case_id>/reply", methods=["POST"])
@staff_required(StaffRole.AGENT)
def reply(case_id: int):
    case = inbox.get_case(case_id)
    form = _reply_form(request.form)
    if form.validate_on_submit():
        body = form.body.data or saved_replies.text(form.saved_reply.data, case)
        try:
            inbox.reply(current_user.staff, case, body, request_id())
        except DomainError as error:
            form.body.errors = [*form.body.errors, error.message]
            return _case_page(case, error.status, reply_form=form)
        flash(_("Reply sent."), "success")
        return _back(case)
    return _case_page(case, 400, reply_form=form)


@bp.route("/cases/<int:case_id>/note", methods=["POST"])
@staff_required(StaffRole.AGENT)
def note(case_id: int):
    case = inbox.get_case(case_id)
    form = NoteForm()
    if form.validate_on_submit():
        try:
            inbox.note(current_user.staff, case, form.body.data, request_id())
        except DomainError as error:
            form.body.errors = [*form.body.errors, error.message]
            return _case_page(case, error.status, note_form=form)
        return _back(case)
    return _case_page(case, 400, note_form=form)


@bp.route("/cases/<int:case_id>/status", methods=["POST"])
@staff_required(StaffRole.AGENT)
def change_status(case_id: int):
    case = inbox.get_case(case_id)
    form = _status_form(request.form)
    if not form.validate_on_submit():
        return _case_page(case, 400)
    inbox.set_status(current_user.staff, case, CaseStatus(form.status.data), request_id())
    return _back(case)


@bp.route("/cases/<int:case_id>/assign", methods=["POST"])
@staff_required(StaffRole.AGENT)
def assign(case_id: int):
    case = inbox.get_case(case_id)
    if request.form.get("claim"):
        if ConfirmForm().validate_on_submit():
            inbox.assign(current_user.staff, case, current_user.staff.id, request_id())
        return _back(case)
    form = _assign_form(request.form)
    if not form.validate_on_submit():
        return _case_page(case, 400)
    inbox.assign(current_user.staff, case, form.assignee.data or None, request_id())
    return _back(case)


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
            form.amount.errors = [*form.amount.errors, error.message]
            return _case_page(case, error.status, credit_form=form)
        if request_.status.value == "approved":
            flash(_("Credit given."), "success")
        else:
            flash(_("That is above your limit for this case, so a manager has to approve it."), "success")
        return _back(case)
    return _case_page(case, 400, credit_form=form)


@bp.route("/cases/<int:case_id>/act", methods=["POST"])
@staff_required(StaffRole.AGENT)
def act(case_id: int):
    case = inbox.get_case(case_id)
    if case.customer_id is None:
        return _case_page(case, 404)
    customer = customers.get_customer(case.customer_id)
    form = _act_form(case_context.subscriptions(customer), request.form)
    if not form.validate_on_submit():
        return _case_page(case, 400)
    subscription = account.get_subscription(customer, form.subscription_id.data)
    try:
        agent_actions.act(current_actor(), subscription, form.action.data)
    except DomainError as error:
        flash(error.message, "error")
        return _case_page(case, error.status)
    flash(_("Done for the customer; they have been emailed."), "success")
    return _back(case)


def _customer_of(case):
    if case.customer_id is None:
        raise NotFound()
    return customers.get_customer(case.customer_id)


@bp.route("/cases/<int:case_id>/swap", methods=["POST"])
@staff_required(StaffRole.AGENT)
def swap(case_id: int):
    case = inbox.get_case(case_id)
    customer = _customer_of(case)
    owned = case_context.subscriptions(customer)
    form = _swap_form(owned, request.form)
    if not form.validate_on_submit():
        return _case_page(case, 400)
    subscription = next((s for s in owned if any(i.id == form.item_id.data for i in s.items)), None)
    if subscription is None:
        raise NotFound()
    try:
        actions.perform(
            current_actor(),
            subscription,
            "swap",
            subscription.version,
            item_id=form.item_id.data,
            variant_id=form.variant_id.data,
            quantity=form.quantity.data,
        )
    except DomainError as error:
        flash(error.message, "error")
        return _case_page(case, error.status)
    flash(_("Done for the customer; they have been emailed."), "success")
    return _back(case)


@bp.route("/cases/<int:case_id>/address", methods=["POST"])
@staff_required(StaffRole.AGENT)
def address(case_id: int):
    case = inbox.get_case(case_id)
    customer = _customer_of(case)
    form = _address_form(case_context.subscriptions(customer), request.form)
    if not form.validate_on_submit():
        return _case_page(case, 400)
    data = form.address_input()
    try:
        addresses.change_shipping_address(current_actor(), customer, data, form.subscription_id.data or None)
    except addresses.InvalidAddress as error:
        flash(" ".join(str(message) for message in error.errors.values()), "error")
        return _case_page(case, 400)
    except DomainError as error:
        flash(error.message, "error")
        return _case_page(case, error.status)
    flash(_("Done for the customer; they have been emailed."), "success")
    return _back(case)


@bp.route("/cases/<int:case_id>/refund", methods=["POST"])
@staff_required(StaffRole.AGENT)
def refund(case_id: int):
    case = inbox.get_case(case_id)
    if case.customer_id is None:
        return _case_page(case, 404)
    customer = customers.get_customer(case.customer_id)
    form = _refund_form(customer, request.form)
    if not form.validate_on_submit():
        return _case_page(case, 400, refund_form=form)
    order = account.get_order(customer, form.order_id.data)
    try:
        payments.refund(current_actor(), order, form.amount.data, form.reason.data)
    except DomainError as error:
        flash(error.message, "error")
        return _case_page(case, error.status)
    flash(_("Refund made."), "success")
    return _back(case)


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
