"""The agent console's cases: the queue, one case with its full context, and what agents do there."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import current_actor, staff_required
from portal.auth.forms import ConfirmForm
from portal.console import case_forms
from portal.console.forms import (
    CreditForm,
    NoteForm,
    QueueFilterForm,
)
from portal.console.views import bp
from portal.forms import show_error
from portal.i18n import status_label
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
    reply_form = forms.get("reply_form") or case_forms.reply_form(formdata=None)
    status_form = case_forms.status_form(formdata=None, status=case.status.value)
    assign_form = case_forms.assign_form(formdata=None, assignee=case.assignee_id or 0)
    act_form = refund_form = swap_form = address_form = None
    if customer is not None:
        owned = case_context.subscriptions(customer)
        swap_form, address_form = (
            case_forms.swap_form(owned, formdata=None),
            case_forms.address_form(owned, formdata=None),
        )
        act_form = case_forms.act_form(owned, formdata=None)
        refund_form = forms.get("refund_form") or case_forms.refund_form(customer, formdata=None)
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
    form = case_forms.reply_form(request.form)
    if form.validate_on_submit():
        body = form.body.data or saved_replies.text(form.saved_reply.data, case)
        try:
            inbox.reply(current_user.staff, case, body, request_id())
        except DomainError as error:
            return _case_page(case, show_error(form.body, error), reply_form=form)
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
            return _case_page(case, show_error(form.body, error), note_form=form)
        return _back(case)
    return _case_page(case, 400, note_form=form)


@bp.route("/cases/<int:case_id>/status", methods=["POST"])
@staff_required(StaffRole.AGENT)
def change_status(case_id: int):
    case = inbox.get_case(case_id)
    form = case_forms.status_form(request.form)
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
    form = case_forms.assign_form(request.form)
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
            return _case_page(case, show_error(form.amount, error), credit_form=form)
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
    form = case_forms.act_form(case_context.subscriptions(customer), request.form)
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
    form = case_forms.swap_form(owned, request.form)
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
    form = case_forms.address_form(case_context.subscriptions(customer), request.form)
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
    form = case_forms.refund_form(customer, request.form)
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
