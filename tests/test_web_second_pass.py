"""The web app's second pass, below the browser: the form edits values, a kept take keeps its
number, a 👍 on an older take is answered, "compare" points at two takes, the words a user reads
carry no slot path, New song keeps what the user set, instrumentals are said once. Each test
failed on the main before this pass (tests/test_web_browser.py walks the same faults in Chromium)."""
import re

import pytest

from assistant.actions import EditControls, KeepTake, Say
from assistant.dialogue.turns import act, step
from assistant.takes import Take
from assistant.dialogue.state import State, Turn, with_turn

SLOT_PATH = re.compile(r"\b(?:duration_s|tempo\.bpm|style\.\w+|mix\.\w+|palette\.\w+|structure\.\w+)\b")


def rendered(state: State) -> State:
    """The takes a renderer would have made for the last round, recorded with its turn as the session does."""
    rnd = state.last_round
    takes = [Take(number=i, seed=s, path=f"/tmp/r{rnd.number}-{i}.wav", duration_s=3.0)
             for i, s in enumerate(rnd.seeds, start=1)]
    return with_turn(state, Turn(reply="", action="generate", round=rnd.number, takes=takes))


def a_round(message: str = "jazz trio at 100 bpm, just go") -> State:
    state, out = step(State(), message)
    assert out.action == "generate"
    return rendered(state)


@pytest.mark.parametrize("edit, genre, bpm", [(EditControls(genre="hyperpop", bpm=140), "hyperpop", 140),
                                              (EditControls(genre="zydeco"), "zydeco", 100),
                                              (EditControls(genre="jazz", bpm=90), "jazz", 90)])
def test_the_form_applies_values_and_never_asks_new_song(edit: EditControls, genre: str, bpm: int) -> None:
    state = a_round("house at 100 bpm, just go") if genre == "jazz" else a_round()
    state, out = act(state, edit)
    assert out.action == "generate" and "new_or_edit" not in out.asks_about
    assert state.brief.style.genre == genre and state.brief.tempo.bpm == bpm
    assert "didn't find" not in out.reply and not SLOT_PATH.search(out.summary)


def test_the_form_before_any_round_fills_the_brief() -> None:
    state, out = act(State(), EditControls(genre="zydeco", bpm=120))
    assert state.brief.style.genre == "zydeco" and state.brief.tempo.bpm == 120 and out.action in ("ask", "generate")


def test_an_unchanged_form_says_so() -> None:
    state, out = act(a_round(), EditControls())
    assert out.action == "answer" and "form" in out.reply.lower()


def test_a_kept_take_keeps_its_number_after_an_edit() -> None:
    state, _ = step(a_round(), "keep 2")
    kept = state.kept_seed
    state, out = step(state, "a bit faster")
    assert out.action == "generate" and state.last_round.seeds[1] == kept


def test_a_like_on_an_earlier_round_keeps_it_and_says_so() -> None:
    state = a_round()
    first = state.last_round
    state, _ = step(state, "a bit faster")
    state = rendered(state)
    state, out = act(state, KeepTake(round=first.number, number=2))
    assert state.kept_seed == first.seeds[1] and "round 1" in out.reply
    state, out = step(state, "darker")  # the next edit builds on it, in its place
    assert state.last_round.seeds[1] == first.seeds[1]


def test_keeping_a_take_keeps_the_quick_actions() -> None:
    state, out = step(a_round(), "keep 1")
    assert "Darker" in out.options and "More variations" in out.options


def test_compare_points_at_the_last_two_takes() -> None:
    state = a_round()
    state, out = step(state, "compare")
    assert [(t.round, t.number) for t in out.shows] == [(state.last_round.number, 1), (state.last_round.number, 2)]


def test_compare_after_a_keep_and_an_edit_sets_the_kept_take_against_this_round() -> None:
    state, _ = step(a_round(), "keep 2")
    first = state.last_round.number
    state, _ = step(state, "a bit faster")
    state = rendered(state)
    state, out = step(state, "compare")
    assert [(t.round, t.number) for t in out.shows] == [(first, 2), (state.last_round.number, 1)]


def test_compare_before_any_take_says_so() -> None:
    state, out = step(State(), "compare")
    assert not out.shows


def test_compare_is_a_quick_action_with_two_takes() -> None:
    _, out = step(State(), "jazz trio at 100 bpm, just go")
    assert "Compare" in out.options


@pytest.mark.parametrize("message", ["make it 300 seconds long", "300 bpm", "make it darker", "make it wider"])
def test_no_slot_path_or_raw_float_reaches_the_user(message: str) -> None:
    state = a_round()
    _, out = step(state, message)
    for text in (out.reply, out.summary, *out.details):
        assert not SLOT_PATH.search(text), text
        assert "10.0" not in text, text


def test_a_no_op_edit_names_the_value_not_the_prompt() -> None:
    state, _ = step(a_round(), "make it wider")
    state = rendered(state)
    _, out = step(state, "make it wider")
    assert out.action == "answer" and "bpm:" not in out.reply and "wide" in out.reply.lower()


def test_new_song_keeps_the_takes_and_length_the_user_set() -> None:
    state, _ = step(State(), "3 takes of 20 seconds of house, just go")
    state, out = step(state, "new song")
    assert state.settings.takes == 3 and state.brief.duration_s == 20
    state, out = step(state, "make a cool song")
    assert out.asks_about == ["style"]


def test_instrumental_is_said_once_per_conversation() -> None:
    state, out = step(State(), "a song about my dog")
    assert "instrumental" in out.reply
    state, out = step(state, "a song about my cat")
    assert "instrumental" not in out.reply


def test_a_chat_message_is_the_same_as_say() -> None:
    one, a = step(State(), "techno at 130 bpm, just go")
    two, b = act(State(), Say(text="techno at 130 bpm, just go"))
    assert a == b and one == two


def test_one_tempo_word_per_bpm_range_in_options_and_brief() -> None:
    from assistant.vocab import vocabulary

    state, out = step(State(), "a house track")
    for option in (o for o in out.options if "BPM" in o):
        bpm, word = option.split(" BPM, ")
        assert vocabulary().tempo_band(int(bpm)) == word, option
    state, _ = step(state, "118 BPM, mid-tempo")
    state, _ = step(state, "129 bpm")
    assert "mid-tempo" not in (state.brief.tempo.feel or "")  # 129 is fast: the old word goes


def test_questions_about_a_melody_are_answered() -> None:
    from assistant.actions import HeardClip

    state, _ = act(State(), Say(text="house at 124 bpm, go",
                                heard=HeardClip(clip_id="abcdef12", seconds=12.0, original_seconds=12.0)))
    state, out = step(state, "why 124?")  # a melody in the brief never breaks "why"
    assert "124" in out.reply
    state, out = step(state, "why the melody?")
    assert "your clip, 12 s" in out.reply
    state, out = step(state, "what did you fill in?")
    assert "melody your clip, 12 s" in out.reply  # said by the user, listed with what they said
