"""Sign-in and sign-out for subscribers (/login) and staff (/staff/login)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from portal.auth.forms import ConfirmForm, EmailLinkForm, PasswordLoginForm
from portal.extensions import limiter
from portal.forms import show_error
from portal.i18n import use_locale
from portal.services import auth, contact, policy
from portal.services.actors import Actor
from portal.services.errors import InvalidCredentials, InvalidToken
from portal.web import is_safe_next, request_id, safe_next

bp = Blueprint("auth", __name__)
LINK_FORM_PREFIX = "link"


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _link_limit() -> str:
    return current_app.config["LINK_REQUEST_RATE_LIMIT"]


def _email_key() -> str:
    return "email:" + contact.normalize_email(request.form.get(f"{LINK_FORM_PREFIX}-email", ""))


def sign_in_browser(principal: auth.Principal, next_path: str | None, default: str):
    # One identity per browser: a session this browser held before ends on the server too.
    if current_user.is_authenticated:
        auth.end_session(current_user.get_id())
    logout_user()
    login_user(principal)
    return redirect(safe_next(next_path, default))


def _login_forms():
    next_path = request.args.get("next") or request.form.get("next")
    next_value = next_path if is_safe_next(next_path) else ""
    return (
        EmailLinkForm(prefix=LINK_FORM_PREFIX, next=next_value),
        PasswordLoginForm(prefix="pw", next=next_value),
    )


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_link_limit, methods=["POST"], key_func=_email_key)
def login():
    if current_user.is_authenticated and current_user.is_customer:
        return redirect(url_for("account.dashboard"))
    link_form, password_form = _login_forms()
    if link_form.validate_on_submit():
        auth.request_login_link(
            link_form.email.data,
            str(get_locale()),
            Actor.system("login page", request_id()),
            link_form.next.data or None,
        )
        return redirect(url_for("auth.link_sent"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", link_form=link_form, password_form=password_form), status


@bp.route("/login/password", methods=["POST"])
@limiter.limit(_login_limit)
def password_login():
    link_form, password_form = _login_forms()
    if password_form.validate_on_submit():
        try:
            principal = auth.sign_in_customer(
                password_form.email.data, password_form.password.data, request.user_agent.string, request_id()
            )
        except InvalidCredentials as error:
            show_error(password_form.password, error)
        else:
            return sign_in_browser(principal, password_form.next.data, url_for("account.dashboard"))
    return render_template("auth/login.html", link_form=link_form, password_form=password_form, show_password=True), 400


@bp.route("/login/sent")
def link_sent():
    return render_template("auth/link_sent.html", minutes=policy.get().sign_in_link_minutes)


@bp.route("/login/t/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login_with_token(token: str):
    """GET only shows a button (mail scanners open links); the POST uses the token up. Both
    pages speak the language of the link's owner, and a fresh link asked for from a used one
    leads to the same page."""
    next_path = request.args.get("next", "")
    form = ConfirmForm(next=next_path)
    owner = auth.token_owner(token)
    if owner is not None:
        use_locale(owner.locale)
    try:
        if form.validate_on_submit():
            principal = auth.sign_in_with_token(token, request.user_agent.string, request_id())
            return sign_in_browser(principal, form.next.data, url_for("account.dashboard"))
        customer = auth.check_login_token(token)
    except InvalidToken as error:
        link_form = EmailLinkForm(prefix=LINK_FORM_PREFIX, next=next_path if is_safe_next(next_path) else "")
        return render_template(
            "auth/link_invalid.html",
            message=error.message,
            link_form=link_form,
            minutes=policy.get().sign_in_link_minutes,
        ), 400
    return render_template("auth/confirm_link.html", form=form, customer=customer)


@bp.route("/logout", methods=["POST"])
def logout():
    was_staff = current_user.is_authenticated and current_user.is_staff
    form = ConfirmForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        auth.end_session(current_user.get_id())
        logout_user()
        flash(_("You have signed out."), "success")
    return redirect(url_for("auth.staff_login" if was_staff else "auth.login"))


@bp.route("/staff/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def staff_login():
    if current_user.is_authenticated and current_user.is_staff:
        return redirect(url_for("console.queue"))
    next_path = request.args.get("next") or request.form.get("next")
    form = PasswordLoginForm(next=next_path if is_safe_next(next_path) else "")
    status = 200
    if form.validate_on_submit():
        try:
            principal = auth.sign_in_staff(form.email.data, form.password.data, request.user_agent.string, request_id())
        except InvalidCredentials as error:
            show_error(form.password, error)
            status = 400
        else:
            return sign_in_browser(principal, form.next.data, url_for("console.queue"))
    elif request.method == "POST":
        status = 400
    return render_template("auth/staff_login.html", form=form), status
