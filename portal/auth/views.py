"""Sign-in and sign-out for subscribers (/login) and staff (/staff/login)."""

from __future__ import annotations

from contextlib import nullcontext

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from portal.auth.forms import ConfirmForm, EmailLinkForm, PasswordLoginForm
from portal.extensions import limiter
from portal.forms import show_error
from portal.services import auth, contact
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


def _sign_in(principal: auth.Principal, next_path: str | None, default: str):
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
            return _sign_in(principal, password_form.next.data, url_for("account.dashboard"))
    return render_template("auth/login.html", link_form=link_form, password_form=password_form, show_password=True), 400


@bp.route("/login/sent")
def link_sent():
    return render_template("auth/link_sent.html")


@bp.route("/login/t/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login_with_token(token: str):
    """GET only shows a button (mail scanners open links); the POST uses the token up."""
    form = ConfirmForm(next=request.args.get("next", ""))
    try:
        if form.validate_on_submit():
            principal = auth.sign_in_with_token(token, request.user_agent.string, request_id())
            return _sign_in(principal, form.next.data, url_for("account.dashboard"))
        customer = auth.check_login_token(token)
    except InvalidToken as error:
        with _in_language_of(auth.link_owner_locale(token)):
            return render_template(
                "auth/link_invalid.html", message=str(error.message), link_form=EmailLinkForm(prefix=LINK_FORM_PREFIX)
            ), 400
    with _in_language_of(auth.link_owner_locale(token)):
        return render_template("auth/confirm_link.html", form=form, customer=customer)


def _in_language_of(owner_locale: str | None):
    """A link's pages speak the language of the email it came in (a browser may not say it);
    nobody is signed in yet, so nothing else chose a language for them."""
    return force_locale(owner_locale) if owner_locale else nullcontext()


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
            return _sign_in(principal, form.next.data, url_for("console.queue"))
    elif request.method == "POST":
        status = 400
    return render_template("auth/staff_login.html", form=form), status
