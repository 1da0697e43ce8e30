"""A user's audio clip, read safely: the one input an attacker fully controls.

Only the formats people upload (wav, flac, ogg, mp3, m4a), only up to CLIP_MAX_BYTES, decoded with a
time limit (soundfile in a worker thread; ffmpeg in a subprocess for what libsndfile can't read), to
mono at the model's rate, and at most MELODY_MAX_S seconds of it (longer clips are cut, and told).
Every refusal is a ClipRefused with a kind the session words from prompts/replies.yaml."""
from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as DecodeTimeout
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant import limits

FORMATS = {".wav", ".flac", ".ogg", ".mp3", ".m4a"}
SAMPLE_RATE = 32000
_DECODER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clip-decode")  # one decode at a time


class ClipRefused(ValueError):
    """kind: too_big | format | empty | unreadable | timeout"""

    def __init__(self, kind: str, **values: object):
        super().__init__(kind)
        self.kind, self.values = kind, values


@dataclass
class Clip:
    audio: np.ndarray  # mono float32 at SAMPLE_RATE, at most MELODY_MAX_S seconds
    sample_rate: int
    seconds: float  # what is kept
    original_seconds: float  # how long the file was (a longer one is cut)

    @property
    def cut(self) -> bool:
        return self.original_seconds > self.seconds + 0.01


def read_clip(path: str | Path) -> Clip:
    """The clip at `path`, or ClipRefused saying why not. Never writes anything."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ClipRefused("format", formats=", ".join(sorted(f[1:] for f in FORMATS)))
    size = path.stat().st_size if path.exists() else 0
    if size == 0:
        raise ClipRefused("empty")
    if size > limits.CLIP_MAX_BYTES:
        raise ClipRefused("too_big", mb=f"{limits.CLIP_MAX_BYTES / 1e6:g}")
    future = _DECODER.submit(_decode, path)
    try:
        audio, rate, original = future.result(timeout=limits.CLIP_DECODE_TIMEOUT_S)
    except DecodeTimeout:
        raise ClipRefused("timeout", seconds=f"{limits.CLIP_DECODE_TIMEOUT_S:g}") from None
    if audio.size == 0 or not np.isfinite(audio).all():
        raise ClipRefused("empty" if audio.size == 0 else "unreadable")
    mono = audio.mean(axis=1) if audio.ndim == 2 else audio
    if rate != SAMPLE_RATE:
        import librosa

        mono = librosa.resample(mono.astype(np.float32), orig_sr=rate, target_sr=SAMPLE_RATE)
    mono = np.asarray(mono, dtype=np.float32)[: int(limits.MELODY_MAX_S * SAMPLE_RATE)]
    if not np.any(mono):
        raise ClipRefused("silent")
    return Clip(audio=mono, sample_rate=SAMPLE_RATE, seconds=round(len(mono) / SAMPLE_RATE, 2),
                original_seconds=round(original, 2))


def _decode(path: Path) -> tuple[np.ndarray, int, float]:
    """(samples, rate, seconds in the file): only the first MELODY_MAX_S seconds are decoded."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
        frames = int(min(info.frames, limits.MELODY_MAX_S * info.samplerate))
        audio, rate = sf.read(str(path), frames=frames, dtype="float32", always_2d=False)
        return audio, rate, info.frames / info.samplerate if info.samplerate else 0.0
    except (RuntimeError, sf.LibsndfileError, ValueError):
        pass  # not something libsndfile reads (m4a, or not audio at all)
    return _ffmpeg(path)


def _ffmpeg(path: Path) -> tuple[np.ndarray, int, float]:
    if shutil.which("ffmpeg") is None:
        raise ClipRefused("unreadable")
    command = ["ffmpeg", "-v", "error", "-nostdin", "-t", f"{limits.MELODY_MAX_S:g}", "-i", str(path),
               "-f", "f32le", "-ac", "1", "-ar", str(SAMPLE_RATE), "pipe:1"]
    try:
        done = subprocess.run(command, capture_output=True, timeout=limits.CLIP_DECODE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise ClipRefused("timeout", seconds=f"{limits.CLIP_DECODE_TIMEOUT_S:g}") from None
    if done.returncode != 0 or not done.stdout:
        raise ClipRefused("unreadable")
    audio = np.frombuffer(done.stdout, dtype=np.float32).copy()
    return audio, SAMPLE_RATE, _probe_seconds(path) or len(audio) / SAMPLE_RATE


def _probe_seconds(path: Path) -> float:
    if shutil.which("ffprobe") is None:
        return 0.0
    try:
        out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
                             capture_output=True, text=True, timeout=limits.CLIP_DECODE_TIMEOUT_S, check=False)
        return float(out.stdout.strip() or 0.0)
    except (subprocess.TimeoutExpired, ValueError):
        return 0.0
