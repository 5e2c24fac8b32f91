"""Merchant admin: staff and settings."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import staff_required
from portal.admin.forms import StaffCreateForm, StaffRoleForm
from portal.models import StaffRole
from portal.services import staff as staff_service
from portal.services.errors import DomainError
from portal.web import request_id

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/staff", methods=["GET", "POST"])
@staff_required(StaffRole.ADMIN)
def staff():
    form = StaffCreateForm()
    status = 200
    if form.validate_on_submit():
        try:
            staff_service.create_staff(
                current_user.actor(request_id()),
                email=form.email.data, name=form.name.data,
                role=StaffRole(form.role.data), password=form.password.data,
            )
        except DomainError as error:
            form.email.errors.append(error.message)
            status = error.status
        else:
            flash(_("Staff member added."), "success")
            return redirect(url_for("admin.staff"))
    elif request.method == "POST":
        status = 400
    return _staff_page(form, status)


def _staff_page(form: StaffCreateForm, status: int):
    members = staff_service.list_staff()
    role_forms = {member.id: StaffRoleForm(prefix=f"m{member.id}", role=member.role.value)
                  for member in members}
    return render_template("admin/staff.html", form=form, members=members,
                           role_forms=role_forms), status


@bp.route("/staff/<int:staff_id>/role", methods=["POST"])
@staff_required(StaffRole.ADMIN)
def change_role(staff_id: int):
    member = staff_service.get_staff(staff_id)
    form = StaffRoleForm(prefix=f"m{member.id}")
    if not form.validate_on_submit():
        flash(_("Choose one of the listed roles."), "error")
        return _staff_page(StaffCreateForm(formdata=None), 400)
    try:
        staff_service.change_role(current_user.actor(request_id()), member, StaffRole(form.role.data))
    except DomainError as error:
        flash(error.message, "error")
        return _staff_page(StaffCreateForm(formdata=None), error.status)
    flash(_("Role updated. %(name)s has been signed out everywhere.", name=member.name), "success")
    return redirect(url_for("admin.staff"))
