"""One-action links from emails (/l/<id>/<secret>): GET and HEAD show what would happen and a
confirm button (mail scanners and previews open links); only the POST acts, then signs the
browser in and lands on the page of what changed. A link that no longer works offers a fresh
copy, sent to the address on file, in its owner's language."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import NumberRange, Optional
from wtforms.widgets import HiddenInput

from portal.account.action_views import flash_done
from portal.auth.forms import ConfirmForm
from portal.auth.views import sign_in_browser
from portal.extensions import limiter
from portal.i18n import use_locale
from portal.models import LinkAction
from portal.models.types import MAX_ID
from portal.services import links
from portal.web import request_id

bp = Blueprint("links", __name__)


class LinkConfirmForm(FlaskForm):
    # The subscription's version the preview was built from; page links have none.
    version = IntegerField(widget=HiddenInput(), validators=[Optional(), NumberRange(0, MAX_ID)])


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _link_limit() -> str:
    return current_app.config["LINK_REQUEST_RATE_LIMIT"]


def _link_key() -> str:
    return f"link:{request.view_args.get('link_id')}"


def _landing(link) -> str:
    if link.action is LinkAction.UPDATE_CARD:
        return url_for("account.payment")
    if link.action is LinkAction.OPEN_CASE:
        return url_for("account.case", case_id=link.case_id)
    if link.action is LinkAction.SIGN_IN:
        return link.next_path or url_for("account.dashboard")
    return url_for("account.subscription", subscription_id=link.subscription_id)


def _no_longer_works(link_id: int, secret: str):
    """The same page for a used, expired, revoked or made-up link; in the language of the
    link's owner when the id names one."""
    owner_link = links.get(link_id)
    if owner_link is not None:
        use_locale(owner_link.locale)
    return render_template("links/unusable.html", link_id=link_id, secret=secret, form=ConfirmForm()), 410


@bp.route("/l/<int:link_id>/<secret>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def open_link(link_id: int, secret: str):
    form = LinkConfirmForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return _confirm_page(link_id, secret, form, 400)
        try:
            acted = links.act(link_id, secret, form.version.data, request.user_agent.string, request_id())
        except links.LinkUnusable:
            return _no_longer_works(link_id, secret)
        response = sign_in_browser(acted.principal, _landing(acted.link), url_for("account.dashboard"))
        if acted.refusal is not None:
            flash(acted.refusal.message, "error")
        elif acted.result is not None:
            flash_done(acted.link.action.value, acted.result)
            if acted.result.charge is not None and acted.result.charge.declined:
                return redirect(url_for("account.payment"))
        return response
    return _confirm_page(link_id, secret, form, 200)


def _confirm_page(link_id: int, secret: str, form: LinkConfirmForm, status: int):
    try:
        opened = links.open_link(link_id, secret)
    except links.LinkUnusable:
        return _no_longer_works(link_id, secret)
    if not opened.usable:
        return _no_longer_works(link_id, secret)
    use_locale(opened.link.locale)
    if opened.subscription is not None:
        form.version.data = opened.subscription.version
    return render_template(
        "links/confirm.html",
        link=opened.link,
        action=opened.link.action.value,
        subscription=opened.subscription,
        impact=opened.impact,
        refusal=opened.refusal.message if opened.refusal else None,
        form=form,
    ), status


@bp.route("/l/<int:link_id>/<secret>/fresh", methods=["POST"])
@limiter.limit(_link_limit)
@limiter.limit(_link_limit, key_func=_link_key)
def fresh_link(link_id: int, secret: str):
    """Ask for a fresh copy: the same answer whether or not the link exists (the CSRF check
    has already refused a forged post)."""
    owner_link = links.get(link_id)
    if owner_link is not None:
        use_locale(owner_link.locale)
    links.request_fresh_copy(link_id, request_id())
    return render_template("links/fresh_sent.html")
