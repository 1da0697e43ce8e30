"""What people really type into Suno and Udio, in examples we wrote ourselves: one class per block,
each written to fail before the fix (the issue "What people really type")."""
import re

import pytest
from hypothesis import given, settings, strategies as st

from assistant.brief import DEFAULT_DURATION_S
from assistant.dialogue import step
from assistant.extract import extract
from assistant.state import State


def first_turn(message: str):
    return step(State(), message)


# 1. Lengths are read from whole tokens only, never from inside a word.
@pytest.mark.parametrize("text", [
    "a song about crazy ideas", "broken bones symphony", "new jeans style pop", "breaking benjamin vibes",
    "thrash metal about pandas", "a song about a second chance", "like the 2020 hit", "2020s synth pop",
    "1970's classic country", "synthwave from the 1980s", "rock with a 1999 feel",
])
def test_no_length_from_inside_a_word_or_a_year(text: str) -> None:
    assert extract(text).duration_s is None
    state, out = first_turn(text)
    assert state.brief.duration_s == DEFAULT_DURATION_S and not any("duration" in n for n in out.notices)


@pytest.mark.parametrize("text,seconds", [
    ("a 30 second jingle", 30), ("two minutes of house", 120), ("make it 1.5 minutes", 90),
    ("a minute long", 60), ("45s of ambient", 45), ("an hour of rain", 3600),
])
def test_a_length_said_as_tokens_is_still_read(text: str, seconds: float) -> None:
    assert extract(text).duration_s == seconds


@pytest.mark.parametrize("text,era", [("abba, 1976, upbeat", "70s"), ("like the 2020 hit", "2020s"),
                                      ("2020s synth pop", "2020s"), ("1970's classic country", "70s")])
def test_years_are_eras(text: str, era: str) -> None:
    assert era in extract(text).production


WORDS = st.sampled_from("as is ideas bones jeans a an one benjamin minus hymns songs gas oasis piano rock "
                        "the of about ten sins ions omens comma secs".split())


@settings(max_examples=300, deadline=None)
@given(st.lists(WORDS, min_size=1, max_size=8).map(lambda ws: "".join(ws)))
def test_no_length_from_letters_run_together(text: str) -> None:
    """Property: words run together into one token never hold a length."""
    assert extract(text).duration_s is None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from("song about crazy ideas a an one benjamin pandas gas oasis rain the "
                                "of love 2020 1999 hit ten sins hymns".split()), min_size=1, max_size=10))
def test_no_length_without_a_length_phrase(words: list[str]) -> None:
    """Property: a message with no unit word (seconds, minutes, hours) sets no length."""
    text = " ".join(words)
    assert extract(text).duration_s is None


# 2. One genre, with influences: a tag list's genres are not fused into one genre string.
@pytest.mark.parametrize("text,genre,influences", [
    ("dance, pop, trap, house, techno, electronic", "dance pop", ["trap", "house"]),
    ("progressive rock, funk, orchestral, cinematic", "progressive rock", ["funk", "orchestral"]),
    ("alternative, alternative metal, grunge", "alternative", ["alternative metal", "grunge"]),
    ("jazz hip hop with a lazy groove", "jazz hip hop", []),
])
def test_a_tag_list_has_one_genre_and_influences(text: str, genre: str, influences: list[str]) -> None:
    state, _ = first_turn(text)
    style = state.brief.style
    assert len(style.genre.split()) <= 3 and len(set(style.genre.split())) == len(style.genre.split())
    assert style.genre == genre and style.influences == influences


def test_influences_reach_the_prompt_and_the_rest_is_reported() -> None:
    state, out = first_turn("dance, pop, trap, house, techno, electronic, 124 bpm, female vocals")
    assert "with trap and house influences" in out.prompt and "genre: dance pop." in out.prompt
    assert "techno" not in out.prompt
    assert any("techno, electronic" in n and "left out" in n for n in out.notices)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("[]()*:\n ,.\"'abcVCBhorus0123")), max_size=80))
def test_reading_never_raises(text: str) -> None:
    from assistant.reading import read
    read(text)


# Key: asked for in the tag table ("minor key", "D minor") and spoken by MusicGen's metadata.
@pytest.mark.parametrize("text,key", [
    ("dark techno in D minor", "d minor"), ("a ballad in the key of F# major", "f# major"),
    ("sad piano, minor key", "minor"), ("in a minor, slow strings", "a minor"), ("key: eb major, funk", "eb major"),
])
def test_the_key_is_read(text: str, key: str) -> None:
    assert extract(text).key == key


@pytest.mark.parametrize("text", ["a minor change to the drums", "a major label pop song", "a song about being a minor"])
def test_no_key_from_ordinary_words(text: str) -> None:
    assert extract(text).key is None


def test_the_key_reaches_the_metadata_and_is_explained() -> None:
    state, out = first_turn("dark techno at 130 bpm in d minor, just go")
    assert state.brief.style.key == "d minor" and "key: d minor" in out.prompt
    state, out = step(state, "why this key?")
    assert "d minor" in out.text and "you asked for" in out.text.lower()
