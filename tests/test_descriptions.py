"""How musicians describe music (MusicCaps-style captions): every distinct word they said reaches
the brief once, named styles keep their names, and the prompt says what the palette implies."""
import pytest

from assistant.brief import MusicBrief, Palette, Style
from assistant.understanding.extract import extract
from assistant.app.refine import refine
from assistant.prompt.render import render_prompt
from assistant.vocab import vocabulary


def test_two_descriptions_of_one_instrument_are_both_kept() -> None:
    ex = extract("there are wooden percussions and tribal percussions")
    assert ex.instruments == ["wooden percussions", "tribal percussions"]


def test_a_phrase_inside_another_is_said_once() -> None:
    ex = extract("a male voice sings, then the voice fades; an organ, then a warm organ")
    assert ex.instruments == ["male voice", "warm organ"]
    assert extract("a bass guitar and a guitar").instruments == ["bass guitar", "guitar"]  # two instruments


def test_two_words_for_one_mood_both_stay_but_not_two_forms_of_one_word() -> None:
    assert extract("brutal and aggressive").moods == ["brutal", "aggressive"]
    assert extract("relaxed and relaxing").moods == ["relaxed"]


@pytest.mark.parametrize("text,genre,profile", [
    ("a hard rock song", "hard rock", "rock"), ("heavy metal riffs", "heavy metal", "metal"),
    ("old rap tape", "rap", "hip hop"), ("alternative rock", "alternative rock", "indie rock"),
])
def test_a_named_style_keeps_its_name(text: str, genre: str, profile: str) -> None:
    brief, prompt, _ = refine(text)
    assert brief.style.genre == genre and f"genre: {genre}" in prompt
    assert vocabulary().genre(genre).name == profile  # filled from its genre's profile


def test_atmosphere_frames_a_mood_and_is_one_alone() -> None:
    assert extract("the atmosphere of the piece is joyful").moods == ["joyful"]
    assert extract("there is an ominous atmosphere").moods == ["ominous"]
    assert extract("lots of atmosphere").moods == ["atmosphere"]


def test_a_role_after_a_verb_belongs_to_the_instrument() -> None:
    assert extract("two cellos playing a melody").instruments == ["cellos melody"]


def test_medium_fast_is_uptempo_as_said() -> None:
    ex = extract("the tempo is medium fast")
    assert ex.tempo_word == "uptempo" and ex.tempo_surface == "medium fast"


def test_moods_place_an_unsaid_tempo() -> None:
    sad, _, _ = refine("a sad pop song")
    energetic, _, _ = refine("an energetic pop song")
    neutral, _, _ = refine("a pop song")
    assert sad.tempo.bpm < neutral.tempo.bpm < energetic.tempo.bpm


def test_a_palette_without_a_voice_is_instrumental() -> None:
    brief = MusicBrief(style=Style(genre="jazz"), palette=Palette(instruments=["piano", "upright bass"]))
    assert render_prompt(brief).startswith("Instrumental")
    sung = brief.model_copy(update={"palette": Palette(instruments=["piano", "female vocals"])})
    assert "instrumental" not in render_prompt(sung).lower() and render_prompt(sung).startswith("Song")


def test_english_words_are_not_typos_of_ours() -> None:
    from assistant.understanding.spelling import correct

    text = "the music starts off, panned to the speakers; taking sides, it stops clear and american"
    assert correct(text) == text  # was: strats, shakers, talking, slides, stomps, clean, americana
    assert correct("tecnho with a saxaphone") == "techno with a saxophone"


def test_a_usage_genre_gives_way_to_a_named_one() -> None:
    assert extract("a folk song that could be used in the soundtrack of a movie").genres == ["folk"]
    assert extract("a hip hop beat for a video game").genres == ["hip hop"]
    assert extract("an epic movie soundtrack").genres == ["cinematic"]


def test_exclusions_keep_the_users_word_and_act_on_the_family() -> None:
    brief, prompt, _ = refine("techno, there are no voices and no drums")
    assert brief.exclude == ["voices", "drums"] and "no voices" in prompt
    assert not any(vocabulary().family_of(i) in ("drums", "vocals") for i in brief.palette.instruments)


def test_a_clip_names_only_the_sections_it_has_room_for() -> None:
    from assistant.brief import Structure
    from assistant.prompt.render import sections_that_fit

    house = MusicBrief(style=Style(genre="house"),
                       structure=Structure(sections=["intro", "build", "drop", "breakdown", "drop", "outro"]))
    assert sections_that_fit(house) == ["drop"]  # 10 s: one section, the peak
    assert sections_that_fit(house.model_copy(update={"duration_s": 20.0})) == ["intro", "drop", "outro"]
    assert sections_that_fit(house.model_copy(update={"duration_s": 60.0})) == ["intro", "build", "drop", "breakdown", "outro"]
    assert render_prompt(house) == "Music, drop. genre: house"


def test_metadata_names_instruments_in_the_vocabulary_and_the_text_keeps_the_users_words() -> None:
    brief = MusicBrief(style=Style(genre="pop"),
                       palette=Palette(instruments=["soft female vocal", "e-guitar chords", "piano", "theremin"]))
    description, metadata = render_prompt(brief).split(". bpm" if ". bpm" in render_prompt(brief) else ". genre", 1)
    assert "soft female vocal" in description and "e-guitar chords" in description
    assert metadata.endswith("instrument: female vocals, electric guitar, piano, theremin")


def test_a_round_says_when_the_clip_holds_only_part_of_the_structure() -> None:
    from assistant.dialogue.turns import step
    from assistant.dialogue.state import State

    state, first = step(State(), "deep house at 122 bpm, dark mix, go")
    assert any(d.startswith("10 s have room for drop of intro > build > drop") for d in first.details)
    assert " drop, " in first.prompt and "intro" not in first.prompt
    state, longer = step(state, "make it 30 seconds")
    assert "intro > build > drop > breakdown > outro" in longer.prompt
    assert not any("have room for" in d for d in longer.details)
