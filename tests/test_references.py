"""The reference layer: data that grounds, matching that survives how people type, no name in a prompt."""

import pytest

from assistant.brief import MusicBrief
from assistant.dialogue.turns import step
from assistant.understanding.extract import extract
from assistant.understanding.references import load_references, names_in, reference_index
from assistant.prompt.render import render_prompt
from assistant.dialogue.state import State
from assistant.vocab import vocabulary


@pytest.mark.slow
def test_every_reference_value_is_one_the_assistant_knows() -> None:
    vocab = vocabulary()
    for ref, names in load_references():
        assert names and all(isinstance(n, str) and n for n in names)
        assert ref.genres and all(vocab.genre(g) for g in ref.genres), ref.key
        assert all(vocab.canonical("mood", m) for m in ref.moods), ref.key
        assert all(vocab.canonical("instrument", i) for i in ref.instruments), ref.key
        assert all(vocab.canonical("production", p) for p in ref.production), ref.key
        assert ref.tempo is None or ref.tempo in vocab.tempo_positions, ref.key


@pytest.mark.slow
def test_the_layer_is_sized_for_real_traffic() -> None:
    kinds = [ref.kind for ref, _ in load_references()]
    assert kinds.count("occasion") >= 150
    assert kinds.count("media") + kinds.count("era") >= 60
    assert len({ref.key for ref, _ in load_references() if ref.kind == "artist"}) >= 300


@pytest.mark.parametrize("text, key", [
    ("something like daft punk", "daft punk"),
    ("daft punks robots", "daft punk"),        # plural
    ("Daft Punk's best", "daft punk"),         # possessive and case
    ("hans zimmers trailers", "hans zimmer"),  # a surname alone, plural
    ("beatles-y guitar pop", "the beatles"),   # style suffix
    ("zeppelinesque riffs", "led zeppelin"),
    ("radiohed kid a", "radiohead"),           # typo of a long name
    ("Beyoncé energy", "beyonce"),             # accents
    ("a dinner-party scene", "dinner party"),  # hyphen
    ("tunes for road trips", "road trip"),
])
def test_matching_survives_how_people_type(text: str, key: str) -> None:
    assert key in [m.reference.key for m in reference_index().find(text.lower())]


@pytest.mark.parametrize("text", ["make it brighter", "a breakbeat with drums", "I love the second one",
                                  "keep 2", "slower please", "add some strings"])
def test_ordinary_words_are_not_references(text: str) -> None:
    assert reference_index().find(text) == []


def test_a_genre_word_inside_a_name_is_not_a_genre() -> None:
    ex = extract("something like daft punk")
    assert ex.genres == [] and ex.weak_genres == []  # "punk" belongs to the name
    state, _ = step(State(), "something like daft punk")
    assert state.brief.style.genre == "french house"


def test_a_number_inside_a_name_is_no_tempo() -> None:
    state, _ = step(State(), "blink-182 energy")
    assert state.brief.tempo.bpm != 182


def test_an_artist_is_described_in_one_line_and_never_named_to_musicgen() -> None:
    state, reply = step(State(), "a track like daft punk")
    assert "I can't imitate an artist" in reply.reply and "124 BPM" not in reply.prompt  # bpm of the sound: 123
    assert "daft" not in reply.prompt.lower() and names_in(reply.prompt) == []
    assert {"style.genre", "style.mood", "tempo.bpm"} <= set(state.inferred_paths)
    assert not set(state.user_paths) & {"style.genre", "style.mood"}  # inferred, never shown as said


@pytest.mark.slow
def test_no_name_reaches_a_prompt_even_inside_the_users_own_words() -> None:
    names = [names[0] for ref, names in load_references() if ref.is_name]
    for name in [n for n in names if len(n.split()) <= 4][::7]:
        brief = MusicBrief.model_validate({"style": {"genre": "house"},
                                           "palette": {"instruments": [f"{name} piano"]}})
        prompt = render_prompt(brief)
        assert names_in(prompt) == [], (name, prompt)


def test_an_occasion_fills_only_what_the_user_left_open() -> None:
    state, _ = step(State(), "jazz for a dinner party at 95 bpm")
    assert state.brief.style.genre == "jazz" and state.brief.tempo.bpm == 95
    assert state.brief.style.mood == ["relaxed", "warm-hearted"]


def test_with_instruments_named_an_occasion_offers_its_genres_as_options() -> None:
    state, reply = step(State(), "a saxophone for a dinner party")
    assert state.brief.style.genre is None and reply.asks_about == ["style"]


def test_an_era_is_the_weakest_hint() -> None:
    state, _ = step(State(), "a 90s rave")
    assert state.brief.style.genre == "techno"  # the rave decides, the decade only colours


def test_every_glossary_term_is_answered_by_name_and_leaves_the_brief_alone() -> None:
    from assistant.dialogue.answers import _data

    for term in _data()[0]:
        state = State()
        state, reply = step(state, f"what is {term}?")
        assert reply.action == "answer" and state.brief == State().brief, term
        assert "I don't know" not in reply.reply and "shape music" not in reply.reply, term
