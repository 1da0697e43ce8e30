"""The melody chromagram, computed to MusicgenMelodyFeatureExtractor's definition (torchaudio can't
be installed with our torch): worked examples a musician can check."""
import numpy as np
import pytest

pytestmark = pytest.mark.slow  # torch and librosa


def tone(hz: float, seconds: float = 3.0, rate: int = 32000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_a_pure_a4_is_bin_a_in_every_frame() -> None:
    from assistant.music.chroma import HOP, melody_chroma, pitch_classes

    chroma = melody_chroma(tone(440.0))
    assert chroma.shape == (1 + 3 * 32000 // HOP, 12)
    assert set(pitch_classes(chroma)) == {"A"}
    assert chroma.sum(dim=-1).tolist() == [1.0] * chroma.shape[0]  # one-hot


def test_a_c_major_arpeggio_reads_c_e_g_in_order() -> None:
    from assistant.music.chroma import melody_chroma, pitch_classes

    notes = np.concatenate([tone(hz, 1.0) for hz in (261.63, 329.63, 392.0)])
    read = pitch_classes(melody_chroma(notes))
    assert read[2:6] == ["C"] * 4 and read[10:14] == ["E"] * 4 and read[18:22] == ["G"] * 4


def test_stereo_44k_is_read_as_mono_32k_and_cut_at_30_s() -> None:
    from assistant import limits
    from assistant.music.chroma import HOP, melody_chroma, pitch_classes

    long = tone(440.0, 40.0, 44100)
    chroma = melody_chroma(np.stack([long, long], axis=1), 44100)
    assert chroma.shape[0] == 1 + int(limits.MELODY_MAX_S * 32000) // HOP
    assert set(pitch_classes(chroma)) == {"A"}


def test_a_clip_shorter_than_one_window_still_gives_a_frame() -> None:
    from assistant.music.chroma import melody_chroma, pitch_classes

    assert pitch_classes(melody_chroma(tone(440.0, 0.2)))[0] == "A"
