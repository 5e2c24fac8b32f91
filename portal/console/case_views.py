"""The agent console's cases: the queue, one case with its full context, and what agents do there."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import action_flow
from portal.access import current_actor, staff_required
from portal.auth.forms import ConfirmForm
from portal.console import context
from portal.console.forms import (
    AddressOnBehalfForm,
    AssignForm,
    CancelOnBehalfForm,
    CreditForm,
    NoteForm,
    QueueFilterForm,
    RefundForm,
    ReplyForm,
    StatusForm,
)
from portal.console.views import bp
from portal.formatting import LazyDate
from portal.i18n import action_label, channel_label, country_name, status_label
from portal.models import CaseStatus, Channel, OrderStatus, StaffRole
from portal.services import (
    account,
    addresses,
    agent_actions,
    cancel_reasons,
    cancellation,
    credits,
    customers,
    handoff,
    history,
    inbox,
    payments,
    policy,
    response_times,
    subscriptions,
    support_settings,
)
from portal.services import staff as staff_service
from portal.services.errors import ConcurrentChange, DomainError, NotFound
from portal.web import request_id


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
    filters = inbox.QueueFilter(
        status=form.status.data if "status" in request.args else "open",
        channel=form.channel.data,
        assignee=form.assignee.data,
        breached=bool(form.breached.data),
    )
    page = inbox.queue(current_user.staff, filters, page=request.args.get("page", 1, type=int))
    return render_template(
        "console/queue.html",
        form=form,
        page=page,
        rows=page.rows,
        target_hours=response_times.first_response_target_hours(),
        staff_names={s.id: s.name for s in staff},
        topics=handoff.ISSUE_TYPES,
    )


def _case_page(case, status: int = 200, **forms):
    customer = customers.get_customer(case.customer_id) if case.customer_id else None
    reply_form = forms.get("reply_form") or ReplyForm(formdata=None)
    reply_form.saved_reply.choices = [("", _("None"))] + support_settings.choices()
    status_form = StatusForm(formdata=None, status=case.status.value)
    status_form.status.choices = [(s.value, status_label(s)) for s in CaseStatus]
    assign_form = AssignForm(formdata=None, assignee=case.assignee_id or 0)
    assign_form.assignee.choices = [(0, _("Nobody"))] + [(s.id, s.name) for s in staff_service.list_staff() if s.active]
    view = refund_form = address_form = None
    if customer is not None:
        view = account.dashboard(customer)
        address_form = forms.get("address_form") or _address_form(view.subscriptions, formdata=None)
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
        history=inbox.customer_history(case),
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


def _address_form(owned, formdata):
    form = AddressOnBehalfForm(formdata=formdata)
    form.subscription_id.choices = [(0, _("All subscriptions"))] + [
        (s.id, f"#{s.id} {s.items[0].variant.product.name}") for s in owned if s.status.value != "cancelled"
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
    form = ReplyForm()
    form.saved_reply.choices = [("", "")] + [(reply.key, reply.key) for reply in support_settings.replies()]
    if form.validate_on_submit():
        body = form.body.data or support_settings.text(form.saved_reply.data, case)
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
    form = StatusForm()
    form.status.choices = [(s.value, s.value) for s in CaseStatus]
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
    form = AssignForm()
    form.assignee.choices = [(0, "")] + [(s.id, s.name) for s in staff_service.list_staff()]
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


def _customer_of(case):
    if case.customer_id is None:
        raise NotFound()
    return customers.get_customer(case.customer_id)


def _case_subscription(case_id: int, subscription_id: int):
    case = inbox.get_case(case_id)
    return case, account.get_subscription(_customer_of(case), subscription_id)


@bp.route("/cases/<int:case_id>/subscriptions/<int:subscription_id>/<action>", methods=["GET", "POST"])
@staff_required(StaffRole.AGENT)
def act_for(case_id: int, subscription_id: int, action: str):
    """Any self-serve action for the customer: the portal's form, choices and preview."""
    if action not in action_flow.ACTION_FORMS:
        abort(404)
    case, subscription = _case_subscription(case_id, subscription_id)
    return _run_for(case, subscription, action, {})


@bp.route(
    "/cases/<int:case_id>/subscriptions/<int:subscription_id>/orders/<int:order_id>/<any(skip, unskip):action>",
    methods=["GET", "POST"],
)
@staff_required(StaffRole.AGENT)
def act_on_order(case_id: int, subscription_id: int, order_id: int, action: str):
    case, subscription = _case_subscription(case_id, subscription_id)
    return _run_for(case, subscription, action, {"order_id": order_id})


def _stale(case, error: DomainError):
    """As in the portal: the change is refused and the agent sees the subscription as it is now."""
    flash(error.message, "error")
    return _case_page(case, error.status)


def _done(case):
    flash(_("Done for the customer; they have been emailed."), "success")
    return _back(case)


def _run_for(case, subscription, action: str, fixed_params: dict):
    form = action_flow.form_for(subscription, action)
    step = action_flow.run(current_actor(), subscription, action, form, fixed_params)
    if step.kind == "stale":
        return _stale(case, step.error)
    if step.kind == "done":
        return _done(case)
    return render_template(
        "console/action.html",
        case=case,
        subscription=subscription,
        action=action,
        title=action_label(action) if action in action_flow.ORDER_ACTIONS else None,
        form=step.form,
        has_fields=step.has_fields,
        bounds=subscriptions.reschedule_bounds() if action == "reschedule" else None,
        impact=step.impact,
        refusal=step.error.message if step.error else None,
    ), step.status


@bp.route("/cases/<int:case_id>/subscriptions/<int:subscription_id>/cancel", methods=["GET", "POST"])
@staff_required(StaffRole.AGENT)
def cancel_for(case_id: int, subscription_id: int):
    """The customer's reason, when it ends (the subscriber's choices), a preview, then confirm."""
    case, subscription = _case_subscription(case_id, subscription_id)
    form = CancelOnBehalfForm()
    optional = [("", _("Not given"))] if policy.get().simple_cancellation else []
    form.reason.choices = optional + [(r.code, r.label) for r in cancel_reasons.reasons()]
    form.mode.choices = [
        (mode, action_flow.cancel_mode_label(mode, ends_on)) for mode, ends_on in cancellation.end_choices(subscription)
    ]
    page = {"case": case, "subscription": subscription, "form": form, "impact": None, "refusal": None}
    if request.method == "GET":
        form.version.data = subscription.version
        return render_template("console/cancel.html", **page)
    if not form.validate_on_submit():
        if form.version.errors:
            return _stale(case, ConcurrentChange())
        return render_template("console/cancel.html", **page), 400
    try:
        if form.step.data == "confirm":
            agent_actions.cancel(
                current_actor(),
                subscription,
                form.version.data,
                reason_code=form.reason.data or None,
                details=form.details.data or "",
                mode=form.mode.data,
                on_date=form.on_date.data,
            )
            return _done(case)
        page["impact"] = subscriptions.preview(
            current_actor(), subscription, "cancel", mode=form.mode.data, on_date=form.on_date.data
        )
    except ConcurrentChange as error:
        return _stale(case, error)
    except DomainError as error:
        page["refusal"] = error.message
        return render_template("console/cancel.html", **page), error.status
    form.step.data = "confirm"
    return render_template("console/cancel.html", **page)


@bp.route("/cases/<int:case_id>/address", methods=["POST"])
@staff_required(StaffRole.AGENT)
def address(case_id: int):
    case = inbox.get_case(case_id)
    customer = _customer_of(case)
    form = _address_form(account.subscriptions_of(customer), request.form)
    if not form.validate_on_submit():
        return _case_page(case, 400, address_form=form)
    data = form.address_input()
    try:
        addresses.change_shipping_address(current_actor(), customer, data, form.subscription_id.data or None)
    except addresses.InvalidAddress as error:
        flash(" ".join(str(message) for message in error.errors.values()), "error")
        return _case_page(case, 400, address_form=form)
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
    form = RefundForm()
    orders = {o.id: o for o in account.recent_past_orders(customer)}
    form.order_id.choices = [(order_id, "") for order_id in orders]
    if form.order_id.data in orders:
        form.amount.currency = orders[form.order_id.data].currency
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
