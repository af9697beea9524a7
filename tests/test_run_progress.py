"""What a colorize run says while it goes (tinct.protocol.progress): both plugins show
these words, so the stages are checked here once, without a host."""

from __future__ import annotations

import pytest

from tinct.protocol.constants import Reply, StartPhase
from tinct.protocol.progress import RunProgress, Stage


def _run(p: RunProgress, *replies) -> list[tuple[str, float]]:
    seen = []
    for kind, header in replies:
        p.on_reply(kind, header)
        seen.append((p.text, p.fraction))
    return seen


def test_a_cold_run_names_each_phase_and_reaches_100_only_when_written():
    p = RunProgress(steps=4)
    seen = [(p.text, p.fraction)]
    p.on_start_phase(StartPhase.STARTING)
    seen.append((p.text, p.fraction))
    p.on_start_phase(StartPhase.LOADING)
    seen.append((p.text, p.fraction))
    seen += _run(
        p,
        (Reply.QUEUED, {"job": "j", "ahead": 0}),
        (Reply.STARTED, {"job": "j"}),
        *[(Reply.PROGRESS, {"job": "j", "step": k, "total": 4}) for k in (1, 2, 3, 4)],
        (Reply.RESULT, {"job": "j"}),
    )
    p.writing()
    seen.append((p.text, p.fraction))
    p.written()
    seen.append((p.text, p.fraction))
    texts = [t for t, _f in seen]
    assert texts == [
        "Connecting to the backend…",
        "Starting the backend…",
        "Loading the model…",
        "Colorizing: step 1 of 4",  # nothing ahead: never "Queued"
        "Colorizing: step 1 of 4",
        "Colorizing: step 2 of 4",
        "Colorizing: step 3 of 4",
        "Colorizing: step 4 of 4",
        "Colorizing: rendering the result…",  # the last step is done: the full-size render
        "Colorizing: rendering the result…",  # the result arrived: the host writes next
        "Writing the layer…",
        "Done.",
    ]
    fractions = [f for _t, f in seen]
    assert fractions == sorted(fractions)  # never goes back
    assert all(f < 1.0 for f in fractions[:-1]) and fractions[-1] == 1.0
    assert p.stage == Stage.DONE


def test_queued_only_while_the_daemon_reports_jobs_ahead():
    p = RunProgress(steps=2)
    texts = [t for t, _f in _run(
        p,
        (Reply.QUEUED, {"job": "j", "ahead": 2}),
        (Reply.STARTED, {"job": "j"}),
        (Reply.PROGRESS, {"job": "j", "step": 1, "total": 2}),
    )]  # fmt: skip
    assert texts == ["Queued: 2 jobs ahead…", "Colorizing: step 1 of 2", "Colorizing: step 2 of 2"]
    one = RunProgress(steps=2)
    one.on_reply(Reply.QUEUED, {"ahead": 1})
    assert one.text == "Queued: 1 job ahead…"


def test_an_older_daemon_without_started_leaves_queued_at_the_first_step():
    p = RunProgress(steps=3)
    p.on_reply(Reply.QUEUED, {"ahead": 1})
    p.on_reply(Reply.PROGRESS, {"step": 1, "total": 3})
    assert p.text == "Colorizing: step 2 of 3" and p.stage == Stage.COLORIZING


@pytest.mark.parametrize("ahead", [None, -1, "2", True])
def test_a_missing_or_odd_ahead_is_not_a_queue(ahead):
    p = RunProgress(steps=2)
    p.on_reply(Reply.QUEUED, {"ahead": ahead} if ahead is not None else {})
    assert p.stage == Stage.COLORIZING


def test_the_daemons_total_wins_over_the_steps_asked_for():
    p = RunProgress(steps=4)
    p.on_reply(Reply.QUEUED, {"ahead": 0})
    p.on_reply(Reply.PROGRESS, {"step": 1, "total": 6})
    assert p.text == "Colorizing: step 2 of 6"


def test_variations_count_through_each_and_write_each():
    """Krita writes each variation's layer when its result comes."""
    p = RunProgress(steps=2, variations=2)
    p.on_reply(Reply.QUEUED, {"ahead": 0})
    assert p.text == "Colorizing: variation 1 of 2, step 1 of 2"
    p.on_reply(Reply.PROGRESS, {"step": 2, "total": 2})
    assert p.text == "Colorizing: variation 1 of 2, rendering the result…"
    p.on_reply(Reply.RESULT, {})
    p.writing()
    assert p.text == "Writing the layer…" and p.fraction < 1.0
    p.written()
    assert p.stage == Stage.COLORIZING and p.text == "Colorizing: variation 2 of 2, step 1 of 2"
    p.on_reply(Reply.QUEUED, {"ahead": 0})
    p.on_reply(Reply.PROGRESS, {"step": 2, "total": 2})
    p.on_reply(Reply.RESULT, {})
    before = p.fraction
    p.writing()
    assert before <= p.fraction < 1.0
    p.written()
    assert p.stage == Stage.DONE and p.fraction == 1.0


def test_start_phases_after_the_job_is_queued_are_ignored():
    p = RunProgress(steps=2)
    p.on_reply(Reply.QUEUED, {"ahead": 0})
    p.on_start_phase(StartPhase.LOADING)  # late, from a start that already finished
    assert p.stage == Stage.COLORIZING
