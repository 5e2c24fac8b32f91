"""The manager's service report: a date range, a split, charts drawn on the server, every table
as CSV."""

from __future__ import annotations

import csv
import io
from datetime import date

from flask import Response, abort, render_template, request
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError

from portal.access import staff_required
from portal.console.views import bp
from portal.i18n import action_label, channel_label
from portal.models import StaffRole
from portal.services import clock, metrics, reports
from portal.text import lazy_text as _l

MAX_DAYS = 3 * 366
# The report's split codes that pages name (channels, self-serve actions).
REPORT_LABELS = {"channel": channel_label, "action": action_label}
# Days a report can start or end on: beyond them, dates are typing mistakes.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)


class ReportForm(FlaskForm):
    class Meta:
        csrf = False  # a GET that only chooses what to show

    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])
    split = SelectField(
        _l("Split CSAT by"),
        choices=[SelectChoice(key, label) for key, label in reports.CSAT_SPLITS.items()],
        validators=[Optional()],
    )
    cancel_split = SelectField(
        _l("Split cancellations by"),
        choices=[SelectChoice(key, label) for key, label in reports.CANCEL_SPLITS.items()],
        validators=[Optional()],
    )

    def validate_start(self, field):
        if field.data and not FIRST_DAY <= field.data <= LAST_DAY:
            raise ValidationError(_l("Choose a day between %(first)s and %(last)s.", first=FIRST_DAY, last=LAST_DAY))

    def validate_end(self, field):
        self.validate_start(field)
        if self.start.errors:
            return
        period = self.period()
        if period.end < period.start:
            raise ValidationError(_l("The last day comes before the first."))
        if (period.end - period.start).days > MAX_DAYS:
            raise ValidationError(_l("Choose at most three years."))

    def period(self) -> metrics.Range:
        default = reports.default_range(clock.today())
        return metrics.Range(self.start.data or default.start, self.end.data or default.end)


def _form() -> tuple[ReportForm, bool]:
    form = ReportForm(request.args)
    valid = form.validate()
    if valid:
        period = form.period()
        form.start.data, form.end.data = period.start, period.end
        form.split.data = form.split.data or "channel"
        form.cancel_split.data = form.cancel_split.data or "month"
    return form, valid


def _tables(form: ReportForm) -> list[reports.Table]:
    return reports.tables(form.period(), form.split.data, REPORT_LABELS, form.cancel_split.data)


@bp.route("/reports/service")
@staff_required(StaffRole.MANAGER)
def service_report():
    form, valid = _form()
    if not valid:
        return render_template("console/service_report.html", form=form, tables=[]), 400
    return render_template(
        "console/service_report.html",
        form=form,
        tables=_tables(form),
        chart=reports,
    )


def _cell(value) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet would run a cell starting like a formula (agent names, reason codes).
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@bp.route("/reports/service/<name>.csv")
@staff_required(StaffRole.MANAGER)
def service_report_csv(name: str):
    form, valid = _form()
    if not valid:
        abort(400)
    table = next((t for t in _tables(form) if t.name == name), None)
    if table is None:
        abort(404)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([str(column) for column in table.columns])
    writer.writerows([[_cell(value) for value in row] for row in table.rows])
    period = form.period()
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}-{period.start}-{period.end}.csv"'},
    )
