"""Which optional emails the subscriber gets (a section of the profile page)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import current_actor, customer_required
from portal.account.forms import EmailChangeForm, ProfileForm, messages_form
from portal.account.views import bp
from portal.formatting import language_names
from portal.services import outreach


@bp.route("/profile/messages", methods=["POST"])
@customer_required
def message_preferences():
    customer = current_user.customer
    form = messages_form(customer, formdata=request.form)
    if form.validate_on_submit():
        outreach.set_preferences(current_actor(), customer, set(form.wanted.data or []))
        flash(_("Your email choices are saved."), "success")
        return redirect(url_for("account.profile_page"))
    profile_form = ProfileForm(formdata=None, obj=customer)
    profile_form.locale.choices = list(language_names().items())
    return render_template(
        "account/profile.html", form=profile_form, email_form=EmailChangeForm(prefix="email"), messages_form=form
    ), 400
