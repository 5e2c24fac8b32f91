"""What agents record so service can be measured: a case's topic, and who a social handle is."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from portal.access import staff_required
from portal.console.views import bp
from portal.forms import email_field
from portal.models import StaffRole
from portal.services import handoff, inbox
from portal.services.errors import DomainError
from portal.web import request_id


class TopicForm(FlaskForm):
    topic = SelectField(choices=[SelectChoice(code, code) for code in handoff.ISSUE_TYPES])


class LinkHandleForm(FlaskForm):
    email = email_field()


@bp.context_processor
def case_topics():
    return {"case_topics": handoff.ISSUE_TYPES}


def _back(case_id: int):
    return redirect(url_for("console.case", case_id=case_id))


@bp.route("/cases/<int:case_id>/topic", methods=["POST"])
@staff_required(StaffRole.AGENT)
def set_topic(case_id: int):
    case = inbox.get_case(case_id)
    form = TopicForm()
    if not form.validate_on_submit():
        flash(_("Choose one of the topics shown."), "error")
        return _back(case.id), 303
    inbox.set_topic(current_user.staff, case, form.topic.data, request_id())
    flash(_("Topic saved."), "success")
    return _back(case.id)


@bp.route("/cases/<int:case_id>/link-handle", methods=["POST"])
@staff_required(StaffRole.AGENT)
def link_handle(case_id: int):
    case = inbox.get_case(case_id)
    form = LinkHandleForm()
    if not form.validate_on_submit():
        flash(" ".join(str(message) for message in form.email.errors) or _("Enter an email address."), "error")
        return _back(case.id), 303
    try:
        inbox.link_handle(current_user.staff, case, form.email.data, request_id())
    except DomainError as error:
        flash(error.message, "error")
        return _back(case.id), 303
    flash(_("The handle now belongs to this customer; their messages land on them."), "success")
    return _back(case.id)
