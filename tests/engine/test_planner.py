from hypothesis import given, settings
from hypothesis import strategies as st

from quoter.engine.planner import PollConfig, plan_poll

CONFIG = PollConfig()


def test_even_spread_over_the_session() -> None:
    plan = plan_poll(
        CONFIG, budget_requests=3600, seconds_left=36000, live_quotes=0, nearest_deadline_s=None
    )
    assert plan.interval_s == 10.0
    assert plan.reason == "even"


def test_live_quotes_or_a_near_deadline_make_polling_urgent() -> None:
    live = plan_poll(
        CONFIG, budget_requests=3600, seconds_left=36000, live_quotes=2, nearest_deadline_s=None
    )
    near = plan_poll(
        CONFIG, budget_requests=3600, seconds_left=36000, live_quotes=0, nearest_deadline_s=30
    )
    assert live.interval_s == near.interval_s == 2.5


def test_never_faster_than_the_minimum_and_idle_when_spent_or_closed() -> None:
    fast = plan_poll(
        CONFIG, budget_requests=10**6, seconds_left=60, live_quotes=1, nearest_deadline_s=1
    )
    assert fast.interval_s == CONFIG.min_interval_s
    spent = plan_poll(
        CONFIG, budget_requests=0, seconds_left=600, live_quotes=1, nearest_deadline_s=1
    )
    assert spent.reason == "poll budget spent"
    assert spent.interval_s >= 600
    closed = plan_poll(
        CONFIG, budget_requests=10, seconds_left=0, live_quotes=0, nearest_deadline_s=None
    )
    assert closed.reason == "closed"


@settings(max_examples=300)
@given(
    budget=st.integers(1, 5000),
    session_s=st.floats(600, 40_000),
    urgency=st.lists(st.booleans(), min_size=1, max_size=50),
)
def test_polling_alone_lasts_until_the_close_and_urgency_only_borrows(
    budget: int, session_s: float, urgency: list[bool]
) -> None:
    """Replaying the planner over a session: never more polls than the budget, and without
    urgency they never run out before the close (urgency borrows from later polls)."""
    t, spent, step = 0.0, 0, 0
    while True:
        urgent = urgency[step % len(urgency)]
        plan = plan_poll(
            CONFIG,
            budget_requests=budget - spent,
            seconds_left=session_s - t,
            live_quotes=1 if urgent else 0,
            nearest_deadline_s=None,
        )
        if plan.reason == "poll budget spent":
            assert any(urgency)
            break
        t += plan.interval_s
        if t >= session_s:
            break
        spent += 1
        step += 1
    assert spent <= budget


@given(
    budget=st.integers(1, 5000),
    seconds_left=st.floats(1, 40_000),
    quoting=st.tuples(st.integers(0, 10_000), st.integers(0, 10_000)),
    live_quotes=st.integers(0, 3),
)
def test_more_quoting_never_makes_polling_faster_nor_slower_than_tight(
    budget: int, seconds_left: float, quoting: tuple[int, int], live_quotes: int
) -> None:
    def interval(q: int) -> float:
        return plan_poll(
            CONFIG,
            budget_requests=budget,
            seconds_left=seconds_left,
            live_quotes=live_quotes,
            nearest_deadline_s=None,
            quoting_requests=q,
        ).interval_s

    low, high = sorted(quoting)
    assert interval(low) <= interval(high)
    slowest = max(CONFIG.tight_interval_s, seconds_left / budget, CONFIG.min_interval_s)
    assert interval(high) <= min(slowest, max(seconds_left, CONFIG.min_interval_s))


def test_quoting_requests_are_set_aside_from_the_poll_budget() -> None:
    plan = plan_poll(
        CONFIG,
        budget_requests=3600,
        seconds_left=36000,
        live_quotes=0,
        nearest_deadline_s=None,
        quoting_requests=1800,
    )
    assert plan.interval_s == 20.0


def test_urgency_only_while_polling_is_on_the_days_pace() -> None:
    on_pace = plan_poll(
        CONFIG,
        budget_requests=3600,
        seconds_left=36000,
        live_quotes=1,
        nearest_deadline_s=None,
        day_even_s=10.0,
    )
    behind = plan_poll(
        CONFIG,
        budget_requests=3000,
        seconds_left=36000,
        live_quotes=1,
        nearest_deadline_s=None,
        day_even_s=10.0,
    )
    assert on_pace.reason == "urgent"
    assert behind.reason == "even"
    assert behind.interval_s == 12.0


def test_quoting_projected_to_need_everything_slows_polling_but_never_stops_it() -> None:
    plan = plan_poll(
        CONFIG,
        budget_requests=100,
        seconds_left=3600,
        live_quotes=0,
        nearest_deadline_s=None,
        quoting_requests=200,
    )
    assert plan.reason == "budget tight"
    assert plan.interval_s == CONFIG.tight_interval_s  # 60 polls fit in the 100 left
    poor = plan_poll(
        CONFIG,
        budget_requests=10,
        seconds_left=3600,
        live_quotes=1,
        nearest_deadline_s=1,
        quoting_requests=200,
    )
    assert poor.interval_s == 360.0  # the 10 left spread to the close
