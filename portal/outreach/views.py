"""One-click unsubscribe from an optional email (RFC 8058), without signing in.

The token in the path is signed; the GET only shows a button (mail scanners open links), and
the POST unsubscribes. Mail clients POST `List-Unsubscribe=One-Click` without our CSRF token,
so this one endpoint is exempt: the signed token is what authorises it."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from portal.extensions import csrf
from portal.services import outreach
from portal.services.errors import InvalidToken
from portal.web import request_id

bp = Blueprint("outreach", __name__)


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token: str):
    try:
        if request.method == "POST":
            customer, kind = outreach.unsubscribe(token, request_id())
            return render_template("outreach/unsubscribed.html", customer=customer, kind=kind)
        customer, kind = outreach.read_unsubscribe_token(token)
    except InvalidToken as error:
        return render_template("outreach/unsubscribe.html", message=error.message), error.status
    return render_template("outreach/unsubscribe.html", customer=customer, kind=kind)
