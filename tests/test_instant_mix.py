"""Mix edits are heard at once: the takes go through the new mix; a full render is one click away."""
from pathlib import Path

import numpy as np
import soundfile as sf

from assistant.music.renderer import build_renderer
from assistant.app.session import Session
from assistant.dialogue.state import Settings
import pytest

pytestmark = pytest.mark.slow  # loads models, renders audio or starts the app


def centroid(path: str) -> float:
    audio, rate = sf.read(path)
    spectrum = np.abs(np.fft.rfft(audio.mean(axis=1)))
    return float((spectrum * np.fft.rfftfreq(len(audio), 1 / rate)).sum() / spectrum.sum())


def sketch_session(folder: Path) -> Session:
    return Session(Settings(music="sketch"), music=build_renderer("sketch", folder), duration_s=4)


def test_darker_remixes_the_same_takes_and_offers_a_full_render(tmp_path: Path) -> None:
    session = sketch_session(tmp_path)
    first = session.send("house at 120 bpm with piano, go")
    darker = session.send("darker")
    assert session.state.rounds[-1].remix_of == session.state.rounds[-2].number
    assert darker.seeds == first.seeds and len(darker.takes) == 2
    assert any(d.startswith("Re-mixed 2 takes in") for d in darker.details)
    assert darker.options[0] == "Regenerate with this prompt" and "Darker" not in darker.options
    assert darker.summary.startswith("Brightness: dark, applied to your takes at once")
    for old, new in zip(first.takes, darker.takes):
        assert new.path != old.path and Path(new.path).exists()
        assert centroid(new.path) < 0.8 * centroid(old.path)
        assert new.analysis.bpm == old.analysis.bpm  # the tempo didn't change
    full = session.send("Regenerate with this prompt")
    assert full.action == "generate" and full.seeds == first.seeds
    assert session.state.rounds[-1].remix_of is None and not any(d.startswith("Re-mixed") for d in full.details)


def test_every_mix_axis_is_instant_and_can_be_undone(tmp_path: Path) -> None:
    session = sketch_session(tmp_path)
    session.send("techno at 128 bpm with synth bass, go")
    for edit in ("brighter", "drier", "more reverb", "narrower", "wider"):
        record = session.send(edit)
        assert session.state.rounds[-1].remix_of is not None, edit
        assert len(record.takes) == 2 and any(d.startswith("Re-mixed") for d in record.details), edit


def test_a_remix_without_its_source_audio_is_generated(tmp_path: Path) -> None:
    session = sketch_session(tmp_path)
    session.send("house at 120 bpm with piano, go")
    session.music = build_renderer("sketch", tmp_path)  # e.g. after a restart: nothing kept in memory
    record = session.send("darker")
    assert len(record.takes) == 2 and not any(d.startswith("Re-mixed") for d in record.details)


def test_non_mix_edits_and_takeless_rounds_are_not_remixed(tmp_path: Path) -> None:
    session = sketch_session(tmp_path)
    session.send("house at 120 bpm with piano, go")
    session.send("faster")
    assert session.state.rounds[-1].remix_of is None
    offline = Session(Settings())  # no music backend: rounds have no takes to re-mix
    offline.send("house at 120 bpm with piano, go")
    offline.send("darker")
    assert offline.state.rounds[-1].remix_of is None


def test_musicgen_takes_remix_through_the_pedalboard_chain(tmp_path: Path) -> None:
    from support.random_model import build_random_musicgen

    model = build_random_musicgen(tmp_path / "tiny")
    session = Session(Settings(music="musicgen"), music=build_renderer(f"musicgen:{model}", tmp_path / "out"),
                      duration_s=2)
    first = session.send("ambient at 80 bpm with pads, go")
    wider = session.send("make it dry")
    assert session.state.rounds[-1].remix_of is not None and any(d.startswith("Re-mixed") for d in wider.details)
    assert [t.seed for t in wider.takes] == [t.seed for t in first.takes]
    assert all(not t.sketch for t in wider.takes)


def test_instant_edits_keep_to_the_per_conversation_file_limit(tmp_path: Path, monkeypatch) -> None:
    from assistant import limits

    monkeypatch.setattr(limits, "MAX_FILES_PER_CONVERSATION", 4)
    session = sketch_session(tmp_path)
    session.send("house at 120 bpm with piano, go")
    for edit in ("darker", "brighter", "darker", "brighter"):
        record = session.send(edit)
        assert any(d.startswith("Re-mixed") for d in record.details)
        assert all(Path(t.path).exists() for t in record.takes)  # the takes just made always stay
    assert len(list(tmp_path.rglob("*.wav"))) <= 4
