"""What people really type into Suno and Udio, in examples we wrote ourselves: one class per block,
each written to fail before the fix (the issue "What people really type")."""
import re

import pytest
from hypothesis import given, settings, strategies as st

from assistant.brief import DEFAULT_DURATION_S
from assistant.dialogue.turns import step
from assistant.understanding.extract import extract
from assistant.dialogue.state import State


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
    from assistant.understanding.reading import read
    read(text)


# Key: asked for in the tag table ("minor key", "D minor") and spoken by MusicGen's metadata.
@pytest.mark.parametrize("text,key", [
    ("dark techno in D minor", "d minor"), ("a ballad in the key of F# major", "f# major"),
    ("sad piano, minor key", "minor"), ("in a minor, slow strings", "a minor"), ("key: eb major, funk", "eb major"),
    ("sad, minor, piano", "minor"),
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
    assert "d minor" in out.reply and "you asked for" in out.reply.lower()


# 3. Lyrics and structure tags.
SONG = ("dreamy indie pop\n[Verse 1]\nI'm too tired to leave the house\nthe jazz club closed at nine\n"
        "(Chorus)\nhold me, hold me now\n**Bridge**\nten seconds more of you\n[Outro]\nhold me now")


def test_structure_tags_become_the_structure_in_order() -> None:
    from assistant.understanding.reading import read
    assert read(SONG).sections == ["verse", "chorus", "bridge", "outro"]
    assert read("Verse 1:\nwe sail at dawn\nChorus:\nthe sea, the sea\nVerse 2:\nwe row\n").sections == [
        "verse", "chorus", "verse"]


def test_lyric_words_are_not_read_as_music() -> None:
    state, out = first_turn(SONG)
    brief = state.brief
    assert brief.style.genre == "indie pop" and brief.duration_s == DEFAULT_DURATION_S
    assert "house" not in (brief.style.genre or "") and not brief.style.influences
    assert brief.structure.sections == ["verse", "chorus", "bridge", "outro"]


def test_a_lyric_paste_is_told_once_that_musicgen_cannot_sing() -> None:
    _, out = first_turn(SONG)
    assert len(re.findall(r"can't sing", out.reply)) == 1


def test_no_lyric_line_reaches_the_prompt() -> None:
    state, _ = first_turn(SONG)
    state, out = step(state, "just go")
    for word in ("tired", "house", "club", "hold", "seconds"):
        assert not re.search(rf"\b{word}\b", out.prompt.lower()), word


def test_untagged_lyrics_are_recognised() -> None:
    lyrics = "walking down the road at night\nthe stars are out and so am I\nyou said you'd call me back\n" \
             "but the phone is dead and so are we"
    state, out = first_turn(lyrics)
    assert out.action == "ask" and "can't sing" in out.reply


# 4. Names after a reference phrase are one unit.
@pytest.mark.parametrize("text,name", [
    ("a funk tune in the style of Tom Browne", "Tom Browne"),
    ("something like Joy Division", "Joy Division"),
    ("sounds like George Young, raw", "George Young"),
    ("Alter Bridge style", "Alter Bridge"),
])
def test_an_unknown_name_is_never_read_word_by_word(text: str, name: str) -> None:
    state, out = first_turn(text)
    brief = state.brief
    assert "toms" not in brief.palette.instruments and not {"joy", "young", "love"} & set(brief.style.mood)
    assert brief.style.genre != "disco"
    if brief.style.genre is None:
        assert f"I don't know {name}'s sound" in out.reply and out.asks_about == ["style"]


def test_a_known_artist_is_still_described() -> None:
    state, out = first_turn("in the style of Daft Punk")
    assert "I can't imitate an artist" in out.reply and state.brief.style.genre


def test_capitals_of_a_tag_list_are_not_names() -> None:
    from assistant.understanding.reading import read
    assert read("like Heavy Metal, Dark, Epic").names == []
    assert read("LIKE THE OCEAN, SLOW PIANO").names == []


# 5. A song request is never refused; a question is known by its form.
@pytest.mark.parametrize("text,theme", [
    ("mickey mouse", "mickey mouse"), ("Hollow world", "hollow world"),
    ("a song about my job at the bakery", "my job at the bakery"), ("make a song for my friend Sam", None),
])
def test_a_subject_or_a_title_is_a_request(text: str, theme) -> None:
    state, out = first_turn(text)
    assert out.action == "ask" and out.asks_about == ["style"] and "I'm here to shape music" not in out.reply
    if theme:
        assert state.brief.theme == theme


def test_the_theme_never_reaches_the_prompt() -> None:
    state, _ = first_turn("a song about crazy ideas")
    state, out = step(state, "punk, just go")
    assert state.brief.theme == "crazy ideas" and "ideas" not in out.prompt and "crazy" not in out.prompt


def test_a_title_starting_with_what_is_a_request() -> None:
    state, out = first_turn("What Worries Me, a jazz standard, mid-tempo swing")
    assert out.action in ("ask", "generate") and state.brief.style.genre == "jazz"


@pytest.mark.parametrize("text", ["what's the weather like today?", "who won the world cup?", "blorp zint quaxle"])
def test_text_with_no_request_is_still_off_topic(text: str) -> None:
    _, out = first_turn(text)
    assert out.action == "answer"


def test_a_request_in_another_language_is_kept_as_the_theme() -> None:
    state, out = first_turn("猫についての歌")
    assert out.action == "ask" and state.brief.theme == "猫についての歌"


# 6. Words of the story are not instruments or voices.
@pytest.mark.parametrize("text,wrong", [
    ("a pop song about talking to my mom", "spoken word"), ("a rock song about a drummer who lost his sticks", "drums"),
    ("a song about how we click add to cart", "click"),
])
def test_the_story_is_not_read_as_the_palette(text: str, wrong: str) -> None:
    state, _ = first_turn(text)
    from assistant.vocab import vocabulary
    assert wrong not in vocabulary().canonical_all("instrument", state.brief.palette.instruments)


def test_every_named_style_fits_the_genre_slot() -> None:
    """A genre profile's name and its named styles are at most GENRE_MAX_WORDS words."""
    from assistant.limits import GENRE_MAX_WORDS
    from assistant.vocab import vocabulary
    for profile in vocabulary().genres.values():
        for name in [profile.name, *profile.kinds]:
            assert len(name.split()) <= GENRE_MAX_WORDS, name


@pytest.mark.parametrize("text", ["explain sidechain", "tell me about bossa nova", "how does trap differ from drill",
                                  "compare synthwave and vaporwave"])
def test_a_question_without_a_question_mark_is_still_a_question(text: str) -> None:
    state, out = first_turn(text)
    assert out.action == "answer" and state.brief.style.genre is None


def _vocabulary_words() -> list[str]:
    from assistant.vocab import vocabulary
    vocab = vocabulary()
    words = {w for category in ("genre", "instrument", "mood") for p in vocab.by_category[category].phrases
             for w in p.split() if w.isalpha() and len(w) >= 3}
    return sorted(words)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_vocabulary_words()), st.sampled_from(["x", "qu", "zz", "ing"]), st.booleans())
def test_no_value_from_inside_a_word(word: str, letters: str, before: bool) -> None:
    """Property: a vocabulary word inside a longer token ("xhouse", "housezz") names nothing."""
    token = f"{letters}{word}" if before else f"{word}{letters}"
    from assistant.vocab import vocabulary
    if any(m.surface == token for m in vocabulary().find_all(token)):
        return  # the longer token is itself a vocabulary word ("housing" is not, "drumming" may be)
    ex = extract(f"some {token} please")
    assert not (ex.genres or ex.instruments or ex.moods or ex.duration_s or ex.bpm), token


@pytest.mark.parametrize("text", ["unlike Jazz Standards, calm", "a baby Shark song", "A Rock style song", "I like Rock music"])
def test_a_reference_cue_is_a_whole_word_and_music_words_are_no_name(text: str) -> None:
    from assistant.understanding.reading import read
    assert read(text).names == []


def test_a_new_theme_after_a_round_regenerates_nothing() -> None:
    state, _ = first_turn("funk at 110 bpm, just go")
    rounds = len(state.rounds)
    state, out = step(state, "a song about my dog")
    assert out.action == "answer" and len(state.rounds) == rounds and state.brief.theme == "my dog"


@pytest.mark.parametrize("text", ["a song about death", "a song about my house", "a ballad called Disco Inferno Nights"])
def test_the_story_names_no_genre(text: str) -> None:
    state, _ = first_turn(text)
    assert state.brief.style.genre in (None, "ballad")


def test_a_qualified_style_is_one_genre() -> None:
    state, _ = first_turn("Progressive death metal in the style of Opeth")
    assert state.brief.style.genre == "progressive death metal" and not state.brief.style.influences


@pytest.mark.parametrize("text", ["make a cool song", "make me a song", "something good please"])
def test_a_vague_request_has_no_theme(text: str) -> None:
    state, out = first_turn(text)
    assert out.asks_about == ["style"] and state.brief.theme is None


def test_new_song_then_the_apps_own_example_asks_the_style() -> None:
    state, _ = first_turn("techno at 130 bpm, just go")
    state, _ = step(state, "New song")
    state, out = step(state, "make a cool song")
    assert out.action == "ask" and out.asks_about == ["style"] and "I'm here to shape music" not in out.reply
    assert ".." not in out.reply and state.brief.theme is None


def test_a_number_after_by_or_like_is_no_name() -> None:
    from assistant.understanding.reading import read

    assert read("extend take 2 by 4 seconds").names == [] and "4" in read("extend take 2 by 4 seconds").text
    assert read("something like 90 bpm").names == []
