"""Merchant admin: the proactive messages (on or off, timing, words per language, preview) and
announcing a price change or a discontinued product."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from portal.access import current_actor, staff_required
from portal.admin.message_forms import CatalogChangeForm, message_form
from portal.admin.views import bp
from portal.forms import run_form, show_error
from portal.models import StaffRole
from portal.services import catalog_changes, outreach
from portal.services.errors import DomainError


@bp.route("/messages", methods=["GET", "POST"])
@staff_required(StaffRole.ADMIN)
def messages():
    """Each message is its own form; the prefix says which one was posted. "Preview" shows the
    posted words without saving them."""
    status, preview, posted = 200, None, request.form.get("prefix")
    forms = []
    for setting in outreach.all_settings():
        form = message_form(setting, formdata=request.form if posted == setting.kind.code else None)
        forms.append((setting, form))
    if request.method == "POST":
        setting, form = next(((s, f) for s, f in forms if s.kind.code == posted), (None, None))
        if form is None:
            abort(404)
        if not form.validate_on_submit():
            flash(_("Please check the highlighted fields."), "error")
            status = 400
        elif "preview" in request.form:
            preview = (setting.kind.code, outreach.preview(setting.kind.code, form.texts(), form.preview_locale.data))
        else:
            try:
                outreach.save_setting(
                    current_actor(),
                    setting.kind.code,
                    enabled=bool(form.enabled.data),
                    days_before=form.days_before.data,
                    texts=form.texts(),
                )
            except DomainError as error:
                status = show_error(form.days_before, error)
            else:
                flash(_("Message saved."), "success")
                return redirect(url_for("admin.messages"))
    return render_template("admin/messages.html", forms=forms, preview=preview), status


@bp.route("/catalog-changes", methods=["GET", "POST"])
@staff_required(StaffRole.ADMIN)
def catalog_change_list():
    form = CatalogChangeForm()
    variants = catalog_changes.variants()
    form.variant_id.choices = [(v.id, v.display_name) for v in variants]
    posted = run_form(
        form,
        lambda: catalog_changes.announce(
            current_actor(), form.variant_id.data, form.kind.data, form.effective_on.data, form.new_price.data
        ),
        error_field=form.effective_on,
        done=_("Change announced. Affected subscribers are told by email."),
        to=url_for("admin.catalog_change_list"),
    )
    by_id = {v.id: v for v in variants}
    return posted.response or (
        render_template("admin/catalog_changes.html", form=form, changes=catalog_changes.announced(), variants=by_id),
        posted.status,
    )
