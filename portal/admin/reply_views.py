"""Merchant admin: saved replies with the tone guidelines beside them, and support's business hours
and first-response target."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from portal.access import current_actor, staff_required
from portal.admin.reply_forms import SupportHoursForm, form_for, saved_reply_form, tone_form
from portal.admin.views import bp
from portal.auth.forms import ConfirmForm
from portal.forms import run_form, show_error
from portal.models import StaffRole
from portal.services import support_settings
from portal.services.errors import DomainError


def _replies_page(status: int, posted=None, tone=None):
    """Every reply as its own form; the one just posted keeps what was typed and its errors."""
    replies = support_settings.replies()
    forms = [
        (
            r.key,
            posted if posted is not None and posted._prefix == f"r-{r.key}-" else form_for(r, formdata=None),
            ConfirmForm(prefix=f"d-{r.key}", formdata=None),
        )
        for r in replies
    ]
    new_form = (
        posted
        if posted is not None and posted._prefix == "new-"
        else saved_reply_form(prefix="new", formdata=None, position=len(replies))
    )
    return render_template(
        "admin/saved_replies.html",
        forms=forms,
        new_form=new_form,
        guidelines=support_settings.tone_guidelines(str(get_locale())),
        tone_form=tone or tone_form(support_settings.get().tone, formdata=None),
        placeholders=support_settings.PLACEHOLDERS,
    ), status


@bp.route("/replies", methods=["GET", "POST"])
@staff_required(StaffRole.ADMIN)
def saved_replies():
    if request.method == "GET":
        return _replies_page(200)
    posted = request.form.get("prefix", "new")
    key = None if posted == "new" else posted.removeprefix("r-")
    if key is not None and key not in {r.key for r in support_settings.replies()}:
        abort(404)
    form = saved_reply_form(prefix=posted)
    if not form.validate_on_submit():
        flash(_("Please check the highlighted fields."), "error")
        return _replies_page(400, posted=form)
    try:
        support_settings.save_reply(
            current_actor(), key, new_key=form.key.data, texts=form.texts(), position=form.position.data
        )
    except DomainError as error:
        field = getattr(error, "field", None)
        status = show_error(getattr(form, field) if field in form else form.key, error)
        return _replies_page(status, posted=form)
    flash(_("Saved reply saved."), "success")
    return redirect(url_for("admin.saved_replies"))


@bp.route("/replies/<key>/delete", methods=["POST"])
@staff_required(StaffRole.ADMIN)
def delete_saved_reply(key: str):
    reply = support_settings.reply(key)
    if not ConfirmForm(prefix=f"d-{reply.key}").validate_on_submit():
        return _replies_page(400)
    support_settings.delete_reply(current_actor(), reply.key)
    flash(_("Saved reply deleted."), "success")
    return redirect(url_for("admin.saved_replies"))


@bp.route("/replies/tone", methods=["POST"])
@staff_required(StaffRole.ADMIN)
def tone_guidelines():
    form = tone_form({})
    if not form.validate_on_submit():
        flash(_("Please check the highlighted fields."), "error")
        return _replies_page(400, tone=form)
    try:
        support_settings.save_tone(current_actor(), form.guidelines())
    except DomainError as error:
        status = show_error(form.language_fields()[0][0], error)
        return _replies_page(status, tone=form)
    flash(_("Tone guidelines saved."), "success")
    return redirect(url_for("admin.saved_replies"))


@bp.route("/support-hours", methods=["GET", "POST"])
@staff_required(StaffRole.ADMIN)
def support_hours():
    current = support_settings.get()
    form = SupportHoursForm(
        data=None
        if request.method == "POST"
        else {
            "days": sorted(current.hours.days),
            "start": current.hours.start,
            "end": current.hours.end,
            "target_hours": current.first_response_target_hours,
        }
    )
    posted = run_form(
        form,
        lambda: support_settings.save_hours(
            current_actor(),
            days=set(form.days.data or ()),
            start=form.start.data,
            end=form.end.data,
            target_hours=form.target_hours.data,
        ),
        error_field=form.days,
        done=_("Support hours saved. Response times are counted in them from now on."),
        to=url_for("admin.support_hours"),
    )
    return posted.response or (render_template("admin/support_hours.html", form=form), posted.status)
