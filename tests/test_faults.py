"""Faults in the music layer leave the conversation usable and earlier takes playable."""
import threading
import os
import time
from pathlib import Path

import numpy as np
import pytest

from assistant import limits
from assistant.music.audio import enforce_disk_limits
from assistant.music.musicgen import MusicGenModel
from support.random_model import build_random_musicgen
from assistant.app.services import make_session
from assistant.app.session import Session
from assistant.dialogue.state import Settings, Take
from tests.doubles import FlakyRenderer

pytestmark = pytest.mark.slow  # loads models, renders audio or starts the app


def session_with(renderer) -> Session:
    return Session(Settings(), music=renderer)


@pytest.mark.parametrize("failure,message", [("oom", "Generation failed (MemoryError"),
                                              ("crash", "Generation failed (RuntimeError")])
def test_a_failing_generation_keeps_the_conversation_and_earlier_takes(failure: str, message: str) -> None:
    session = session_with(FlakyRenderer("ok", failure, "ok"))
    first = session.send("house at 124 bpm with piano")
    failed = session.send("make it darker")
    assert message in failed.reply and "earlier takes are still here" in failed.reply
    assert session.state.takes_of(session.state.rounds[0].number) == first.takes
    again = session.send("make it brighter")
    assert again.action == "generate" and len(again.takes) == 2


def test_stop_cancels_a_running_generation() -> None:
    session = session_with(FlakyRenderer("hang"))
    threading.Timer(0.2, session.stop).start()  # Stop acts on the running turn
    record = session.send("techno at 130 bpm")
    assert record.reply == "Stopped. Your earlier takes are unchanged." and record.takes == []
    assert session.state.rounds == [] and record.action == "answer"  # the stopped round is discarded


def test_a_stuck_generation_times_out(monkeypatch) -> None:
    monkeypatch.setattr(limits, "GENERATION_TIMEOUT_S", 0.2)
    session = session_with(FlakyRenderer("hang"))
    record = session.send("techno at 130 bpm")
    assert "took longer than 0.2 s and was stopped" in record.reply


def test_musicgen_honours_cancel_between_steps(tmp_path: Path) -> None:
    model = MusicGenModel(str(build_random_musicgen(tmp_path / "tiny")))
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(InterruptedError):
        model.generate(["techno"], [1], 1.0, cancel=cancel)


def test_disk_limits_remove_oldest_files_but_never_kept_ones(tmp_path: Path) -> None:
    folder = tmp_path / "conv"
    folder.mkdir()
    paths = []
    for i in range(6):
        path = folder / f"round{i:02d}-take1-seed{i}.wav"
        path.write_bytes(b"x" * 10)
        os.utime(path, (1_000_000 + i, 1_000_000 + i))  # oldest first, without waiting on the clock
        paths.append(path)
    removed = enforce_disk_limits(tmp_path, folder, max_files=3, max_total_mb=1, protect={str(paths[0])})
    assert removed == 3 and paths[0].exists() and not any(p.exists() for p in paths[1:4])
    assert paths[4].exists() and paths[5].exists()  # 3 files stay, the kept one among them


def test_sketch_backend_survives_being_asked_for_a_huge_round(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MUSICBRIEF_OUTPUT_DIR", str(tmp_path))
    session = make_session({"llm": "off", "music": "sketch", "duration_s": 2, "takes": 4})
    record = session.send("give me 9 variations of house at 124 bpm")
    assert len(record.takes) == limits.MAX_TAKES and "At most 4 takes fit in one round" in record.reply
    assert all(np.isfinite(t.analysis.loudness_lufs) for t in record.takes)


def test_missing_hub_weights_fail_fast_with_a_clear_message(monkeypatch) -> None:
    from assistant.music.musicgen import MusicGenUnavailable
    from assistant.wording import say

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # offline: a clear error at once, never a wait on the network
    with pytest.raises(MusicGenUnavailable) as failed:
        MusicGenModel("facebook/musicgen-small").load()
    assert failed.value.fact.code == "musicgen_no_weights"  # a coded fact: the music wing writes no words
    assert "not on this machine" in say(failed.value.fact)


def test_old_files_go_in_the_same_pass(tmp_path: Path) -> None:
    folder = tmp_path / "conv"
    folder.mkdir()
    old, new = folder / "round01-take1-seed1.wav", folder / "round02-take1-seed2.wav"
    for path in (old, new):
        path.write_bytes(b"x")
    os.utime(old, (time.time() - 3 * 3600, time.time() - 3 * 3600))
    removed = enforce_disk_limits(tmp_path, folder, max_files=10, max_total_mb=1, protect=set(), max_age_minutes=120)
    assert not old.exists() and new.exists() and removed == 0  # age clean-up is not a limit being hit
