"""The pure schedule rules, without a database: each action as a change to a Plan."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from config import Config
from portal.models import IntervalUnit, SubscriptionStatus
from portal.services.policy import Policy
from portal.services.subscriptions import rules
from portal.services.subscriptions.rules import Context, PolicyRefusal
from portal.services.subscriptions.schedule import Plan, PlannedLine, PlannedOrder, add_interval, fill

TODAY = date(2030, 1, 7)
LINE = PlannedLine(1, "House Blend · 250 g", 1, 1200)


def ctx(**policy) -> Context:
    return Context(Policy(**{**Config.POLICY_DEFAULTS, **policy}), TODAY, 3)


def plan(first: date = date(2030, 1, 17), weeks: int = 2, **fields) -> Plan:
    """An active plan filled from `first` (ten days away: outside the two-day cut-off)."""
    base = Plan(
        status=SubscriptionStatus.ACTIVE,
        lines=(LINE,),
        interval_unit=IntervalUnit.WEEK,
        interval_count=weeks,
        currency="EUR",
        anchor=first,
        paused_until=None,
        upcoming=(),
    )
    return fill(replace(base, **fields), 3, TODAY)


def dates(p: Plan) -> list[tuple[date, str]]:
    return [(o.scheduled_for, "skipped" if o.skipped else "locked" if o.locked else "open") for o in p.upcoming]


def test_fill_walks_the_cycle_from_the_anchor_and_is_idempotent():
    filled = plan()
    assert dates(filled) == [(date(2030, 1, 17), "open"), (date(2030, 1, 31), "open"), (date(2030, 2, 14), "open")]
    assert fill(filled, 3, TODAY) == filled


def test_monthly_cycle_never_drifts_from_the_anchor():
    monthly = plan(first=date(2030, 1, 31), interval_unit=IntervalUnit.MONTH, interval_count=1)
    assert [o.scheduled_for for o in monthly.upcoming] == [date(2030, 1, 31), date(2030, 2, 28), date(2030, 3, 31)]
    assert add_interval(date(2032, 1, 31), IntervalUnit.MONTH, 1) == date(2032, 2, 29)


def test_a_skip_stays_on_its_date_when_the_next_order_moves():
    skipped = rules.run("skip", plan(), ctx(), order_date=date(2030, 1, 31))
    moved = rules.run("reschedule", skipped, ctx(), new_date=date(2030, 1, 20))
    # The skipped 31 January stays skipped; the deliveries after the new date are not skipped.
    assert dates(moved) == [
        (date(2030, 1, 20), "open"),
        (date(2030, 1, 31), "skipped"),
        (date(2030, 2, 3), "open"),
        (date(2030, 2, 17), "open"),
    ]
    back = rules.run("reschedule", moved, ctx(), new_date=date(2030, 1, 17))
    assert (date(2030, 1, 31), "skipped") in dates(back)


def test_a_skip_stays_on_its_date_through_a_frequency_change():
    skipped = rules.run("skip", plan(weeks=1), ctx(), order_date=date(2030, 1, 24))
    monthly = rules.run("frequency", skipped, ctx(), unit=IntervalUnit.WEEK, count=2)
    assert (date(2030, 1, 24), "skipped") in dates(monthly)
    assert (date(2030, 1, 31), "open") in dates(monthly)


def test_restoring_a_skip_the_cycle_left_only_forgets_it():
    skipped = rules.run("skip", plan(), ctx(), order_date=date(2030, 1, 31))
    moved = rules.run("reschedule", skipped, ctx(), new_date=date(2030, 1, 20))
    restored = rules.run("unskip", moved, ctx(), order_date=date(2030, 1, 31))
    assert date(2030, 1, 31) not in [o.scheduled_for for o in restored.upcoming]


def test_consecutive_skips_are_limited():
    once = rules.run("skip", plan(), ctx(max_consecutive_skips=1), order_date=date(2030, 1, 17))
    with pytest.raises(PolicyRefusal) as refused:
        rules.run("skip", once, ctx(max_consecutive_skips=1), order_date=date(2030, 1, 31))
    assert refused.value.code == "too_many_skips"


def test_cancel_at_period_end_after_a_moved_order_keeps_nothing_before_the_end():
    moved = rules.run("reschedule", plan(), ctx(), new_date=date(2030, 1, 25))
    ending = rules.run("cancel", moved, ctx(), mode="period_end")
    assert ending.cancel_at == date(2030, 1, 25) and ending.upcoming == ()
    # What the schedule job does as days pass must not bring a delivery back before the end.
    assert rules.keep_filled(ending, ctx()) == ending
    later = Context(ctx().policy, date(2030, 1, 12), 3)
    assert rules.keep_filled(ending, later).upcoming == ()


def test_keep_after_a_cancel_on_a_date_keeps_the_skips():
    skipped = rules.run("skip", plan(), ctx(), order_date=date(2030, 1, 31))
    ending = rules.run("cancel", skipped, ctx(), mode="date", on_date=date(2030, 1, 20))
    assert dates(ending) == [(date(2030, 1, 17), "open"), (date(2030, 1, 31), "skipped")]
    kept = rules.run("keep", ending, ctx())
    assert dates(kept) == [(date(2030, 1, 17), "open"), (date(2030, 1, 31), "skipped"), (date(2030, 2, 14), "open")]


def test_reactivating_after_cancelling_during_preparation_waits_one_interval():
    preparing = PlannedOrder(date(2030, 1, 8), locked=True, locked_lines=(LINE,))
    cancelled = replace(plan(), status=SubscriptionStatus.CANCELLED, upcoming=(preparing,))
    again = rules.run("reactivate", cancelled, ctx())
    assert [o.scheduled_for for o in again.upcoming] == [date(2030, 1, 8), date(2030, 1, 22), date(2030, 2, 5)]


def test_resuming_by_hand_waits_one_interval_after_the_last_order():
    paused = replace(
        plan(),
        status=SubscriptionStatus.PAUSED,
        paused_until=date(2030, 3, 1),
        upcoming=(),
        last_order_date=date(2030, 1, 3),
    )
    resumed = rules.run("resume", paused, ctx())
    assert resumed.upcoming[0].scheduled_for == date(2030, 1, 17)


def test_longer_frequency_moves_the_next_order_out():
    recent = plan(last_order_date=date(2030, 1, 3))
    monthly = rules.run("frequency", recent, ctx(), unit=IntervalUnit.MONTH, count=1)
    assert monthly.upcoming[0].scheduled_for == date(2030, 2, 3)
    weekly = rules.run("frequency", recent, ctx(), unit=IntervalUnit.WEEK, count=1)
    assert weekly.upcoming[0].scheduled_for == date(2030, 1, 17)


def test_pause_keeps_what_is_being_prepared_and_the_skips():
    preparing = PlannedOrder(date(2030, 1, 8), locked=True, locked_lines=(LINE,))
    active = plan(first=date(2030, 1, 22))
    active = replace(active, upcoming=(preparing, *active.upcoming))
    skipped = rules.run("skip", active, ctx(), order_date=date(2030, 2, 5))
    paused = rules.run("pause", skipped, ctx(), cycles=1)
    assert paused.status is SubscriptionStatus.PAUSED and paused.paused_until == date(2030, 2, 5)
    assert dates(paused) == [(date(2030, 1, 8), "locked"), (date(2030, 2, 5), "skipped")]


def test_locked_orders_refuse_changes():
    preparing = PlannedOrder(date(2030, 1, 8), locked=True, locked_lines=(LINE,))
    active = replace(plan(first=date(2030, 1, 22)), upcoming=(preparing,))
    with pytest.raises(PolicyRefusal) as refused:
        rules.run("skip", active, ctx(), order_date=date(2030, 1, 8))
    assert refused.value.code == "order_locked"


def test_each_status_allows_its_actions_only():
    cancelled = replace(plan(), status=SubscriptionStatus.CANCELLED, upcoming=())
    with pytest.raises(PolicyRefusal) as refused:
        rules.run("pause", cancelled, ctx(), cycles=1)
    assert refused.value.code == "not_active"
    with pytest.raises(PolicyRefusal) as again:
        rules.run("cancel", cancelled, ctx(), mode="now")
    assert again.value.code == "already_cancelled"
    assert rules.allowed_actions(SubscriptionStatus.ACTIVE, ending=True)[-3:] == ("keep", "discount", "address")
    assert "cancel" not in rules.allowed_actions(SubscriptionStatus.ACTIVE, ending=True)
    assert rules.allowed_actions(SubscriptionStatus.CANCELLED, ending=False) == ("reactivate",)


def test_order_now_starts_the_cycle_today_and_undoes_a_skip_of_today():
    today_plan = plan(first=TODAY + timedelta(days=14))
    ordered = rules.run("order_now", today_plan, ctx())
    assert [o.scheduled_for for o in ordered.upcoming] == [TODAY, date(2030, 1, 21), date(2030, 2, 4)]
    with pytest.raises(PolicyRefusal):
        rules.run("order_now", replace(today_plan, last_order_date=TODAY), ctx())
