"""The service-experience figures as tables with charts, for the reports page and its CSV files.

Each table is rows of plain values; its chart is worked out here (bar lengths, line points) so
the template only draws what it is given, and the page needs no script."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask import current_app

from portal.money import from_minor
from portal.services import cancel_reasons, handoff, metrics
from portal.text import lazy_text as _l

CSAT_SPLITS = {
    "interaction": _l("Self-serve or agent"),
    "channel": _l("Channel"),
    "agent": _l("Agent"),
    "action": _l("Self-serve action"),
    "topic": _l("Topic"),
}
# How the cancellations table breaks down each reason; "month" draws the trend.
CANCEL_SPLITS = {
    "month": _l("Month"),
    "tenure": _l("Tenure (days)"),
    "product": _l("Product"),
}
CHART_WIDTH, BAR_HEIGHT, BAR_GAP, LABEL_WIDTH = 320, 22, 8, 110
LINE_HEIGHT = 140


@dataclass(frozen=True)
class Table:
    name: str
    title: Any
    columns: list[Any]
    rows: list[list[Any]]
    # Which column the chart draws, and how: "bar" or "line".
    value_column: int = 1
    chart: str = "bar"
    shapes: list[dict[str, Any]] = field(default_factory=list)


def _bars(rows: list[list[Any]], column: int) -> list[dict[str, Any]]:
    values = [row[column] or 0 for row in rows]
    top = max([abs(v) for v in values] + [1])
    scale = (CHART_WIDTH - LABEL_WIDTH - 50) / top
    return [
        {
            "label": str(row[0]),
            "value": row[column],
            "y": index * (BAR_HEIGHT + BAR_GAP),
            "width": max(1, round(abs(value) * scale)),
        }
        for index, (row, value) in enumerate(zip(rows, values, strict=True))
    ]


def _line(rows: list[list[Any]], column: int, ceiling: int) -> list[dict[str, Any]]:
    known = [row[column] for row in rows if row[column] is not None]
    top = max(known + [ceiling])
    step = (CHART_WIDTH - 40) / max(1, len(rows) - 1)
    return [
        {
            "label": str(row[0]),
            "value": row[column],
            "x": 20 + round(index * step),
            "y": None if row[column] is None else round(10 + (LINE_HEIGHT - 30) * (1 - row[column] / top)),
        }
        for index, row in enumerate(rows)
    ]


def _table(name, title, columns, rows, value_column=1, chart="bar", ceiling=100) -> Table:
    """`ceiling` is the least top of a line chart's scale: 100 for percentages, 1 for counts."""
    if not rows:
        shapes = []
    elif chart == "line":
        shapes = _line(rows, value_column, ceiling)
    else:
        shapes = _bars(rows, value_column)
    return Table(name, title, columns, rows, value_column, chart, shapes)


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 1)


def months_of(period: metrics.Range) -> list[metrics.Range]:
    months, start = [], period.start
    while start <= period.end:
        following = (start.replace(day=1) + timedelta(days=32)).replace(day=1)
        months.append(metrics.Range(start, min(period.end, following - timedelta(days=1))))
        start = following
    return months


def default_range(today: date) -> metrics.Range:
    return metrics.Range(today - timedelta(days=89), today)


def _label(names, key: str) -> str:
    """A code shown in words; a code without a name yet stays readable as itself."""
    return str(names.get(key, key))


def _cancellations_by(period: metrics.Range, figures: dict[str, Any], split: str, reason_names) -> Table:
    """Each reason's count per tenure bucket, product or month; months without a cancellation
    are rows of zeros, so the trend line does not skip them."""
    reasons = [row["key"] for row in figures["by_reason"]]
    groups = figures[f"by_{split}"]
    if split == "month":
        groups = {key: groups.get(key, {}) for key in (month.start.strftime("%Y-%m") for month in months_of(period))}
    return _table(
        "cancel_split",
        _l("Cancellations by %(split)s", split=CANCEL_SPLITS[split]),
        [CANCEL_SPLITS[split], _l("Cancellations")] + [_label(reason_names, reason) for reason in reasons],
        [[key, sum(counts.values())] + [counts.get(reason, 0) for reason in reasons] for key, counts in groups.items()],
        chart="line" if split == "month" else "bar",
        ceiling=1,
    )


def tables(
    period: metrics.Range,
    split: str,
    labels: dict[str, Callable[[str], str]] | None = None,
    cancel_split: str = "month",
) -> list[Table]:
    """Every figure as a table. `labels` names the codes of splits whose words live with the
    pages (channels, actions); reasons, offers and topics are named here."""
    figures = metrics.all_figures(period)
    csat = figures["csat"]
    split = split if split in CSAT_SPLITS else "channel"
    cancel_split = cancel_split if cancel_split in CANCEL_SPLITS else "month"
    reason_names = {reason.code: reason.label for reason in cancel_reasons.reasons(include_disabled=True)}
    interactions = {"self_serve": _l("Self-serve"), "agent": _l("Agent")}
    split_names = {
        "topic": lambda key: _label(handoff.ISSUE_TYPES, key),
        "interaction": interactions.get,
        **(labels or {}),
    }
    split_groups = {key: csat[key] for key in interactions} if split == "interaction" else csat[f"by_{split}"]
    name_of = split_names.get(split, str)
    currency = current_app.config["MERCHANT_CURRENCY"]

    def amount(minor: int) -> float:
        return float(from_minor(minor, currency))

    rated = _l("Ratings")
    result = [
        _table(
            "csat",
            _l("CSAT by %(split)s", split=CSAT_SPLITS[split]),
            [CSAT_SPLITS[split], _l("CSAT %"), rated, _l("Rated 4-5")],
            [
                [name_of(key), group["csat_percent"], group["ratings"], group["satisfied"]]
                for key, group in split_groups.items()
            ]
            + [[_l("All"), csat["csat_percent"], csat["ratings"], csat["satisfied"]]],
        ),
        _table(
            "csat_trend",
            _l("CSAT by month"),
            [_l("Month"), _l("CSAT %"), rated, _l("Response rate %")],
            [
                [month.start.strftime("%Y-%m"), c["csat_percent"], c["ratings"], c["response_rate"]]
                for month in months_of(period)
                for c in [metrics.csat(month)]
            ],
            chart="line",
        ),
        _table(
            "nps",
            _l("NPS at 30 and 90 days"),
            [_l("Milestone"), _l("NPS"), _l("Responses"), _l("Promoters"), _l("Passives"), _l("Detractors")],
            [
                [_l("Day %(day)s", day=day), n["nps"], n["responses"], n["promoters"], n["passives"], n["detractors"]]
                for day, n in ((30, figures["nps_30"]), (90, figures["nps_90"]))
            ],
        ),
        _table(
            "first_response",
            _l("First response and resolution (hours)"),
            [_l("Figure"), _l("Hours")],
            [
                [label, _hours(value)]
                for label, value in (
                    (_l("Median, calendar"), figures["first_response"]["median_seconds"]),
                    (_l("90th percentile, calendar"), figures["first_response"]["p90_seconds"]),
                    (_l("Median, business hours"), figures["first_response"]["median_business_seconds"]),
                    (_l("90th percentile, business hours"), figures["first_response"]["p90_business_seconds"]),
                    (_l("Median resolution, calendar"), figures["first_response"]["median_resolution_seconds"]),
                )
            ],
        ),
        _table(
            "contacts",
            _l("Repeat contacts, reopened cases and self-serve containment"),
            [_l("Figure"), _l("%"), _l("Of")],
            [
                [
                    _l("Repeat contact rate"),
                    figures["repeat_contact_rate"]["rate"],
                    figures["repeat_contact_rate"]["cases"],
                ],
                [_l("Reopen rate"), figures["first_response"]["reopen_rate"], figures["first_response"]["resolved"]],
                [_l("Self-serve containment"), figures["containment"]["rate"], figures["containment"]["attempted"]],
            ],
        ),
        _table(
            "cancel_reasons",
            _l("Cancel reasons"),
            [_l("Reason"), _l("Cancellations"), _l("Share %")],
            [
                [_label(reason_names, row["key"]), row["count"], row["share"]]
                for row in figures["cancel_reasons"]["by_reason"]
            ],
        ),
        _cancellations_by(period, figures["cancel_reasons"], cancel_split, reason_names),
        _table(
            "saves",
            _l("Offers and 30-day saves"),
            [_l("Offer"), _l("30-day save rate %"), _l("Shown"), _l("Taken"), _l("Saved at 30 days")],
            [
                [_label(cancel_reasons.OFFER_LABELS, offer), g["rate"], g["offers_shown"], g["taken"], g["saved_30d"]]
                for offer, g in figures["save_rate_30d"]["by_offer"].items()
            ],
        ),
        _table(
            "credits",
            _l("Credits per agent (%(currency)s)", currency=currency),
            [_l("Agent"), _l("Given"), _l("Waiting for approval"), _l("Rejected"), _l("Requests")],
            [
                [
                    agent,
                    amount(g["given_minor"]),
                    amount(g["pending_minor"]),
                    amount(g["rejected_minor"]),
                    g["requests"],
                ]
                for agent, g in figures["credits"]["by_agent"].items()
            ],
        ),
        _table(
            "approvals",
            _l("Credit approvals"),
            [_l("Figure"), _l("Value")],
            [
                [_l("Requests decided"), figures["credits"]["approvals"]],
                [_l("Approved"), figures["credits"]["approved"]],
                [_l("Median time to decide (hours)"), _hours(figures["credits"]["median_approval_seconds"])],
            ],
        ),
    ]
    return result
