"""The melody a clip carries, as MusicGen-melody reads it: a one-hot chromagram.

transformers' MusicgenMelodyFeatureExtractor computes this through torchaudio, which has no build for
our pinned torch, so it is computed here to the same definition: mono at 32 kHz, at most 30 s, a
Hann-windowed 16384-point STFT every 4096 samples (centred, reflect padding), power spectrum, the 12
chroma filters of librosa (tuning 0, bin 0 = C), each frame scaled by its maximum, then only the
loudest pitch class kept (one-hot). The model's `input_features` are these frames, (batch, frames, 12)."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from assistant import limits

SAMPLE_RATE = 32000
N_FFT = 16384
HOP = 4096
N_CHROMA = 12
PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


@lru_cache(maxsize=1)
def _filters() -> torch.Tensor:
    import librosa

    bank = librosa.filters.chroma(sr=SAMPLE_RATE, n_fft=N_FFT, n_chroma=N_CHROMA, tuning=0.0)
    return torch.from_numpy(np.asarray(bank, dtype=np.float32))  # (12, N_FFT // 2 + 1)


def to_model_rate(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mono float32 at 32 kHz, at most MELODY_MAX_S seconds."""
    mono = np.asarray(audio, dtype=np.float32)
    mono = mono.mean(axis=1) if mono.ndim == 2 else mono
    if sample_rate != SAMPLE_RATE:
        import librosa

        mono = librosa.resample(mono, orig_sr=sample_rate, target_sr=SAMPLE_RATE).astype(np.float32)
    return mono[: int(limits.MELODY_MAX_S * SAMPLE_RATE)]


def melody_chroma(audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> torch.Tensor:
    """(frames, 12) one-hot float32: the loudest pitch class of each 128 ms frame."""
    wave = torch.from_numpy(to_model_rate(audio, sample_rate))
    if len(wave) < N_FFT:  # too short for one window: centred in silence, as the extractor pads it
        missing = N_FFT - len(wave)
        wave = torch.nn.functional.pad(wave, (missing // 2, missing - missing // 2))
    spectrum = torch.stft(wave, n_fft=N_FFT, hop_length=HOP, win_length=N_FFT, window=torch.hann_window(N_FFT),
                          center=True, pad_mode="reflect", return_complex=True)
    power = spectrum.abs() ** 2  # (bins, frames)
    chroma = _filters() @ power  # (12, frames)
    chroma = chroma / chroma.amax(dim=0, keepdim=True).clamp_min(1e-6)
    one_hot = torch.zeros_like(chroma).scatter_(0, chroma.argmax(dim=0, keepdim=True), 1.0)
    return one_hot.T.contiguous()


def pitch_classes(chroma: torch.Tensor) -> list[str]:
    """'A' for each frame: what a test or a reply can read."""
    return [PITCH_CLASSES[int(i)] for i in chroma.argmax(dim=-1)]
