"""MusicGen-melody through the users' path: a `musicgen:PATH` whose config is a melody model loads as
one, and the clip's chroma conditions the takes (a guard against conditioning silently ignored, as in
transformers #45647): the same melody and seed give the same tokens, another melody other tokens."""
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # builds and runs a model


def tone(hz: float, seconds: float = 2.0) -> np.ndarray:
    return (0.5 * np.sin(2 * np.pi * hz * np.arange(int(seconds * 32000)) / 32000)).astype(np.float32)


@pytest.fixture(scope="module")
def melody_model(tmp_path_factory) -> Path:
    from support.random_model import build_random_musicgen_melody

    return build_random_musicgen_melody(tmp_path_factory.mktemp("melody"))


def test_a_melody_model_folder_loads_as_a_melody_model(melody_model: Path) -> None:
    from assistant.music.musicgen import MusicGenModel

    model = MusicGenModel(str(melody_model))
    model.load()
    assert model.melody and type(model._model).__name__ == "MusicgenMelodyForConditionalGeneration"


def test_the_melody_conditions_the_take(melody_model: Path) -> None:
    from assistant.music.musicgen import MusicGenModel

    model = MusicGenModel(str(melody_model))
    a4, again, e4 = (model.generate(["house with piano"], [7], 1.0, melody=tone(hz))[0] for hz in (440.0, 440.0, 329.63))
    text_only = model.generate(["house with piano"], [7], 1.0)[0]
    assert len(a4) == pytest.approx(32000, rel=0.05)
    assert np.array_equal(a4, again)  # same seed, same melody: the same take
    assert not np.allclose(a4, e4)  # another melody: another take
    assert not np.allclose(a4, text_only)
