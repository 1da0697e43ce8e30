"""Commands people say after and around a round (the web-app issue, second pass): each test failed
on the main that had "play take 1" keep take 1 and "try again" after Stop answer "no takes yet"."""
from assistant.dialogue.turns import step
from assistant.dialogue.state import State, discard_round


def generated() -> State:
    state, out = step(State(), "techno at 130 bpm, just go")
    assert out.action == "generate"
    return state


def test_play_take_keeps_nothing() -> None:
    state, out = step(generated(), "play take 1")
    assert out.action == "answer" and state.kept_seed is None and "take 1" in out.reply.lower()


def test_play_a_take_that_does_not_exist_says_so() -> None:
    state, out = step(generated(), "play take 4")
    assert state.kept_seed is None and "4" in out.reply


def test_keep_still_keeps() -> None:
    state, _ = step(generated(), "keep 1")
    assert state.kept_seed == state.last_round.seeds[0]


def test_try_again_after_stop_runs_the_brief_again() -> None:
    state = generated()
    state = discard_round(state, state.last_round.number)  # what Stop leaves: the brief, no takes
    assert not state.rounds
    state, out = step(state, "try again")
    assert out.action == "generate" and len(state.rounds) == 1 and state.brief.style.genre == "techno"


def test_more_variations_before_any_round_still_says_there_are_no_takes() -> None:
    _, out = step(State(), "more variations")
    assert out.action == "answer" and "no takes" in out.reply
