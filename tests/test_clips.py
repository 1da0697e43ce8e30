"""Uploaded clips are read safely: each bad file gets its own refusal, a long one is cut and told,
and reading never writes a file."""
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from assistant import limits
from assistant.music.clips import ClipRefused, read_clip

pytestmark = pytest.mark.slow  # audio decoding


def files_in(folder: Path) -> set[Path]:
    return set(folder.rglob("*"))


def test_a_short_stereo_wav_is_read_as_mono_at_32_khz(tmp_path: Path) -> None:
    t = np.arange(44100 * 2) / 44100
    audio = 0.3 * np.sin(2 * np.pi * 440 * t)
    sf.write(tmp_path / "hum.wav", np.stack([audio, audio], axis=1), 44100)
    clip = read_clip(tmp_path / "hum.wav")
    assert clip.sample_rate == 32000 and clip.audio.ndim == 1 and clip.seconds == pytest.approx(2.0, abs=0.01)
    assert not clip.cut


def test_flac_and_ogg_are_read(tmp_path: Path) -> None:
    audio = 0.3 * np.sin(2 * np.pi * 330 * np.arange(32000) / 32000)
    for name in ("hum.flac", "hum.ogg"):
        sf.write(tmp_path / name, audio, 32000)
        assert read_clip(tmp_path / name).seconds == pytest.approx(1.0, abs=0.05)


def test_a_one_hour_file_is_cut_to_the_melody_limit_and_says_so(tmp_path: Path) -> None:
    rate = 1000  # 3.6 MB for an hour of 8-bit mono: under the size cap
    hour = (0.3 * np.sin(2 * np.pi * 110 * np.arange(3600 * rate) / rate)).astype(np.float32)
    sf.write(tmp_path / "hour.wav", hour, rate, subtype="PCM_U8")
    assert (tmp_path / "hour.wav").stat().st_size < limits.CLIP_MAX_BYTES
    clip = read_clip(tmp_path / "hour.wav")
    assert clip.cut and clip.seconds == limits.MELODY_MAX_S and clip.original_seconds == pytest.approx(3600)


@pytest.mark.parametrize("name, content, kind", [
    ("notes.wav", b"this is a text file, not a song\n" * 20, "unreadable"),
    ("empty.wav", b"", "empty"),
    ("big.wav", b"\0" * (limits.CLIP_MAX_BYTES + 1), "too_big"),
    ("song.exe", b"MZ" + b"\0" * 100, "format"),
])
def test_each_bad_file_gets_its_own_refusal_and_nothing_is_written(tmp_path: Path, name: str, content: bytes,
                                                                    kind: str) -> None:
    (tmp_path / name).write_bytes(content)
    before = files_in(tmp_path)
    with pytest.raises(ClipRefused) as refused:
        read_clip(tmp_path / name)
    assert refused.value.kind == kind and files_in(tmp_path) == before


def test_every_refusal_has_its_words() -> None:
    from assistant.wording import reply

    for kind, values in [("too_big", {"mb": "5"}), ("format", {"formats": "wav"}), ("empty", {}), ("silent", {}),
                         ("unreadable", {}), ("timeout", {"seconds": "10"})]:
        assert reply(f"clip_{kind}", **values)


def test_a_silent_clip_is_refused(tmp_path: Path) -> None:
    sf.write(tmp_path / "silence.wav", np.zeros(32000), 32000)
    with pytest.raises(ClipRefused) as refused:
        read_clip(tmp_path / "silence.wav")
    assert refused.value.kind == "silent"
