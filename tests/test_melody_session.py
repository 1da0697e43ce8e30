"""A clip in the chat, through the Session: it becomes the melody the takes follow, edits keep it,
"drop the melody" removes it, a bad clip is refused in words and nothing is written, and the sketch
plays the clip's pitches as its lead."""
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from assistant.actions import Say
from assistant.music.renderer import MusicRenderer
from assistant.app.session import Session
from assistant.dialogue.state import Settings

pytestmark = pytest.mark.slow  # renders audio


def hum(path: Path, notes=(440.0, 329.63), seconds: float = 2.0) -> Path:
    t = np.arange(int(seconds * 32000)) / 32000
    hz = np.where(t < seconds / 2, notes[0], notes[1])
    sf.write(path, 0.4 * np.sin(2 * np.pi * np.cumsum(hz) / 32000), 32000)
    return path


def session(tmp_path: Path) -> Session:
    return Session(Settings(seed=1), music=MusicRenderer("sketch", tmp_path / "takes"), duration_s=3.0)


def test_a_clip_becomes_the_melody_and_edits_keep_it(tmp_path: Path) -> None:
    s = session(tmp_path)
    first = s.do(Say(text="house at 124 bpm, go", clip=str(hum(tmp_path / "hum.wav"))))
    assert first.action == "generate" and "follow the melody of your clip (2 s)" in first.summary
    assert "pitches it heard in your clip" in first.reply  # the sketch says what it did with it
    assert s.state.brief.melody is not None and s.state.brief.melody.seconds == pytest.approx(2.0)
    faster = s.send("a bit faster")
    assert faster.action == "generate" and faster.seeds == first.seeds and s.state.brief.melody is not None
    dropped = s.send("drop the melody")
    assert dropped.action == "generate" and s.state.brief.melody is None and "Melody dropped" in dropped.summary


def test_a_bad_clip_is_refused_in_words_and_nothing_is_written(tmp_path: Path) -> None:
    s = session(tmp_path)
    (tmp_path / "notes.wav").write_text("not audio at all\n" * 10)
    record = s.do(Say(text="", clip=str(tmp_path / "notes.wav")))
    assert record.action == "answer" and "couldn't read that file as audio" in record.reply
    assert s.state.brief.melody is None and not list((tmp_path / "takes").rglob("*.wav"))


def test_the_sketch_lead_follows_the_clips_pitches() -> None:
    from assistant.music.sketch import lead_notes, melody_pitches

    t = np.arange(4 * 32000) / 32000
    clip = 0.4 * np.sin(2 * np.pi * np.cumsum(np.where(t < 2, 440.0, 329.63)) / 32000)
    notes = lead_notes(melody_pitches(clip, 32000), 0.5, 8)
    assert notes == [69] * 4 + [64] * 4  # A4 for two seconds, then E4: one note per half-second beat
