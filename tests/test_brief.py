"""The brief is the one schema: its limits and its readable errors."""
import re

import pytest

from assistant.brief import BriefRefused, MusicBrief, diff, with_value
from assistant.wording import describe_change, say_all
from assistant.limits import PROMPT_MAX_WORDS
from assistant.prompt.render import render_prompt


def test_json_contract_shape() -> None:
    data = MusicBrief().model_dump()
    assert set(data) == {"style", "tempo", "palette", "structure", "mix", "exclude", "duration_s", "seed", "theme", "melody"}
    assert data["style"] == {"genre": None, "influences": [], "key": None, "mood": []}
    assert data["mix"] == {"brightness": None, "width": None, "space": None}


@pytest.mark.parametrize("path,value,message", [
    ("tempo.bpm", 900, "900 BPM is outside 40-220"),
    ("tempo.bpm", 39, "outside 40-220"),
    ("style.genre", "a genre with far too many words in it", "longer than 5 words"),
    ("palette.instruments", [f"synth {i}" for i in range(9)], "at most 8"),
    ("mix.brightness", "purple", "bright"),
    ("duration_s", 14400, "outside 1-180 seconds"),
    ("seed", -1, "seed"),
])
def test_invalid_values_are_explained(path: str, value: object, message: str) -> None:
    """The schema refuses with coded facts (no words in the kernel's schema); the wording says them."""
    with pytest.raises(BriefRefused) as refused:
        with_value(MusicBrief(), path, value)
    assert refused.value.facts and all(f.code.startswith("schema_") for f in refused.value.facts)
    assert re.search(message, say_all(refused.value.facts))


def test_diff_and_change_description() -> None:
    old = with_value(MusicBrief(), "mix.brightness", "balanced")
    new = with_value(old, "mix.brightness", "dark")
    assert diff(old, new) == ["mix.brightness"]
    assert describe_change(old, new, "mix.brightness") == "mix.brightness: balanced -> dark"


def test_prompt_speaks_musicgen_metadata_and_stays_short() -> None:
    brief = MusicBrief.model_validate({
        "style": {"genre": "house", "mood": ["uplifting", "warm-hearted"]},
        "tempo": {"bpm": 124, "feel": "four-on-the-floor"},
        "palette": {"instruments": [f"instrument {i}" for i in range(8)], "production": ["punchy", "warm"]},
        "structure": {"sections": ["intro", "build", "drop", "breakdown", "drop", "outro", "coda", "fade"]},
        "mix": {"brightness": "dark", "width": "wide", "space": "reverberant"},
        "exclude": ["vocals"], "duration_s": 20,
    })
    prompt = render_prompt(brief)
    assert "bpm: 124. genre: house. moods: uplifting, warm-hearted. instrument: instrument 0" in prompt
    assert "no vocals" in prompt and "dark, wide, reverberant mix" in prompt
    assert len(prompt.split()) <= PROMPT_MAX_WORDS
