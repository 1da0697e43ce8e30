"""Turn a round's request into takes: MusicGen (the product) or the sketch synthesiser (offline).

Also the long-piece path: the request's windows (assistant.render decides them and their text)
are generated in turn, each continuing from the tail of the audio before it, with crossfaded
joins. Every take is post-processed, analysed and written as a WAV named by the app.
"""
from __future__ import annotations

import contextlib
import logging
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import numpy as np

from assistant import limits
from assistant.brief import MusicBrief
from assistant.music import audio as post
from assistant.music.musicgen import DEFAULT_MODEL, ChunkFn, MusicGenModel, MusicGenUnavailable
from assistant.music.sketch import SAMPLE_RATE as SKETCH_RATE
from assistant.music.sketch import unmixed as unmixed_sketch
from assistant.music.sketch import melody_pitches, render_buses
from assistant.music.takes import Analysis, Note, ProgressFn, RenderRequest, Take, Window
from assistant.templates import reply

log = logging.getLogger(__name__)
TAIL_S = 3.0  # audio prompt carried into the next section
SKETCH_SYNTH_SHARE = 0.35  # of a sketch take's time, measured on 3-minute takes; the mix and analysis take the rest
FINISH_STEPS = 6  # progress points while a take is finished: the mix, up to four loudness passes, the analysis
MUSICGEN_SHARE = 0.95  # of a MusicGen round's time; the mix and analysis of its takes take the rest
CROSSFADE_S = 0.5


def crossfade(a: np.ndarray, b: np.ndarray, samples: int) -> np.ndarray:
    samples = min(samples, len(a), len(b))
    if samples == 0:
        return np.concatenate([a, b])
    ramp = np.linspace(0.0, 1.0, samples, dtype=np.float32)
    if a.ndim == 2:  # stereo (samples, channels)
        ramp = ramp[:, None]
    return np.concatenate([a[:-samples], a[-samples:] * (1 - ramp) + b[:samples] * ramp, b[samples:]])


_SLOTS = threading.BoundedSemaphore(limits.MAX_CONCURRENT_GENERATIONS)
_KEPT: set[str] = set()  # every conversation's kept takes: the shared size limit never removes them
_LOCK = threading.Lock()  # guards _KEPT and _running
_running = [0]


def remember_kept(paths: list[str]) -> None:
    """A take someone kept survives the total-size limit, whoever else fills the disk."""
    with _LOCK:
        _KEPT.update(p for p in paths if p)


@contextlib.contextmanager
def generation_slot(cancel: Optional[threading.Event]) -> Iterator[None]:
    """At most MAX_CONCURRENT_GENERATIONS generations in the whole process, whoever calls (web
    events, API clients, the CLI): the Gradio queue alone counts per event. A cancel while waiting
    leaves the queue without generating."""
    while not _SLOTS.acquire(timeout=0.05):
        _check(cancel)
    with _LOCK:
        _running[0] += 1
        log.info("generation started (%d running)", _running[0])
    try:
        yield
    finally:
        with _LOCK:
            _running[0] -= 1
            log.info("generation ended (%d running)", _running[0])
        _SLOTS.release()


def _check(cancel: Optional[threading.Event]) -> None:
    if cancel is not None and cancel.is_set():
        raise InterruptedError("generation cancelled")


@dataclass
class Unmixed:
    """A take before its mix effects: what an instant mix edit starts from."""

    audio: np.ndarray  # MusicGen's raw clip, or the sketch as it leaves the synthesiser
    sample_rate: int
    sketch: bool

    @property
    def seconds(self) -> float:
        return len(self.audio) / self.sample_rate

    def mixed(self, brief: MusicBrief) -> np.ndarray:
        """Through the one mix-effects chain, whichever backend made the take."""
        return post.apply_mix_effects(self.audio, self.sample_rate, brief)


class UnmixedStore:
    """Recent takes' unmixed audio by file path, at most REMIX_SOURCE_S seconds in all, oldest out."""

    def __init__(self, max_seconds: float = limits.REMIX_SOURCE_S):
        self.max_seconds = max_seconds
        self._items: OrderedDict[str, Unmixed] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, path: str, source: Unmixed) -> None:
        source = Unmixed(source.audio.astype(np.float32), source.sample_rate, source.sketch)
        with self._lock:
            self._items[path] = source
            self._items.move_to_end(path)
            while sum(s.seconds for s in self._items.values()) > self.max_seconds and len(self._items) > 1:
                self._items.popitem(last=False)

    def get(self, path: Optional[str]) -> Optional[Unmixed]:
        with self._lock:
            return self._items.get(path) if path else None


class MusicRenderer:
    """Renders rounds with MusicGen, falling back to the sketch synthesiser with one clear notice."""

    def __init__(self, backend: str, output_dir: Path, model_id: str = DEFAULT_MODEL,
                 keep_files_minutes: float = 120.0):
        self.backend = backend
        self.output_dir = Path(output_dir)
        self.keep_files_minutes = keep_files_minutes
        self.model = MusicGenModel(model_id) if backend == "musicgen" else None
        self.unavailable: Optional[str] = None
        self.unmixed = UnmixedStore()
        self._pitch_cache: list[tuple[np.ndarray, list[Optional[float]]]] = []

    @property
    def sample_rate(self) -> int:
        return self.model.sample_rate if self.in_use == "musicgen" else SKETCH_RATE

    @property
    def in_use(self) -> str:
        """What really plays: 'musicgen', or 'sketch' (chosen, or MusicGen unavailable)."""
        return "musicgen" if self.model is not None and self.unavailable is None else "sketch"

    def remix_round(self, request: RenderRequest, source: list[Take], folder_name: str = "session",
                    cancel: Optional[threading.Event] = None, progress: Optional[ProgressFn] = None
                    ) -> Optional[tuple[list[Take], list[Note]]]:
        """`source` takes through the request's mix, without generating: well under a second for two
        10 s takes. None when a take's unmixed audio is gone (then the round is generated)."""
        sources = [self.unmixed.get(t.path) for t in source]
        if not source or any(s is None for s in sources):
            return None
        def remix(take: Take, unmixed: Unmixed) -> tuple[np.ndarray, Analysis, Take, Unmixed]:
            _check(cancel)
            stereo, lufs = post.normalised(unmixed.mixed(request.brief), unmixed.sample_rate, passes=1)
            bpm = take.analysis.bpm if take.analysis else None
            return stereo, post.analyse(stereo, unmixed.sample_rate, measured_bpm=bpm, loudness_lufs=lufs), take, unmixed

        label = reply("progress_remix", takes=len(source))
        if progress is not None:  # a long take's re-mix takes seconds: the chat says so
            progress(0.0, label)
        with ThreadPoolExecutor(max_workers=len(sources)) as pool:  # the filters release the GIL
            mixed = list(pool.map(remix, source, sources))
        if progress is not None:
            progress(0.9, label)
        _check(cancel)
        takes = []
        folder = self.output_dir / folder_name
        for stereo, analysis, take, unmixed in mixed:
            path = post.write_wav(folder, post.take_filename(request.round_number, take.number, take.seed,
                                                             unmixed.sketch), stereo, unmixed.sample_rate)
            self.unmixed.put(str(path), unmixed)
            takes.append(take.model_copy(update={"path": str(path), "analysis": analysis}))
        return takes, self._within_disk_limits(folder, takes, request.keep_paths)

    def extend_take(self, request: RenderRequest, source: Take, extra_s: float, folder_name: str = "session",
                    cancel: Optional[threading.Event] = None, progress: Optional[ProgressFn] = None
                    ) -> Optional[tuple[list[Take], list[Note]]]:
        """`source` continued from its end for `extra_s` seconds, crossfaded: its own unmixed audio, then
        more of the same brief and seed (MusicGen continues from the take's last TAIL_S seconds; the
        sketch plays on). None when the take's unmixed audio is gone (then the round is generated)."""
        unmixed = self.unmixed.get(source.path)
        if unmixed is None or (not unmixed.sketch and (self.model is None or self.unavailable)):
            return None
        rate, fade = unmixed.sample_rate, int(CROSSFADE_S * unmixed.sample_rate)
        seed = (source.seed + 7919) % 2**32  # the next part's seed, as the windows of a long piece
        label = reply("progress_extend", number=source.number)
        with generation_slot(cancel):
            if unmixed.sketch:
                def bars(fraction: float) -> None:
                    if progress is not None:
                        progress(0.5 * fraction, label)

                new = unmixed_sketch(*render_buses(request.brief, seed, duration_s=extra_s + CROSSFADE_S,
                                                   cancel=cancel, progress=bars))
            else:
                tail = unmixed.audio[-int(TAIL_S * rate):]
                part = self.model.generate([request.windows[-1].prompt], [seed], extra_s, audio_prompt=[tail],
                                           progress=lambda f, _: progress(0.9 * f, label) if progress else None,
                                           cancel=cancel, negative_prompt=request.negative_prompt)[0]
                new = part[max(0, len(tail) - fade):]
        joined = crossfade(unmixed.audio, new.astype(np.float32), fade)[: int(round(request.brief.duration_s * rate))]
        _check(cancel)
        if progress is not None:
            progress(0.9, label)
        stereo, lufs = post.normalised(post.apply_mix_effects(joined, rate, request.brief), rate)
        analysis = post.analyse(stereo, rate, request.brief.tempo.bpm, measured_bpm=source.analysis.bpm
                                if source.analysis else None, loudness_lufs=lufs)
        _check(cancel)
        folder = self.output_dir / folder_name
        path = post.write_wav(folder, post.take_filename(request.round_number, 1, source.seed, unmixed.sketch),
                              stereo, rate)
        self.unmixed.put(str(path), Unmixed(joined, rate, unmixed.sketch))
        take = Take(number=1, seed=source.seed, path=str(path), duration_s=round(len(stereo) / rate, 2),
                    sample_rate=rate, analysis=analysis, sketch=unmixed.sketch)
        return [take], self._within_disk_limits(folder, [take], request.keep_paths)

    def _within_disk_limits(self, folder: Path, made: list[Take], keep_paths: list[str]) -> list[Note]:
        """After every round that wrote files: old and surplus WAVs go, never a kept or just-made take."""
        with _LOCK:
            kept = set(keep_paths) | _KEPT
        removed = post.enforce_disk_limits(self.output_dir, folder, limits.MAX_FILES_PER_CONVERSATION,
                                           limits.MAX_TOTAL_MB, protect=kept | {t.path for t in made},
                                           max_age_minutes=self.keep_files_minutes)
        return [Note(kind="disk_removed", values={"limit": limits.MAX_FILES_PER_CONVERSATION,
                                                  "removed": removed})] if removed else []

    def keep(self, paths: list[str]) -> None:
        remember_kept(paths)

    def render_round(self, request: RenderRequest, folder_name: str = "session",
                     progress: Optional[ProgressFn] = None, cancel: Optional[threading.Event] = None,
                     on_chunk: Optional[ChunkFn] = None, melody: Optional[np.ndarray] = None
                     ) -> tuple[list[Take], list[Note]]:
        """Takes for one round; `cancel` (one per conversation) stops a generation between steps;
        `on_chunk` hears the opening of every take while it is generated (raw, before post-processing)."""
        with generation_slot(cancel):
            return self._render(request, folder_name, progress, cancel, on_chunk, melody)

    def _render(self, request: RenderRequest, folder_name: str, progress: Optional[ProgressFn],
                cancel: Optional[threading.Event], on_chunk: Optional[ChunkFn],
                melody: Optional[np.ndarray] = None) -> tuple[list[Take], list[Note]]:
        brief, seeds = request.brief, request.seeds
        notes: list[Note] = []
        clips: Optional[list[np.ndarray]] = None
        sources: list[Unmixed] = []
        sample_rate, sketch = SKETCH_RATE, True
        if self.model is not None and self.unavailable is None:
            try:
                clips = self._musicgen(request, progress, cancel, on_chunk, melody)
                sample_rate, sketch = self.model.sample_rate, False
                if melody is not None and not self.model.melody:
                    notes.append(Note(kind="melody_needs_model"))
                sources = [Unmixed(clip, sample_rate, False) for clip in clips]
            except MusicGenUnavailable as err:
                self.unavailable = str(err)
                notes.append(Note(kind="unavailable", values={"error": str(err)}))
        elif self.unavailable:
            notes.append(Note(kind="still_unavailable"))
        made = MUSICGEN_SHARE
        lead = None
        if clips is None and melody is not None:
            lead = self._pitches_of(melody)  # the sketch plays what it heard in the clip
            notes.append(Note(kind="melody_sketch"))
        if clips is None:
            clips, made = [], SKETCH_SYNTH_SHARE
            for index, seed in enumerate(seeds):
                label = reply("progress_take", number=index + 1, total=len(seeds))

                def bars(fraction: float, index: int = index, label: str = label) -> None:
                    if progress is not None:  # the synthesis is the first share of the round's work
                        progress(SKETCH_SYNTH_SHARE * (index + fraction) / len(seeds), label)

                buses = render_buses(brief, seed, cancel=cancel, progress=bars, lead=lead)
                clips.append(unmixed_sketch(*buses))
                sources.append(Unmixed(clips[-1], SKETCH_RATE, True))
        finished = []
        for index, clip in enumerate(clips):
            _check(cancel)
            label = reply("progress_finish", number=index + 1, total=len(clips))
            steps = iter(range(FINISH_STEPS))

            def step(index: int = index, label: str = label, steps: Iterator[int] = steps) -> None:
                if progress is not None:  # mix, each loudness pass, analysis: a 3-minute take moves every second
                    progress(made + (1 - made) * (index + next(steps, FINISH_STEPS - 1) / FINISH_STEPS) / len(clips),
                             label)

            step()
            stereo = post.apply_mix_effects(clip, sample_rate, brief)  # one chain for MusicGen and the sketch
            stereo, lufs = post.normalised(stereo, sample_rate, on_pass=step)
            step()
            finished.append((stereo, post.analyse(stereo, sample_rate, brief.tempo.bpm, loudness_lufs=lufs)))
        _check(cancel)  # the last moment to stop: a cancelled round writes no file at all
        takes = []
        folder = self.output_dir / folder_name
        for number, ((stereo, analysis), seed) in enumerate(zip(finished, seeds), start=1):
            path = post.write_wav(folder, post.take_filename(request.round_number, number, seed, sketch), stereo,
                                  sample_rate)
            takes.append(Take(number=number, seed=seed, path=str(path), duration_s=round(len(stereo) / sample_rate, 2),
                              sample_rate=sample_rate, analysis=analysis, sketch=sketch))
            self.unmixed.put(str(path), sources[number - 1])  # one source per clip, from either backend
        notes += self._within_disk_limits(folder, takes, request.keep_paths)
        return takes, notes + self._report(takes, brief)

    def _pitches_of(self, melody: np.ndarray) -> list[Optional[float]]:
        """pyin takes seconds on a 30 s clip: each clip's pitches are tracked once (the last two kept)."""
        for audio, pitches in self._pitch_cache:
            if audio is melody:
                return pitches
        pitches = melody_pitches(melody, SKETCH_RATE)
        self._pitch_cache = [*self._pitch_cache[-1:], (melody, pitches)]
        return pitches

    def _musicgen(self, request: RenderRequest, progress: Optional[ProgressFn],
                  cancel: Optional[threading.Event], on_chunk: Optional[ChunkFn] = None,
                  melody: Optional[np.ndarray] = None) -> list[np.ndarray]:
        """The request's windows in turn, exactly as assistant.render wrote them. With a melody (on a
        MusicGen-melody model) every window follows the clip; they are joined by crossfades."""
        seeds, windows = request.seeds, request.windows
        out: Optional[list[np.ndarray]] = None
        for index, window in enumerate(windows):
            def part_progress(fraction: float, label: str, index: int = index) -> None:
                if progress is not None:  # MusicGen makes every take at once, in one batch
                    progress(MUSICGEN_SHARE * (index + fraction) / len(windows), reply("progress_batch", takes=len(seeds),
                                                                     part=index + 1, parts=len(windows)))

            part_seeds = [(s + 7919 * index) % 2**32 for s in seeds]
            texts = [window.prompt] * len(seeds)
            if melody is not None and self.model.melody:
                parts = self.model.generate(texts, part_seeds, window.seconds, progress=part_progress, cancel=cancel,
                                            on_chunk=on_chunk if out is None else None, melody=melody)
                fade = int(CROSSFADE_S * self.model.sample_rate)
                out = parts if out is None else [crossfade(a, b, fade) for a, b in zip(out, parts)]
                continue
            if out is None:
                out = self.model.generate(texts, part_seeds, window.seconds, progress=part_progress, cancel=cancel,
                                          on_chunk=on_chunk, negative_prompt=request.negative_prompt)
                continue
            tail = int(TAIL_S * self.model.sample_rate)
            prompts = [clip[-tail:] for clip in out]
            parts = self.model.generate(texts, part_seeds, window.seconds, audio_prompt=prompts,
                                        progress=part_progress, cancel=cancel, negative_prompt=request.negative_prompt)
            fade = int(CROSSFADE_S * self.model.sample_rate)
            # The continuation starts with the prompt it was given; keep a little of it to crossfade.
            out = [crossfade(clip, part[max(0, len(p) - fade):], fade) for clip, part, p in zip(out, parts, prompts)]
        return out or []

    @staticmethod
    def _report(takes: list[Take], brief: MusicBrief) -> list[Note]:
        notes = [Note(kind="sketch")] if takes and takes[0].sketch else []
        for take in takes:
            a = take.analysis
            if brief.tempo.bpm and a and a.bpm:
                notes.append(Note(kind="bpm_measured", values={"asked": brief.tempo.bpm, "number": take.number,
                                                                "measured": f"{a.bpm:g}"}))
            if a and a.silence_tail_s and a.silence_tail_s > 1.0:
                notes.append(Note(kind="silent_tail", values={"number": take.number,
                                                               "seconds": f"{a.silence_tail_s:g}"}))
        return notes


def build_renderer(setting: str, output_dir: Path, keep_files_minutes: float = 120.0) -> MusicRenderer:
    """`sketch`, `musicgen` (facebook/musicgen-small) or `musicgen:ID_OR_PATH`."""
    name, _, model_id = setting.partition(":")
    if name not in ("sketch", "musicgen"):
        raise ValueError(f"unknown music setting {setting!r}: use off, sketch or musicgen[:ID_OR_PATH]")
    return MusicRenderer(name, output_dir, model_id or DEFAULT_MODEL, keep_files_minutes)
