"""Audio after generation: loudness, mix effects, analysis and WAV files.

Loudness is normalised to a streaming target with pyloudnorm; the mix controls are applied as
effects with pedalboard, so "a bit darker" is audible at once; every take is analysed (BPM with
half/double-tempo allowance, loudness, trailing silence, clipping) and the result travels with it.
"""
from __future__ import annotations

import re
import shutil
import time
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import soundfile as sf

from assistant import limits
from assistant.brief import MusicBrief
from assistant.music.loudness import integrated_loudness
from assistant.takes import Analysis, DiskFull

TARGET_LUFS = -14.0
TRUE_PEAK_CEILING = 0.89  # about -1 dBTP
SILENCE_DB = -50.0


def normalise_loudness(audio: np.ndarray, sample_rate: int, target_lufs: float = TARGET_LUFS,
                       passes: int = 3, on_pass: Optional[Callable[[], None]] = None) -> np.ndarray:
    """Integrated loudness to the target, then a peak ceiling so nothing clips. One pass (an
    instant re-mix) lands within about a dB; three settle it to 0.5 LU."""
    return normalised(audio, sample_rate, target_lufs, passes, on_pass)[0]


def resampled(audio: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Mono float32 at `target` samples a second (unchanged when the rates agree)."""
    if rate == target:
        return np.asarray(audio, dtype=np.float32)
    import librosa

    return librosa.resample(np.asarray(audio, dtype=np.float32), orig_sr=rate, target_sr=target)


def normalised(audio: np.ndarray, sample_rate: int, target_lufs: float = TARGET_LUFS, passes: int = 3,
               on_pass: Optional[Callable[[], None]] = None) -> tuple[np.ndarray, Optional[float]]:
    """normalise_loudness, and the loudness it ends at (measured, then moved by the exact gain of
    the last scaling), so the analysis needn't measure the take again."""
    if len(audio) < sample_rate // 2 or not np.any(audio):
        return audio, None
    import pedalboard as pb

    limiter = pb.Pedalboard([pb.Limiter(threshold_db=-1.5, release_ms=80)])
    for _ in range(passes):  # gain, then limit the peaks the gain pushed over, then re-measure
        loudness = integrated_loudness(audio, sample_rate)
        if on_pass is not None:  # a long take's progress moves between passes
            on_pass()
        if not np.isfinite(loudness) or abs(loudness - target_lufs) < 0.5:
            break
        audio = audio * (10 ** ((target_lufs - loudness) / 20))
        stereo = audio.T if audio.ndim == 2 else audio[None, :]
        limited = limiter(stereo.astype(np.float32), sample_rate)
        audio = limited.T if audio.ndim == 2 else limited[0]
    loudness = integrated_loudness(audio, sample_rate)
    if np.isfinite(loudness) and loudness > target_lufs:  # turning down never clips
        audio = audio * (10 ** ((target_lufs - loudness) / 20))
        loudness = target_lufs
    peak = np.abs(audio).max()
    if peak > TRUE_PEAK_CEILING:
        audio = audio * (TRUE_PEAK_CEILING / peak)
        loudness += 20 * np.log10(TRUE_PEAK_CEILING / peak)
    return audio.astype(np.float32), (float(loudness) if np.isfinite(loudness) else None)


def apply_mix_effects(audio: np.ndarray, sample_rate: int, brief: MusicBrief) -> np.ndarray:
    """Mono or stereo in, stereo out: brightness as filters, space as reverb, width by mid/side."""
    import pedalboard as pb

    if audio.ndim == 1:
        audio = np.stack([audio, audio], axis=1)
    effects = []
    if brief.mix.brightness == "dark":
        effects.append(pb.LowShelfFilter(cutoff_frequency_hz=250, gain_db=2.0))
        effects.append(pb.HighShelfFilter(cutoff_frequency_hz=3000, gain_db=-6.0))
    elif brief.mix.brightness == "bright":
        effects.append(pb.HighShelfFilter(cutoff_frequency_hz=4000, gain_db=4.0))
    if brief.mix.space == "reverberant":
        effects.append(pb.Reverb(room_size=0.7, wet_level=0.25, dry_level=0.85))
    out = pb.Pedalboard(effects)(audio.T.astype(np.float32), sample_rate).T if effects else audio
    width = {"wide": 1.5, "narrow": 0.3}.get(brief.mix.width or "", 1.0)
    if width != 1.0:
        mid, side = (out[:, 0] + out[:, 1]) / 2, (out[:, 0] - out[:, 1]) / 2 * width
        out = np.stack([mid + side, mid - side], axis=1)
    return out.astype(np.float32)


def estimate_bpm(audio: np.ndarray, sample_rate: int, expected: Optional[float] = None) -> Optional[float]:
    """librosa's tempo, folded by halves and doubles towards the asked tempo when there is one."""
    import librosa

    mono = audio.mean(axis=1) if audio.ndim == 2 else audio
    if len(mono) < 2 * sample_rate or not np.any(mono):
        return None
    excerpt = int(limits.BPM_ANALYSIS_S * sample_rate)  # a steady tempo reads the same from its middle
    if len(mono) > excerpt:
        middle = (len(mono) - excerpt) // 2
        mono = mono[middle: middle + excerpt]
    onset = librosa.onset.onset_strength(y=mono.astype(np.float32), sr=sample_rate, hop_length=256)
    tempo = float(np.atleast_1d(librosa.feature.tempo(onset_envelope=onset, sr=sample_rate, hop_length=256,
                                                      start_bpm=expected or 120))[0])
    if expected and tempo > 0:
        tempo = min((tempo * f for f in (0.5, 1.0, 2.0, 2 / 3, 1.5)), key=lambda t: abs(t - expected))
    return round(tempo, 1)


def analyse(audio: np.ndarray, sample_rate: int, expected_bpm: Optional[float] = None,
            measured_bpm: Optional[float] = None, loudness_lufs: Optional[float] = None) -> Analysis:
    """`measured_bpm` skips the tempo estimate when it is known (a re-mix keeps the tempo), and
    `loudness_lufs` the loudness measurement (normalised() has just measured it)."""
    mono = audio.mean(axis=1) if audio.ndim == 2 else audio
    loudness = round(loudness_lufs, 1) if loudness_lufs is not None else None
    if loudness is None and len(audio) >= sample_rate // 2 and np.any(audio):
        value = integrated_loudness(audio, sample_rate)
        loudness = round(float(value), 1) if np.isfinite(value) else None
    threshold = 10 ** (SILENCE_DB / 20)
    loud = np.nonzero(np.abs(mono) > threshold)[0]
    silence_tail = (len(mono) - 1 - loud[-1]) / sample_rate if len(loud) else len(mono) / sample_rate
    bpm = measured_bpm if measured_bpm is not None else estimate_bpm(audio, sample_rate, expected_bpm)
    return Analysis(bpm=bpm, loudness_lufs=loudness,
                    silence_tail_s=round(float(silence_tail), 2), clipped=bool(np.abs(audio).max() >= 0.999))


def take_filename(round_number: int, take_number: int, seed: int, sketch: bool) -> str:
    """Names come from the app, never from user text."""
    kind = "sketch" if sketch else "take"
    return f"round{round_number:02d}-{kind}{take_number}-seed{seed}.wav"


def write_wav(folder: Path, name: str, audio: np.ndarray, sample_rate: int) -> Path:
    """One take as 16-bit PCM. A write that fails (a full disk) leaves no partial file behind."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+\.wav", name):
        raise ValueError(f"unsafe file name {name!r}")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    try:
        sf.write(path, audio, sample_rate, subtype="PCM_16")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def wav_bytes(audio: np.ndarray) -> int:
    """What write_wav will put on disk for `audio`: 16-bit samples and a header."""
    return int(audio.size) * 2 + 44


def enforce_disk_limits(root: Path, folder: Path, max_files: int, max_total_mb: float,
                        protect: set[str], max_age_minutes: Optional[float] = None,
                        incoming_files: int = 0, incoming_bytes: int = 0) -> int:
    """One pass over the output folder, before a round writes (its `incoming_*` counted as if
    written) and after: WAVs older than `max_age_minutes` go; then this conversation keeps at most
    `max_files`, its own oldest first; then the whole root keeps at most `max_total_mb` (or what the
    disk has free, less DISK_RESERVE_MB: a full disk recovers), oldest first wherever they are. A protected file (a kept take, or one just made) goes only by age. Raises DiskFull
    when the incoming round still doesn't fit. Returns how many went to meet the size limits (the
    age clean-up is routine)."""
    everything = sorted(root.rglob("*.wav"), key=lambda p: p.stat().st_mtime) if root.exists() else []
    if max_age_minutes is not None:
        cutoff = time.time() - max_age_minutes * 60
        for path in [p for p in everything if p.stat().st_mtime < cutoff]:
            path.unlink(missing_ok=True)
            everything.remove(path)
    removed = 0
    mine = [p for p in everything if p.parent == folder and str(p) not in protect]
    excess = len([p for p in everything if p.parent == folder]) + incoming_files - max_files
    for path in mine[: max(0, excess)]:
        path.unlink(missing_ok=True)
        everything.remove(path)
        removed += 1
    sizes = {p: p.stat().st_size for p in everything}
    total, limit = sum(sizes.values()) + incoming_bytes, max_total_mb * 1e6
    if incoming_bytes and root.exists():  # a disk fuller than the limit (other files, a small volume) counts too
        limit = min(limit, total - incoming_bytes + shutil.disk_usage(root).free - limits.DISK_RESERVE_MB * 1e6)
    for path in list(everything):
        if total <= limit:
            break
        if str(path) in protect:
            continue
        total -= sizes[path]
        path.unlink(missing_ok=True)
        everything.remove(path)
        removed += 1
    if incoming_bytes and total > limit:
        raise DiskFull(held=len([p for p in everything if p.parent == folder]), used_mb=(total - incoming_bytes) / 1e6,
                       limit_mb=max_total_mb)
    return removed
