"""The agent console: find a customer and see everything about them."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import staff_required
from portal.console.forms import ChangePasswordForm, CustomerSearchForm
from portal.forms import show_error
from portal.models import StaffRole
from portal.services import account, customers, history
from portal.services import staff as staff_service
from portal.services.errors import InvalidCredentials
from portal.web import request_id

bp = Blueprint("console", __name__, url_prefix="/console")
# The case routes live in case_views.py and join this blueprint when it is imported.


@bp.route("/")
@staff_required(StaffRole.AGENT)
def home():
    form = CustomerSearchForm(request.args)
    results = customers.search(form.q.data or "") if form.validate() else []
    return render_template("console/home.html", form=form, results=results)


@bp.route("/customers/<int:customer_id>")
@staff_required(StaffRole.AGENT)
def customer(customer_id: int):
    found = customers.get_customer(customer_id)
    return render_template(
        "console/customer.html",
        view=account.dashboard(found),
        activity=history.for_staff(found.id),
    )


@bp.route("/password", methods=["GET", "POST"])
@staff_required(StaffRole.AGENT)
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            staff_service.change_own_password(
                current_user.staff,
                form.current_password.data,
                form.new_password.data,
                current_user.get_id(),
                request_id(),
            )
        except InvalidCredentials as error:
            show_error(form.current_password, error)
        else:
            flash(_("Your password has been changed. Other devices have been signed out."), "success")
            return redirect(url_for("console.home"))
    status = 400 if request.method == "POST" else 200
    return render_template("console/password.html", form=form), status
