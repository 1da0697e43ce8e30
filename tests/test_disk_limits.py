"""Disk limits that hold for everyone: a kept take protects its own file and not its later re-mixes,
a conversation trims its own oldest files first, the total limit never deletes another
conversation's kept take (the conversation that doesn't fit is refused in words), and a write that
fails leaves nothing half-written and the next round succeeds."""
import errno
from pathlib import Path

import pytest

from assistant import limits
from assistant.bounded import BoundedStore
from assistant.music import renderer as renderer_module
from assistant.music.renderer import MusicRenderer
from assistant.app.session import Session
from assistant.dialogue.state import Settings

pytestmark = pytest.mark.slow  # renders audio

TAKE_MB = 0.256  # one 2 s sketch take: 32 kHz, stereo, 16 bit


@pytest.fixture(autouse=True)
def no_kept_from_other_tests(monkeypatch):
    monkeypatch.setattr(renderer_module, "_KEPT", BoundedStore(limits.MAX_CONVERSATIONS_KEPT))


def session(root: Path) -> Session:
    return Session(Settings(seed=1), music=MusicRenderer("sketch", root), duration_s=2.0)


def wavs(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.wav"))


def test_pinned_remixes_are_trimmed_and_the_kept_take_stays(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(limits, "MAX_FILES_PER_CONVERSATION", 6)
    monkeypatch.setattr(limits, "MAX_TOTAL_MB", 3.0)
    s = session(tmp_path)
    first = s.send("house at 124 bpm, just go")
    s.send("keep 1")
    for i in range(12):  # a kept seed used to protect every later re-mix of it: 26 files against 6
        s.send("make it darker" if i % 2 == 0 else "make it brighter")
    folder = Path(first.takes[0].path).parent
    assert len(wavs(folder)) <= 6 and Path(first.takes[0].path).exists()
    assert sum(p.stat().st_size for p in wavs(tmp_path)) <= 3.0e6


def test_the_total_limit_refuses_a_conversation_rather_than_delete_anothers_kept_take(tmp_path: Path,
                                                                                         monkeypatch) -> None:
    monkeypatch.setattr(limits, "MAX_TOTAL_MB", 4 * TAKE_MB + 0.01)
    keepers = [session(tmp_path) for _ in range(2)]
    kept = []
    for k in keepers:
        record = k.send("house at 124 bpm, just go")
        kept.append(Path(record.takes[0].path))
        k.send("keep 1")
    other = session(tmp_path)
    other.send("techno at 130 bpm, just go")  # fits: the keepers' unkept takes make room
    assert all(p.exists() for p in kept)
    other.send("keep 1")
    again = session(tmp_path).send("jazz at 90 bpm, just go")  # 3 kept takes + 2 more don't fit in 4
    assert not again.takes and "no room for more takes" in again.reply and "keep one or start a new song" in again.reply
    assert all(p.exists() for p in kept)


def test_a_failed_write_leaves_no_partial_file_and_the_next_round_succeeds(tmp_path: Path, monkeypatch) -> None:
    import soundfile

    s = session(tmp_path)
    real = soundfile.write

    def full_disk(path, audio, rate, **kwargs):
        Path(path).write_bytes(b"RIFF" + b"\0" * 1000)  # what a full disk leaves: part of a file
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(soundfile, "write", full_disk)
    failed = s.send("house at 124 bpm, just go")
    assert not failed.takes and "couldn't save the takes" in failed.reply and wavs(tmp_path) == []
    monkeypatch.setattr(soundfile, "write", real)  # the disk has room again
    record = s.send("try again")
    assert len(record.takes) == 2 and all(Path(t.path).exists() for t in record.takes)


def test_a_disk_fuller_than_the_limit_makes_room_from_old_takes(tmp_path: Path, monkeypatch) -> None:
    import shutil
    from collections import namedtuple

    s = session(tmp_path)
    first = s.send("house at 124 bpm, just go")
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _: usage(3_000_000, 2_600_000, 400_000))  # a nearly full disk
    record = s.send("more variations")  # 2 takes of 256 kB need the room of the first round's two
    assert len(record.takes) == 2 and all(Path(t.path).exists() for t in record.takes)
    assert not any(Path(t.path).exists() for t in first.takes)
