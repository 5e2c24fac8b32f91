"""Development only: the mail the app has sent, so links in it can be followed."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from portal.services import notifications

bp = Blueprint("dev", __name__, url_prefix="/dev")


@bp.route("/mail")
def mail():
    return render_template("dev/mail.html", emails=notifications.recent())


@bp.route("/mail/<int:email_id>")
def mail_message(email_id: int):
    email = notifications.get(email_id)
    if email is None:
        abort(404)
    return render_template("dev/message.html", email=email)
