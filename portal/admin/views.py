"""Merchant admin: staff and settings."""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from portal.access import current_actor, staff_required
from portal.admin.forms import (
    PolicyForm,
    StaffCreateForm,
    StaffRoleForm,
    SwapTargetsForm,
    cancel_reason_form,
    help_answer_form,
)
from portal.forms import parse_prefixed_id, run_form
from portal.models import StaffRole
from portal.services import cancel_reasons as reason_service
from portal.services import catalog, handoff, help_answers, policy
from portal.services import staff as staff_service
from portal.services.errors import DomainError

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/staff", methods=["GET", "POST"])
@staff_required(StaffRole.ADMIN)
def staff():
    form = StaffCreateForm()
    posted = run_form(
        form,
        lambda: staff_service.create_staff(
            current_actor(),
            email=form.email.data,
            name=form.name.data,
            role=StaffRole(form.role.data),
            password=form.password.data,
        ),
        error_field=form.email,
        done=_("Staff member added."),
        to=url_for("admin.staff"),
    )
    return posted.response or _staff_page(form, posted.status)


def _staff_page(form: StaffCreateForm, status: int):
    members = staff_service.list_staff()
    role_forms = {member.id: StaffRoleForm(prefix=f"m{member.id}", role=member.role.value) for member in members}
    return render_template("admin/staff.html", form=form, members=members, role_forms=role_forms), status


@bp.route("/staff/<int:staff_id>/role", methods=["POST"])
@staff_required(StaffRole.ADMIN)
def change_role(staff_id: int):
    member = staff_service.get_staff(staff_id)
    form = StaffRoleForm(prefix=f"m{member.id}")
    if not form.validate_on_submit():
        flash(_("Choose one of the listed roles."), "error")
        return _staff_page(StaffCreateForm(formdata=None), 400)
    try:
        staff_service.change_role(current_actor(), member, StaffRole(form.role.data))
    except DomainError as error:
        flash(error.message, "error")
        return _staff_page(StaffCreateForm(formdata=None), error.status)
    flash(_("Role updated. %(name)s has been signed out everywhere.", name=member.name), "success")
    return redirect(url_for("admin.staff"))


@bp.route("/policies", methods=["GET", "POST"])
@staff_required(StaffRole.ADMIN)
def policies():
    current = policy.get()
    form = PolicyForm(
        data=None
        if request.method == "POST"
        else {
            **asdict(current),
            "pause_cycle_options": ", ".join(map(str, current.pause_cycle_options)),
            "allowed_intervals": ", ".join(current.allowed_intervals),
            "dunning_retry_days": ", ".join(map(str, current.dunning_retry_days)),
            "agent_credit_limit": current.agent_credit_limit_minor,
        }
    )
    posted = run_form(
        form,
        lambda: policy.update(current_actor(), **form.values()),
        done=_("Policies saved. They apply to every change from now on."),
        to=url_for("admin.policies"),
    )
    return posted.response or (render_template("admin/policies.html", form=form), posted.status)


@bp.route("/products", methods=["GET"])
@staff_required(StaffRole.ADMIN)
def products():
    return _products_page(200)


def _products_page(status: int):
    products = catalog.products()
    forms = {}
    for product in products:
        form = SwapTargetsForm(
            prefix=f"p{product.id}", formdata=None, targets=sorted(policy.swap_targets(product.id) - {product.id})
        )
        form.targets.choices = [(other.id, other.name) for other in products if other.id != product.id]
        forms[product.id] = form
    return render_template("admin/products.html", products=products, forms=forms), status


@bp.route("/products/<int:product_id>/swaps", methods=["POST"])
@staff_required(StaffRole.ADMIN)
def product_swaps(product_id: int):
    product = catalog.get_product(product_id)
    form = SwapTargetsForm(prefix=f"p{product.id}")
    form.targets.choices = [(other.id, other.name) for other in catalog.products() if other.id != product.id]
    if not form.validate_on_submit():
        flash(_("Choose from the listed products."), "error")
        return _products_page(400)
    # No box ticked posts no field at all: the admin chose no swap targets.
    policy.set_swap_targets(current_actor(), product, set(form.targets.data or ()))
    flash(_("Swap options for %(product)s saved.", product=product.name), "success")
    return redirect(url_for("admin.products"))


def _reason_forms():
    forms = []
    for reason in reason_service.reasons(include_disabled=True):
        discount = next((spec for spec in reason.offers if spec["type"] == "discount"), {})
        forms.append(
            cancel_reason_form(
                formdata=None,
                prefix=f"r-{reason.code}",
                code=reason.code,
                position=reason.position,
                enabled=reason.enabled,
                offers=[spec["type"] for spec in reason.offers],
                discount_percent=discount.get("percent", reason_service.DEFAULT_DISCOUNT["percent"]),
                discount_orders=discount.get("orders", reason_service.DEFAULT_DISCOUNT["orders"]),
                **{f"label_{code}": label for code, label in reason.labels.items()},
            )
        )
    return forms


@bp.route("/cancellation", methods=["GET", "POST"])
@staff_required(StaffRole.ADMIN)
def cancel_reasons():
    """Each reason is its own form; the prefix says which one was posted."""
    status = 200
    posted = request.form.get("prefix", "new")
    new_form = cancel_reason_form(
        prefix="new",
        formdata=request.form if posted == "new" else None,
        position=len(reason_service.reasons(include_disabled=True)),
        enabled=True,
    )
    if request.method == "POST":
        form = new_form if posted == "new" else cancel_reason_form(prefix=posted)
        if form.validate_on_submit():
            try:
                reason_service.save_reason(
                    current_actor(),
                    code=form.code.data,
                    labels=form.labels(),
                    position=form.position.data,
                    enabled=bool(form.enabled.data),
                    offers=form.offer_specs(),
                )
            except DomainError as error:
                flash(error.message, "error")
                status = error.status
            else:
                flash(_("Cancel reason saved."), "success")
                return redirect(url_for("admin.cancel_reasons"))
        else:
            flash(_("Please check the highlighted fields."), "error")
            status = 400
    return render_template("admin/cancel_reasons.html", forms=_reason_forms(), new_form=new_form), status


def _answer_forms():
    return [
        (
            figures,
            help_answer_form(
                handoff.ISSUE_TYPES,
                formdata=None,
                prefix=f"a{figures.answer.id}",
                topic=figures.answer.topic,
                refusal_codes=", ".join(figures.answer.refusal_codes or []),
                position=figures.answer.position,
                enabled=figures.answer.enabled,
                **{
                    f"{part}_{code}": text.get(part, "")
                    for code, text in figures.answer.texts.items()
                    for part in ("title", "body")
                },
            ),
        )
        for figures in help_answers.all_answers()
    ]


@bp.route("/help", methods=["GET", "POST"])
@staff_required(StaffRole.ADMIN)
def help_answer_list():
    """Each answer is its own form; the prefix says which one was posted ("new" adds one)."""
    status = 200
    posted = request.form.get("prefix", "new")
    new_form = help_answer_form(
        handoff.ISSUE_TYPES,
        prefix="new",
        formdata=request.form if posted == "new" else None,
        position=len(help_answers.all_answers()),
        enabled=True,
    )
    if request.method == "POST":
        form = new_form if posted == "new" else help_answer_form(handoff.ISSUE_TYPES, prefix=posted)
        answer_id = None if posted == "new" else parse_prefixed_id(posted, "a")
        if form.validate_on_submit():
            try:
                help_answers.save_answer(
                    current_actor(),
                    answer_id,
                    topic=form.topic.data,
                    refusal_codes=form.codes(),
                    texts=form.texts(),
                    position=form.position.data,
                    enabled=bool(form.enabled.data),
                )
            except DomainError as error:
                flash(error.message, "error")
                status = error.status
            else:
                flash(_("Help answer saved."), "success")
                return redirect(url_for("admin.help_answer_list"))
        else:
            flash(_("Please check the highlighted fields."), "error")
            status = 400
    return render_template("admin/help_answers.html", answers=_answer_forms(), new_form=new_form), status
