"""The table plan: from the rows a browser shows to the page it should show."""

from __future__ import annotations

import random

import pytest

from scanner_app.web.dashboard.table_diff import plan_table


def apply(shown: list[str], plan) -> list[str]:
    """The table after the plan's swaps, in the order htmx applies them."""
    table = [symbol for symbol in shown if symbol not in plan.delete]
    for symbol, after in plan.insert:
        table.insert(0 if after is None else table.index(after) + 1, symbol)
    return table


def test_an_unchanged_table_needs_nothing():
    assert plan_table(["A", "B"], ["A", "B"], changed=set()).empty


def test_changed_rows_in_place_are_replaced_not_moved():
    plan = plan_table(["A", "B", "C"], ["A", "B", "C"], changed={"B"})
    assert plan.replace == ["B"] and not plan.delete and not plan.insert


def test_new_rows_go_after_the_row_before_them():
    plan = plan_table(["A", "C"], ["A", "B", "C", "D"], changed={"B", "D"})
    assert plan.insert == [("B", "A"), ("D", "C")] and not plan.delete


def test_a_row_that_leaves_the_page_is_deleted():
    plan = plan_table(["A", "B", "C"], ["A", "C"], changed={"B"})
    assert plan.delete == ["B"] and not plan.insert


def test_a_moved_row_is_deleted_and_inserted_at_its_new_place():
    plan = plan_table(["A", "B", "C", "D"], ["D", "A", "B", "C"], changed={"D"})
    assert plan.delete == ["D"] and plan.insert == [("D", None)]


@pytest.mark.parametrize("seed", range(40))
def test_any_reordering_ends_in_the_page(seed):
    rng = random.Random(seed)
    symbols = [f"S{index}" for index in range(30)]
    shown = rng.sample(symbols, rng.randint(0, 20))
    page = rng.sample(symbols, rng.randint(0, 20))
    changed = set(rng.sample(symbols, 5))
    plan = plan_table(shown, page, changed)
    assert apply(shown, plan) == page
    # only rows that changed and stayed are replaced, and nothing is sent twice
    assert set(plan.replace) <= changed
    sent = plan.replace + [symbol for symbol, _after in plan.insert]
    assert len(sent) == len(set(sent))


def test_rows_keep_their_place_when_others_move():
    # one row moved to the top: only that row is sent, not the ones it passed
    shown = [f"S{index}" for index in range(50)]
    page = ["S49", *shown[:49]]
    plan = plan_table(shown, page, changed={"S49"})
    assert [symbol for symbol, _after in plan.insert] == ["S49"] and plan.delete == ["S49"]
