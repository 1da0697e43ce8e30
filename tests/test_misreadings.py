"""Misreadings fixed as classes: each parametrized over several phrasings, not one example."""

import pytest

from assistant.dialogue.turns import step
from assistant.understanding.extract import extract
from assistant.dialogue.state import State


@pytest.mark.parametrize("text, instrument", [
    ("house with an airy vocal and a dark mix", "airy vocal"),
    ("a bright piano over a dark mix", "bright piano"),
    ("a dark pad and a bright mix", "dark pad"),
    ("a wide pad, narrow mix", "wide pad"),
])
def test_a_timbre_word_on_an_instrument_is_no_mix_conflict(text: str, instrument: str) -> None:
    ex = extract(text)
    assert ex.conflicts == [] and instrument in ex.instruments


@pytest.mark.parametrize("text, genre, instrument", [
    ("flamenco guitar", "flamenco", "flamenco guitar"),
    ("cinematic strings", "cinematic", "cinematic strings"),
    ("jazz piano at night", "jazz", "jazz piano"),
    ("some funk guitar and a beat", "funk", "funk guitar"),
])
def test_a_genre_word_on_an_instrument_also_sets_the_genre(text: str, genre: str, instrument: str) -> None:
    ex = extract(text)
    assert ex.genres == [genre] and instrument in ex.instruments


@pytest.mark.parametrize("text", ["electronic drums and acoustic guitar", "acoustic guitar ballad"])
def test_generic_colours_do_not_set_a_genre(text: str) -> None:
    assert "acoustic" not in extract(text).genres and "electronic" not in extract(text).genres


def test_a_named_genre_wins_over_a_colour() -> None:
    assert extract("flamenco guitar ballad").genres == ["ballad"]


@pytest.mark.parametrize("first, word, most", [
    ("techno at 126 bpm", "slow", 107), ("house at 124 bpm", "slower tempo", 110),
    ("jazz at 90 bpm", "slow", 77),
])
def test_slow_after_a_round_sounds_slow(first: str, word: str, most: int) -> None:
    state, _ = step(State(), first)
    state, _ = step(state, word if word != "slower tempo" else "slow")
    assert state.brief.tempo.bpm <= most


def test_fast_after_a_round_sounds_fast() -> None:
    state, _ = step(State(), "lofi hip hop at 85 bpm")
    state, _ = step(state, "fast")
    assert state.brief.tempo.bpm >= 98


@pytest.mark.parametrize("text", ["solo piano", "a solo cello piece", "piano only", "just a guitar"])
def test_solo_and_only_are_an_arrangement_not_a_section(text: str) -> None:
    ex = extract(text)
    assert ex.only and "solo" not in ex.sections


def test_an_instruments_solo_is_not_an_arrangement() -> None:
    ex = extract("a sax solo over drums")
    assert not ex.only


@pytest.mark.parametrize("text, phrases", [
    ("horn stabs and string swells", ["horn stabs", "string swells"]),
    ("piano chords with 808 slides", ["piano chords", "808 slides"]),
    ("a trumpet riff and organ stabs", ["trumpet riff", "organ stabs"]),
])
def test_parts_named_by_their_role_keep_the_instrument(text: str, phrases: list[str]) -> None:
    assert extract(text).instruments == phrases


@pytest.mark.parametrize("message", ["a jazz trio with piano and brushes", "dreamy shoegaze with fuzz guitars",
                                     "country"])
def test_a_whole_new_piece_after_a_round_asks_new_song_or_edit(message: str) -> None:
    state, _ = step(State(), "techno at 126 bpm")
    held, reply = step(state, message)
    assert reply.action == "ask" and reply.options == ["New song", "Change this one"]
    assert held.brief == state.brief and len(held.rounds) == 1  # nothing merged yet
    new, reply = step(held, "New song")
    assert new.song == 2 and new.brief.style.genre != "techno" and "tempo.bpm" not in new.user_paths
    edited, reply = step(held, "Change this one")
    assert edited.song == 1 and edited.brief.tempo.bpm == 126 and reply.action == "generate"


@pytest.mark.parametrize("message", ["make it jazz", "jazz instead", "switch to jazz", "now jazz with more piano"])
def test_an_edit_word_keeps_it_an_edit(message: str) -> None:
    state, _ = step(State(), "techno at 126 bpm")
    state, reply = step(state, message)
    assert reply.action == "generate" and state.brief.style.genre == "jazz" and state.song == 1
