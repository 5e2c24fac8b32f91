"""Merchant admin: API keys, outgoing webhooks, revoking a customer's links, and bulk links for
a campaign (a CSV in, a CSV of links out). A new key or webhook secret is shown once, on the
answer to the POST that made it (never in a flash message, which travels in the cookie)."""

from __future__ import annotations

import io

from flask import Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from portal.access import current_actor, staff_required
from portal.admin.integration_forms import (
    ApiKeyForm,
    BulkLinksForm,
    RevokeLinksForm,
    RevokeOneLinkForm,
    WebhookForm,
)
from portal.admin.views import bp
from portal.forms import add_error, show_error
from portal.models import StaffRole
from portal.services import api_keys, auth, bulk_links, links, webhooks_out
from portal.services.errors import DomainError

# Larger campaigns go through `flask links bulk`, which has no request timeout.
ADMIN_BULK_MAX_BYTES = 2_000_000


def _page(status: int = 200, **shown):
    forms = {
        "key_form": ApiKeyForm(prefix="key"),
        "webhook_form": WebhookForm(prefix="hook"),
        "revoke_form": RevokeLinksForm(prefix="revoke"),
        "revoke_one_form": RevokeOneLinkForm(prefix="one"),
        "bulk_form": BulkLinksForm(prefix="bulk"),
    }
    forms.update({name: form for name, form in shown.items() if name.endswith("_form")})
    return render_template(
        "admin/integrations.html",
        keys=api_keys.all_keys(),
        endpoints=webhooks_out.endpoints(),
        deliveries=webhooks_out.recent_deliveries(20),
        event_types=webhooks_out.EVENT_TYPES,
        **{**shown, **forms},
    ), status


@bp.route("/integrations")
@staff_required(StaffRole.ADMIN)
def integrations():
    return _page()


@bp.route("/integrations/api-keys", methods=["POST"])
@staff_required(StaffRole.ADMIN)
def create_api_key():
    form = ApiKeyForm(prefix="key")
    if not form.validate_on_submit():
        return _page(400, key_form=form)
    try:
        key, secret = api_keys.create(current_actor(), form.name.data, form.scopes.data)
    except DomainError as error:
        return _page(show_error(form.name, error), key_form=form)
    return _page(new_key=key, new_secret=secret)


@bp.route("/integrations/api-keys/<int:key_id>/revoke", methods=["POST"])
@staff_required(StaffRole.ADMIN)
def revoke_api_key(key_id: int):
    key = api_keys.revoke(current_actor(), key_id)
    flash(_("The key %(name)s no longer works.", name=key.name), "success")
    return redirect(url_for("admin.integrations"))


@bp.route("/integrations/webhooks", methods=["POST"])
@staff_required(StaffRole.ADMIN)
def add_webhook():
    form = WebhookForm(prefix="hook")
    if not form.validate_on_submit():
        return _page(400, webhook_form=form)
    try:
        endpoint = webhooks_out.add_endpoint(current_actor(), form.url.data)
    except DomainError as error:
        return _page(show_error(form.url, error), webhook_form=form)
    return _page(new_endpoint=endpoint)


@bp.route("/integrations/webhooks/<int:endpoint_id>/disable", methods=["POST"])
@staff_required(StaffRole.ADMIN)
def disable_webhook(endpoint_id: int):
    endpoint = webhooks_out.disable_endpoint(current_actor(), endpoint_id)
    flash(_("%(url)s receives no more events.", url=endpoint.url), "success")
    return redirect(url_for("admin.integrations"))


@bp.route("/integrations/links/revoke", methods=["POST"])
@staff_required(StaffRole.ADMIN)
def revoke_customer_links():
    form = RevokeLinksForm(prefix="revoke")
    if not form.validate_on_submit():
        return _page(400, revoke_form=form)
    customer = auth.find_customer_by_email(form.email.data)
    if customer is None:
        add_error(form.email, _("No customer has this email address."))
        return _page(404, revoke_form=form)
    count = links.revoke_all(current_actor(), customer)
    flash(_("%(count)d unused links of %(email)s no longer work.", count=count, email=customer.email), "success")
    return redirect(url_for("admin.integrations"))


@bp.route("/integrations/links/revoke-one", methods=["POST"])
@staff_required(StaffRole.ADMIN)
def revoke_one_link():
    form = RevokeOneLinkForm(prefix="one")
    if not form.validate_on_submit():
        return _page(400, revoke_one_form=form)
    link = links.get(form.link_id()) if form.link_id() is not None else None
    if link is None:
        add_error(form.link, _("That is not a link of this portal."))
        return _page(404, revoke_one_form=form)
    if links.revoke(current_actor(), link):
        flash(_("That link no longer works."), "success")
    else:
        flash(_("That link had already been used or revoked."), "success")
    return redirect(url_for("admin.integrations"))


@bp.route("/integrations/links/bulk", methods=["POST"])
@staff_required(StaffRole.ADMIN)
def bulk_links_download():
    form = BulkLinksForm(prefix="bulk")
    if not form.validate_on_submit():
        return _page(400, bulk_form=form)
    data = form.file.data.read(ADMIN_BULK_MAX_BYTES + 1)
    if len(data) > ADMIN_BULK_MAX_BYTES:
        add_error(form.file, _("This file is too large here; use the command line for big campaigns."))
        return _page(413, bulk_form=form)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        add_error(form.file, _("Save the file as CSV in UTF-8."))
        return _page(400, bulk_form=form)
    out = io.StringIO()
    try:
        rows = bulk_links.make_links(
            current_actor(),
            bulk_links.read_identifiers(io.StringIO(text)),
            form.action.data,
            next_path=form.next_path.data or None,
        )
        bulk_links.write_rows(out, rows)
    except DomainError as error:
        return _page(show_error(form.next_path, error), bulk_form=form)
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="links-{form.action.data}.csv"'},
    )
