"""The sketch synthesiser: a deterministic, built-in rendering of a brief (numpy and scipy only).

For offline use, instant previews and tests. It is plainly a sketch, not MusicGen: drums, bass,
chords, pad and lead voiced from the palette, a genre-appropriate groove exactly at the brief's
BPM, the structure's sections in order with changing density, and the mix controls applied.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np
from scipy.signal import butter, oaconvolve, sosfilt

from assistant.brief import MusicBrief
from assistant.music.audio import apply_mix_effects
from assistant.vocab import vocabulary

SAMPLE_RATE = 32000
# Section density: which layers play (drums, bass, chords, pad, lead) and how loud the drums are.
DENSITY = {
    "intro": (0.0, 0.6, 0.5, 1.0, 0.0), "verse": (0.8, 1.0, 0.8, 0.6, 0.4), "chorus": (1.0, 1.0, 1.0, 0.8, 1.0),
    "build": (0.6, 0.8, 0.8, 1.0, 0.3), "drop": (1.0, 1.0, 0.7, 0.6, 1.0), "breakdown": (0.0, 0.5, 0.6, 1.0, 0.5),
    "bridge": (0.5, 0.8, 1.0, 0.8, 0.6), "outro": (0.4, 0.6, 0.6, 1.0, 0.0), "climax": (1.0, 1.0, 1.0, 1.0, 1.0),
}
DEFAULT_DENSITY = (0.8, 1.0, 0.8, 0.7, 0.6)
MINOR_PROGRESSION = [(0, 3, 7), (8, 12, 15), (3, 7, 10), (10, 14, 17)]  # i VI III VII
MAJOR_PROGRESSION = [(0, 4, 7), (7, 11, 14), (9, 12, 16), (5, 9, 12)]  # I V vi IV
DARK_MOODS = {"sad", "melancholic", "dark mood", "eerie", "ominous", "menacing", "suspenseful", "somber", "aggressive"}


def _hz(midi: float) -> float:
    return 440.0 * 2 ** ((midi - 69) / 12)


def _env(n: int, attack: float, decay: float) -> np.ndarray:
    t = np.arange(n) / SAMPLE_RATE
    return np.minimum(1.0, t / max(attack, 1e-4)) * np.exp(-t / max(decay, 1e-4))


def _tone(freq: float, n: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(n) / SAMPLE_RATE
    phase = rng.uniform(0, 2 * np.pi)
    if kind == "saw":
        return sum(np.sin(2 * np.pi * freq * k * t + phase) / k for k in range(1, 8)) * 0.6
    if kind == "square":
        return sum(np.sin(2 * np.pi * freq * k * t + phase) / k for k in range(1, 9, 2)) * 0.8
    return np.sin(2 * np.pi * freq * t + phase)


def _kick(n: int) -> np.ndarray:
    t = np.arange(n) / SAMPLE_RATE
    return np.sin(2 * np.pi * (45 + 90 * np.exp(-t * 30)) * t) * np.exp(-t * 9)


def _noise_hit(n: int, rng: np.random.Generator, decay: float, highpass: float) -> np.ndarray:
    sos = butter(2, highpass, "highpass", fs=SAMPLE_RATE, output="sos")
    return sosfilt(sos, rng.standard_normal(n)) * _env(n, 0.001, decay)


def _add(buf: np.ndarray, sound: np.ndarray, start: int, gain: float) -> None:
    end = min(len(buf), start + len(sound))
    if start < end:
        buf[start:end] += sound[: end - start] * gain


def _groove(feel: str, family: str) -> tuple[list[float], list[float], list[float], float]:
    """Kick, snare and hat positions in beats within one bar of 4, and the swing amount."""
    feel = feel or ""
    if "half" in feel or family == "hiphop":
        return [0.0, 2.5], [2.0], [i / 2 for i in range(8)], 0.0 if "half" in feel else 0.12
    if "breakbeat" in feel:
        return [0.0, 1.5, 2.5], [1.0, 3.0], [i / 2 for i in range(8)], 0.0
    if "swing" in feel or "swung" in feel or "shuffle" in feel:
        return [0.0, 2.0], [1.0, 3.0], [0, 1, 1.667, 2, 3, 3.667], 0.0
    return [0.0, 1.0, 2.0, 3.0], [1.0, 3.0], [i / 2 for i in range(8)], 0.0


PITCH_RATE = 16000  # the clip's pitches are tracked at this rate (pyin)
PITCH_HOP_S = 0.032  # one pitch every 32 ms


def melody_pitches(audio: np.ndarray, sample_rate: int) -> list[Optional[float]]:
    """The clip's sung or played pitch as MIDI numbers, one per PITCH_HOP_S (None where unvoiced),
    by librosa's pyin: what the sketch plays as its lead when a melody is given."""
    import librosa

    mono = audio.mean(axis=1) if audio.ndim == 2 else audio
    mono = librosa.resample(np.asarray(mono, dtype=np.float32), orig_sr=sample_rate, target_sr=PITCH_RATE)
    hop = int(PITCH_HOP_S * PITCH_RATE)
    f0, voiced, _ = librosa.pyin(mono, fmin=65.0, fmax=1050.0, sr=PITCH_RATE, frame_length=1024, hop_length=hop)
    return [float(librosa.hz_to_midi(f)) if v and np.isfinite(f) else None for f, v in zip(f0, voiced)]


def lead_notes(lead: list[Optional[float]], beat_s: float, count: int) -> list[Optional[int]]:
    """One lead note per beat from the clip's pitches: the median of that beat's voiced frames,
    looping the clip when the piece is longer (None: a rest)."""
    per_beat = max(1, int(round(beat_s / PITCH_HOP_S)))
    frames = len(lead)
    notes: list[Optional[int]] = []
    for i in range(count):
        start = (i * per_beat) % max(1, frames)
        voiced = [p for p in lead[start: start + per_beat] if p is not None]
        notes.append(int(round(float(np.median(voiced)))) if voiced else None)
    return notes


def bpm_of(brief: MusicBrief) -> float:
    """The tempo the sketch plays: the brief's, or its genre's usual one."""
    return brief.tempo.bpm or vocabulary().default_bpm(brief.style.genre)


def lead_after(lead: list[Optional[float]], seconds: float, bpm: float) -> list[Optional[float]]:
    """The clip's pitches from where a take of `seconds` left them: an extension of a take that
    follows a melody goes on with the melody instead of starting it again."""
    if not lead:
        return lead
    beat_s = 60.0 / bpm
    per_beat = max(1, int(round(beat_s / PITCH_HOP_S)))
    shift = (int(seconds / beat_s) * per_beat) % len(lead)
    return lead[shift:] + lead[:shift]


def render_sketch(brief: MusicBrief, seed: int, duration_s: float | None = None,
                  cancel: Optional[threading.Event] = None) -> np.ndarray:
    """Stereo float32 audio (samples, 2) at 32 kHz, reproducible from the brief and the seed.
    `cancel` is checked every bar: a Stop ends a long sketch within milliseconds."""
    return apply_mix(*render_buses(brief, seed, duration_s, cancel), brief)


@dataclass
class _Band:
    """What every bar of one sketch take plays with: its groove, its layers, its random stream."""

    rng: np.random.Generator
    spb: float  # samples per beat
    root: int
    kicks: Any
    snares: Any
    hats: Any
    swing: float
    layers: dict[str, Any]
    lead_kind: str
    followed: Optional[list[Optional[float]]]  # a melody the user gave, one note per beat


def render_buses(brief: MusicBrief, seed: int, duration_s: float | None = None,
                 cancel: Optional[threading.Event] = None,
                 progress: Optional[Callable[[float], None]] = None,
                 lead: Optional[list[Optional[float]]] = None) -> tuple[np.ndarray, np.ndarray]:
    """The sketch before its mix: (main bus, pad bus), mono. A mix edit re-mixes these in milliseconds.
    `progress` hears the share of bars written, every bar (a 3-minute take moves many times a second)."""
    rng = np.random.default_rng(seed)
    vocab = vocabulary()
    profile = vocab.genre(brief.style.genre)
    duration = duration_s or brief.duration_s
    n = int(duration * SAMPLE_RATE)
    beat = 60.0 / bpm_of(brief)
    moods = vocab.canonical_all("mood", brief.style.mood)
    progression = MINOR_PROGRESSION if moods & DARK_MOODS or brief.mix.brightness == "dark" else MAJOR_PROGRESSION
    root = 45 + int(rng.integers(0, 7))
    kicks, snares, hats, swing = _groove(brief.tempo.feel or (profile.feel if profile else ""),
                                         profile.family if profile else "")
    sections = list(brief.structure.sections) or ["verse"]
    bars_total = max(1, int(round(duration / (4 * beat))))
    band = _Band(rng=rng, spb=beat * SAMPLE_RATE, root=root, kicks=kicks, snares=snares, hats=hats, swing=swing,
                 layers=_layers(brief), lead_kind="square" if "8-bit" in " ".join(brief.palette.production) else "saw",
                 followed=lead_notes(lead, beat, 4 * (bars_total + 1)) if lead else None)
    mono = np.zeros(n + SAMPLE_RATE)
    pad_bus = np.zeros_like(mono)
    for bar in range(bars_total + 1):
        if cancel is not None and cancel.is_set():
            raise InterruptedError("generation cancelled")
        if progress is not None:
            progress(bar / (bars_total + 1))
        section = sections[min(len(sections) - 1, bar * len(sections) // max(1, bars_total))]
        _play_bar(band, mono, pad_bus, bar, progression[bar % len(progression)], DENSITY.get(section, DEFAULT_DENSITY))
    return mono[:n], pad_bus[:n]


def _layers(brief: MusicBrief) -> dict[str, Any]:
    """Which parts play: all of them, less what the brief excludes; with "no other instruments",
    only the families it names."""
    vocab = vocabulary()
    excluded = vocab.excluded(brief.exclude)
    families = {vocab.family_of(i) for i in brief.palette.instruments}
    only_some = bool(families) and "other instruments" in excluded
    return {"drums": "drums" not in excluded and (not only_some or "drums" in families),
            "bass": "bass" not in excluded and (not only_some or "bass" in families),
            "chords": not only_some or families & {"keys", "guitars", "strings"},
            "pad": not only_some or "keys" in families, "lead": not only_some or bool(families - {"drums", "bass"})}


def _play_bar(band: _Band, mono: np.ndarray, pad_bus: np.ndarray, bar: int, chord: Any, gains: Any) -> None:
    drum_g, bass_g, chord_g, pad_g, lead_g = gains
    rng, spb, root, layers = band.rng, band.spb, band.root, band.layers
    bar_start = bar * 4 * spb
    if layers["drums"] and drum_g:
        for pos in band.kicks:
            _add(mono, _kick(int(0.4 * SAMPLE_RATE)), int(bar_start + pos * spb), 0.9 * drum_g)
        for pos in band.snares:
            _add(mono, _noise_hit(int(0.2 * SAMPLE_RATE), rng, 0.06, 1500), int(bar_start + pos * spb), 0.35 * drum_g)
        for i, pos in enumerate(band.hats):
            shift = band.swing * spb if i % 2 else 0
            _add(mono, _noise_hit(int(0.05 * SAMPLE_RATE), rng, 0.015, 7000), int(bar_start + pos * spb + shift),
                 0.12 * drum_g)
    if layers["bass"] and bass_g:
        for pos in (0.0, 1.5, 2.0, 3.0):
            note = _tone(_hz(root - 12 + chord[0]), int(0.45 * spb), "saw", rng) * _env(int(0.45 * spb), 0.005, 0.25)
            _add(mono, note, int(bar_start + pos * spb), 0.3 * bass_g)
    if layers["chords"] and chord_g:
        for pos in (0.0, 2.0):
            length = int(1.8 * spb)
            stab = sum(_tone(_hz(root + 12 + iv), length, "sine", rng) for iv in chord) / 3
            _add(mono, stab * _env(length, 0.01, 0.6), int(bar_start + pos * spb), 0.25 * chord_g)
    if layers["pad"] and pad_g:
        length = int(4 * spb)
        pad = sum(_tone(_hz(root + 12 + iv), length, "saw", rng) for iv in chord) / 3
        _add(pad_bus, pad * _env(length, 0.5, 3.0), int(bar_start), 0.08 * pad_g)
    _play_lead(band, mono, bar, bar_start, chord, lead_g)


def _play_lead(band: _Band, mono: np.ndarray, bar: int, bar_start: float, chord: Any, lead_g: float) -> None:
    """The clip's melody, in its own pitch, on every bar; else a lead from the chord's notes."""
    length = int(0.9 * band.spb)
    if band.followed is not None:
        for step_i in range(4):
            note = band.followed[bar * 4 + step_i]
            if note is not None:
                _add(mono, _tone(_hz(note), length, band.lead_kind, band.rng) * _env(length, 0.01, 0.3),
                     int(bar_start + step_i * band.spb), 0.16)
    elif band.layers["lead"] and lead_g:
        for step_i in range(4):
            note = band.root + 24 + chord[int(band.rng.integers(0, 3))]
            _add(mono, _tone(_hz(note), length, band.lead_kind, band.rng) * _env(length, 0.01, 0.3),
                 int(bar_start + step_i * band.spb), 0.1 * lead_g)


def unmixed(dry: np.ndarray, pad: np.ndarray) -> np.ndarray:
    """The sketch as it leaves the synthesiser, like MusicGen's raw output: its own stereo image (the
    pad's delayed side) and room (a short convolution tail); the mix controls come after."""
    delay = int(0.012 * SAMPLE_RATE)
    side = np.concatenate([np.zeros(delay), pad[:-delay]]) * 0.3
    left, right = dry + pad + side, dry + pad - side
    impulse = np.random.default_rng(0).standard_normal(int(1.2 * SAMPLE_RATE)) * _env(int(1.2 * SAMPLE_RATE), 0.01, 0.35)
    impulse /= np.abs(impulse).sum() / 4
    left = left + 0.12 * oaconvolve(left, impulse)[: len(left)]
    right = right + 0.12 * oaconvolve(right, impulse[::-1])[: len(right)]
    stereo = np.stack([left, right], axis=1)
    peak = np.abs(stereo).max() or 1.0
    return (stereo / peak * 0.8).astype(np.float32)


def apply_mix(dry: np.ndarray, pad: np.ndarray, brief: MusicBrief) -> np.ndarray:
    """The sketch through the one mix-effects chain every take goes through (audio.apply_mix_effects)."""
    stereo = apply_mix_effects(unmixed(dry, pad), SAMPLE_RATE, brief)
    peak = np.abs(stereo).max() or 1.0
    return (stereo / peak * 0.8).astype(np.float32) if peak > 0.8 else stereo
