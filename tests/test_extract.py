"""Extraction on tricky phrasings: one worked example per behaviour."""
import pytest

from assistant.understanding.extract import extract


@pytest.mark.parametrize("text,bpm", [
    ("126 BPM", 126), ("126bpm", 126), ("126 beats per minute", 126), ("house at 105", 105),
    ("drum and bass, 174", 174), ("techno bpm: 130", 130), ("tempo of 92 please", 92),
])
def test_bpm_forms(text: str, bpm: int) -> None:
    assert extract(text).bpm == bpm


@pytest.mark.parametrize("text", [
    "at 30 seconds long", "make 4 takes", "the 90s", "seed 120", "take 2", "1980s synth pop",
    "a song about 100 friends",
])
def test_numbers_that_are_not_tempos(text: str) -> None:
    assert extract(text).bpm is None


@pytest.mark.parametrize("text,word", [
    ("something slow", "slow"), ("mid-tempo groove", "mid-tempo"), ("uptempo", "uptempo"),
    ("make it fast", "fast"), ("medium tempo", "mid-tempo"),
])
def test_tempo_words(text: str, word: str) -> None:
    assert extract(text).tempo_word == word


@pytest.mark.parametrize("text,factor", [("a bit faster", 1.05), ("much slower", 0.85), ("faster", 1.1)])
def test_relative_tempo(text: str, factor: float) -> None:
    assert extract(text).tempo_factor == factor


@pytest.mark.parametrize("text,sections", [
    ("intro > build > drop > outro", ["intro", "build", "drop", "outro"]),
    ("verse chorus verse chorus bridge chorus", ["verse", "chorus", "verse", "chorus", "bridge", "chorus"]),
    ("intro then theme then coda", ["intro", "theme", "coda"]),
    ("a build-up into a big drop", ["build", "drop"]),
])
def test_sections_in_order(text: str, sections: list[str]) -> None:
    assert extract(text).sections == sections


@pytest.mark.parametrize("text,genre", [
    ("some dnb", "drum and bass"), ("d&b roller", "drum and bass"), ("lo-fi hip hop", "lofi hip hop"),
    ("kpop banger", "k-pop"), ("bossa", "bossa nova"), ("melodic techno", "melodic techno"),
    ("a flamenco piece", "flamenco"), ("retrowave", "synthwave"), ("afrobeats", "afrobeat"),
    ("film score", "cinematic"), ("trap", "trap"), ("dubstep", "dubstep"),
])
def test_genre_aliases(text: str, genre: str) -> None:
    assert extract(text).genres == [genre]


@pytest.mark.parametrize("text,instrument", [
    ("with an upright bass", "upright bass"), ("heavy 808s", "808s"), ("a reese bass", "reese bass"),
    ("amen break", "amen break"), ("pedal steel", "pedal steel"), ("fender rhodes", "fender rhodes"),
    ("bodhran", "bodhran"), ("tin whistle", "tin whistle"), ("vocal chops", "vocal chops"),
])
def test_instruments_and_slang(text: str, instrument: str) -> None:
    assert instrument in " ".join(extract(text).instruments)


def test_instrument_keeps_its_colour() -> None:
    assert extract("mellow piano melody and soft female vocal").instruments == [
        "mellow piano melody", "soft female vocal"]


@pytest.mark.parametrize("text,axis,value", [
    ("dark", "brightness", "dark"), ("brighter please", "brightness", "bright"), ("mono", "width", "narrow"),
    ("super wide", "width", "wide"), ("bone dry", "space", "dry"), ("echoey", "space", "reverberant"),
    ("spacious", "space", "reverberant"),
])
def test_mix_axes(text: str, axis: str, value: str) -> None:
    assert extract(text).mix[axis] == value


@pytest.mark.parametrize("text,excluded", [
    ("no drums", ["drums"]), ("without vocals", ["vocals"]), ("instrumental", ["vocals"]),
    ("no drums or vocals", ["drums", "vocals"]), ("drop the hi-hats", ["hi-hats"]),
])
def test_exclusions(text: str, excluded: list[str]) -> None:
    ex = extract(text)
    assert ex.exclude == excluded
    assert not ex.instruments


def test_a_section_called_drop_is_not_a_removal() -> None:
    ex = extract("a huge drop with drums")
    assert ex.sections == ["drop"] and ex.instruments == ["drums"] and not ex.exclude


def test_only_marks_a_restriction() -> None:
    ex = extract("solo piano only")
    assert ex.only and ex.instruments == ["solo piano"]


def test_production_words() -> None:
    assert extract("warm analog lo-fi, punchy and gritty with vinyl crackle").production == [
        "warm", "analog", "lo-fi", "punchy", "gritty", "vinyl crackle"]


def test_contradiction_is_reported_not_guessed() -> None:
    ex = extract("fast and slow")
    assert ex.tempo_word is None and ex.conflicts == ["tempo"]


@pytest.mark.parametrize("text,seconds", [
    ("30 seconds", 30), ("1 minute", 60), ("a minute and a half", 90), ("2:30 long", 150),
    ("two minutes", 120), ("-3 minutes", -180), ("4 hours long", 14400),
])
def test_durations(text: str, seconds: float) -> None:
    assert extract(text).duration_s == seconds


@pytest.mark.parametrize("text", ["80s synth pop", "mid-90s hip hop", "late-80s synth", "clubs in the early-2000s"])
def test_decade_is_style_not_duration(text: str) -> None:
    ex = extract(text)  # "mid-90s" was read as -90 seconds and refused with a notice
    assert ex.duration_s is None and ex.production and ex.production[0].endswith("0s") and not ex.notices


def test_seed() -> None:
    assert extract("use seed 42").seed == 42


def test_control_characters_and_junk_never_raise() -> None:
    for junk in ["\x00\x01\x02", "🎵🎶", "<script>alert(1)</script>", "a" * 100000, "   "]:
        extract(junk)
