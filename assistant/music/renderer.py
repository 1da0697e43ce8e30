"""Turn a round's request into takes: MusicGen (the product) or the sketch synthesiser (offline).

Also the long-piece path: the request's windows (assistant.prompt.render decides them and their text)
are generated in turn, each continuing from the last tokens of the window before it (its own
EnCodec codes, never decoded and re-encoded), with crossfaded joins. Extending a take and
continuing a clip go the same way. Every take is post-processed, analysed and written as a WAV
named by the app.
"""
from __future__ import annotations

import contextlib
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import numpy as np

from assistant import limits
from assistant.brief import MusicBrief
from assistant.bounded import BoundedStore
from assistant.compute import one_at_a_time
from assistant.music import audio as post
from assistant.music.clips import SAMPLE_RATE as CLIP_RATE
from assistant.music.musicgen import DEFAULT_MODEL, ChunkFn, MusicGenModel, MusicGenUnavailable, batching_by_default
from assistant.music.generation import GenerationParams
from assistant.music.sketch import SAMPLE_RATE as SKETCH_RATE
from assistant.music.sketch import unmixed as unmixed_sketch
from assistant.music.sketch import bpm_of, lead_after, melody_pitches, render_buses
from assistant.takes import Analysis, Note, ProgressFn, RenderRequest, Take, Window
from assistant.facts import Fact, fact

log = logging.getLogger(__name__)
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


_SLOTS: list[threading.BoundedSemaphore] = []  # one, sized on first use by concurrent_generations()
_KEPT: BoundedStore[str, list[str]] = BoundedStore(limits.MAX_CONVERSATIONS_KEPT)  # folder -> the files its user kept
_LOCK = threading.Lock()  # guards _running
_running = [0]


def remember_kept(folder_name: str, paths: list[str]) -> None:
    """The files a conversation's user kept (each its own file, never a later re-mix of it; the last
    MAX_KEPT_PER_CONVERSATION) survive the size limits, whoever else fills the disk."""
    _KEPT.put(folder_name, [p for p in paths if p][-limits.MAX_KEPT_PER_CONVERSATION:])


def kept_everywhere(own: list[str]) -> set[str]:
    """Every conversation's kept files, and this one's."""
    return set(own) | {p for paths in _KEPT.values() for p in paths}


def concurrent_generations() -> int:
    """Rounds in flight at once in the whole process. Where MusicGen batches users together (a GPU),
    rounds that run at once share decode steps, so more run: MAX_BATCHED_GENERATIONS; elsewhere
    each round has the cores to itself: MAX_CONCURRENT_GENERATIONS."""
    return limits.MAX_BATCHED_GENERATIONS if batching_by_default() else limits.MAX_CONCURRENT_GENERATIONS


def _slots() -> threading.BoundedSemaphore:
    with _LOCK:
        if not _SLOTS:
            _SLOTS.append(threading.BoundedSemaphore(concurrent_generations()))
        return _SLOTS[0]


@contextlib.contextmanager
def generation_slot(cancel: Optional[threading.Event]) -> Iterator[None]:
    """At most concurrent_generations() generations in the whole process, whoever calls (web
    events, API clients, the CLI): the Gradio queue alone counts per event. A cancel while waiting
    leaves the queue without generating."""
    with one_at_a_time(_slots(), cancel):
        with _LOCK:
            _running[0] += 1
            log.info("generation started (%d running)", _running[0])
        try:
            yield
        finally:
            with _LOCK:
                _running[0] -= 1
                log.info("generation ended (%d running)", _running[0])


def _check(cancel: Optional[threading.Event]) -> None:
    if cancel is not None and cancel.is_set():
        raise InterruptedError("generation cancelled")


@dataclass
class Unmixed:
    """A take before its mix effects: what an instant mix edit starts from."""

    audio: np.ndarray  # MusicGen's raw clip, or the sketch as it leaves the synthesiser
    sample_rate: int
    sketch: bool
    codes: Optional[np.ndarray] = None  # MusicGen's tokens of the take's last window (codebooks, frames): it continues from them

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
        self._items: BoundedStore[str, Unmixed] = BoundedStore(max_seconds, weight=lambda s: s.seconds)

    def put(self, path: str, source: Unmixed) -> None:
        self._items.put(path, Unmixed(source.audio.astype(np.float32), source.sample_rate, source.sketch, source.codes))

    def get(self, path: Optional[str]) -> Optional[Unmixed]:
        return self._items.get(path) if path else None


class MusicRenderer:
    """Renders rounds with MusicGen, falling back to the sketch synthesiser with one clear notice."""

    def __init__(self, backend: str, output_dir: Path, model_id: str = DEFAULT_MODEL,
                 keep_files_minutes: float = limits.KEEP_FILES_MINUTES):
        self.backend = backend
        self.output_dir = Path(output_dir)
        self.keep_files_minutes = keep_files_minutes
        self.model = MusicGenModel(model_id) if backend == "musicgen" else None
        self.unavailable: Optional[Fact] = None  # why MusicGen can't play here, coded
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

        label = fact("progress_remix", takes=len(source))
        if progress is not None:  # a long take's re-mix takes seconds: the chat says so
            progress(0.0, label)
        with ThreadPoolExecutor(max_workers=len(sources)) as pool:  # the filters release the GIL
            mixed = list(pool.map(remix, source, sources))
        if progress is not None:
            progress(0.9, label)
        _check(cancel)
        folder = self.output_dir / folder_name
        paths = self._save(request, folder, [(post.take_filename(request.round_number, take.number, take.seed,
                                                                 unmixed.sketch), stereo, unmixed.sample_rate)
                                             for stereo, _, take, unmixed in mixed])
        takes = []
        for path, (stereo, analysis, take, unmixed) in zip(paths, mixed):
            self.unmixed.put(str(path), unmixed)
            takes.append(take.model_copy(update={"path": str(path), "analysis": analysis}))
        return takes, self._within_disk_limits(folder, takes, request.keep_paths)

    def extend_take(self, request: RenderRequest, source: Take, extra_s: float, folder_name: str = "session",
                    cancel: Optional[threading.Event] = None, progress: Optional[ProgressFn] = None,
                    melody: Optional[np.ndarray] = None) -> Optional[tuple[list[Take], list[Note]]]:
        """`source` continued from its end for `extra_s` seconds, crossfaded: its own unmixed audio, then
        more of the same brief and seed (MusicGen continues from the take's own last tokens; the sketch
        plays on, on with the melody it follows). None when the take's unmixed audio is gone (then the
        round is generated)."""
        unmixed = self.unmixed.get(source.path)
        if unmixed is None or (not unmixed.sketch and (self.model is None or self.unavailable)):
            return None
        label = fact("progress_extend", number=source.number)
        with generation_slot(cancel):
            joined = self._continued([unmixed], [(source.seed + 7919) % (limits.SEED_MAX + 1)], extra_s, request, melody,
                                     lambda f: progress(0.9 * f, label) if progress else None, cancel)
        if progress is not None:
            progress(0.9, label)
        bpm = source.analysis.bpm if source.analysis else None
        takes = self._write(request, joined, [source.seed], folder_name, cancel, measured_bpm=bpm, clip=source.clip)
        return takes, self._within_disk_limits(self.output_dir / folder_name, takes, request.keep_paths)

    def continue_clip(self, request: RenderRequest, clip: np.ndarray, extra_s: float, folder_name: str = "session",
                      cancel: Optional[threading.Event] = None, progress: Optional[ProgressFn] = None
                      ) -> tuple[list[Take], list[Note]]:
        """"Continue this" with a clip: a take per seed that starts with the clip (mono at CLIP_RATE)
        and goes on for `extra_s` seconds, crossfaded. MusicGen continues the clip's EnCodec codes; the
        sketch can't continue audio, so it plays on after the clip with the clip's melody as its lead."""
        notes: list[Note] = []
        sources: Optional[list[Unmixed]] = None
        label = fact("progress_continue_clip")
        with generation_slot(cancel):
            if self.model is not None and self.unavailable is None:
                try:
                    audio = post.resampled(clip, CLIP_RATE, self.model.sample_rate)
                    codes = self.model.encode(audio[-int(limits.CONTINUATION_CONTEXT_S * self.model.sample_rate):],
                                              self.model.sample_rate)
                    sources = [Unmixed(audio, self.model.sample_rate, False, codes) for _ in request.seeds]
                except MusicGenUnavailable as err:
                    self.unavailable = err.fact
                    notes.append(Note(kind="unavailable", values={"error": err.fact}))
            elif self.unavailable:
                notes.append(Note(kind="still_unavailable"))
            if sources is None:
                stereo = np.repeat(post.resampled(clip, CLIP_RATE, SKETCH_RATE)[:, None], 2, axis=1)  # as the sketch's own
                sources = [Unmixed(stereo, SKETCH_RATE, True) for _ in request.seeds]
                notes.append(Note(kind="continue_sketch"))
            joined = self._continued(sources, request.seeds, extra_s, request, clip if sources[0].sketch else None,
                                     lambda f: progress(0.9 * f, label) if progress else None, cancel)
        takes = self._write(request, joined, request.seeds, folder_name, cancel, clip="continues")
        return takes, notes + self._within_disk_limits(self.output_dir / folder_name, takes, request.keep_paths)

    def _continued(self, sources: list[Unmixed], seeds: list[int], extra_s: float, request: RenderRequest,
                   melody: Optional[np.ndarray], progress: Callable[[float], None],
                   cancel: Optional[threading.Event]) -> list[Unmixed]:
        """Each source (one per seed) continued for `extra_s` seconds and crossfaded, unmixed: MusicGen
        from the source's own last tokens, part by part (each at most a window less its context); the
        sketch from the melody it follows, where the source left it."""
        rate, fade = sources[0].sample_rate, int(CROSSFADE_S * sources[0].sample_rate)
        total = int(round((sources[0].seconds + extra_s) * rate))
        if sources[0].sketch:  # every source is as long: the melody goes on from the same place in each
            lead = lead_after(self._pitches_of(melody), sources[0].seconds, bpm_of(request.brief)) \
                if melody is not None else None
            out = []
            for index, (source, seed) in enumerate(zip(sources, seeds)):
                new = unmixed_sketch(*render_buses(request.brief, seed, duration_s=extra_s + CROSSFADE_S, cancel=cancel,
                                                   lead=lead, progress=lambda f, i=index: progress((i + f) / len(sources))))
                out.append(Unmixed(crossfade(source.audio, new.astype(np.float32), fade)[:total], rate, True))
            return out
        audio = [s.audio for s in sources]
        codes = [s.codes if s.codes is not None else
                 self.model.encode(s.audio[-int(limits.CONTINUATION_CONTEXT_S * rate):], rate) for s in sources]
        hop = int(round(rate / self.model.frame_rate))
        context = int(limits.CONTINUATION_CONTEXT_S * self.model.frame_rate)
        part_max = limits.MUSICGEN_WINDOW_S - limits.CONTINUATION_CONTEXT_S
        done, parts = 0.0, max(1, int(np.ceil(extra_s / part_max - 1e-9)))
        for part in range(parts):
            seconds = min(part_max, extra_s - done)
            prompt = np.stack([c[:, -context:] for c in codes])
            made = self.model.generate_with_codes(
                [request.windows[-1].prompt] * len(seeds), [(s + 7919 * part) % (limits.SEED_MAX + 1) for s in seeds],
                GenerationParams(duration_s=seconds, negative_prompt=request.negative_prompt),
                prompt_codes=prompt, cancel=cancel,
                melody=melody if self.model.melody else None,
                progress=lambda f, _, p=part: progress((p + f) / parts))
            start = max(0, prompt.shape[-1] * hop - fade)  # the part starts with the prompt: keep a little to crossfade
            audio = [crossfade(a, new[start:], fade) for a, new in zip(audio, made.audio)]
            codes = list(made.codes) if made.codes is not None else codes
            done += seconds
        return [Unmixed(a[:total], rate, False, c) for a, c in zip(audio, codes)]

    def _write(self, request: RenderRequest, sources: list[Unmixed], seeds: list[int], folder_name: str,
               cancel: Optional[threading.Event], measured_bpm: Optional[float] = None,
               clip: Optional[str] = None) -> list[Take]:
        """Continued takes through the brief's mix, analysed and written; their unmixed audio kept."""
        finished = []
        for source in sources:
            _check(cancel)
            stereo, lufs = post.normalised(source.mixed(request.brief), source.sample_rate)
            finished.append((stereo, post.analyse(stereo, source.sample_rate, request.brief.tempo.bpm,
                                                  measured_bpm=measured_bpm, loudness_lufs=lufs)))
        _check(cancel)  # a cancelled round writes no file at all
        folder, takes = self.output_dir / folder_name, []
        paths = self._save(request, folder, [(post.take_filename(request.round_number, number, seed, source.sketch),
                                              stereo, source.sample_rate) for number, (source, seed, (stereo, _))
                                             in enumerate(zip(sources, seeds, finished), start=1)])
        for number, (path, source, seed, (stereo, analysis)) in enumerate(zip(paths, sources, seeds, finished), start=1):
            rate = source.sample_rate
            self.unmixed.put(str(path), source)
            takes.append(Take(number=number, seed=seed, path=str(path), duration_s=round(len(stereo) / rate, 2),
                              sample_rate=rate, analysis=analysis, sketch=source.sketch, clip=clip))
        return takes

    def _save(self, request: RenderRequest, folder: Path, files: list[tuple[str, np.ndarray, int]]) -> list[Path]:
        """A round's WAVs, all or none: room is made first (the limits run as if they were written, and
        DiskFull says when only kept takes are left), and a write that fails removes what this round
        had written."""
        post.enforce_disk_limits(self.output_dir, folder, limits.MAX_FILES_PER_CONVERSATION, limits.MAX_TOTAL_MB,
                                 protect=kept_everywhere(request.keep_paths), max_age_minutes=self.keep_files_minutes,
                                 incoming_files=len(files), incoming_bytes=sum(post.wav_bytes(a) for _, a, _ in files))
        written: list[Path] = []
        try:
            for name, audio, rate in files:
                written.append(post.write_wav(folder, name, audio, rate))
        except BaseException:
            for path in written:
                path.unlink(missing_ok=True)
            raise
        return written

    def _within_disk_limits(self, folder: Path, made: list[Take], keep_paths: list[str]) -> list[Note]:
        """After every round that wrote files: old and surplus WAVs go, never a kept or just-made take."""
        removed = post.enforce_disk_limits(self.output_dir, folder, limits.MAX_FILES_PER_CONVERSATION,
                                           limits.MAX_TOTAL_MB, protect=kept_everywhere(keep_paths) |
                                           {t.path for t in made}, max_age_minutes=self.keep_files_minutes)
        return [Note(kind="disk_removed", values={"limit": limits.MAX_FILES_PER_CONVERSATION,
                                                  "removed": removed})] if removed else []

    def keep(self, paths: list[str], folder_name: str = "session") -> None:
        remember_kept(folder_name, paths)

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
                clips, codes = self._musicgen(request, progress, cancel, on_chunk, melody)
                sample_rate, sketch = self.model.sample_rate, False
                if melody is not None and not self.model.melody:
                    notes.append(Note(kind="melody_needs_model"))
                sources = [Unmixed(clip, sample_rate, False, None if codes is None else codes[i])
                           for i, clip in enumerate(clips)]
            except MusicGenUnavailable as err:
                self.unavailable = err.fact
                notes.append(Note(kind="unavailable", values={"error": err.fact}))
        elif self.unavailable:
            notes.append(Note(kind="still_unavailable"))
        made = MUSICGEN_SHARE
        lead = None
        if clips is None and melody is not None:
            lead = self._pitches_of(melody)  # the sketch plays what it heard in the clip
            notes.append(Note(kind="melody_sketch"))
        if clips is None:
            clips, made = self._sketch_clips(brief, seeds, progress, cancel, lead), SKETCH_SYNTH_SHARE
            sources = [Unmixed(clip, SKETCH_RATE, True) for clip in clips]
        heard = melody is not None and (sketch or self.model.melody)  # a MusicGen without melody weights can't
        followed = "follows" if heard else None
        finished = self._finished(clips, sample_rate, brief, made, progress, cancel)
        _check(cancel)  # the last moment to stop: a cancelled round writes no file at all
        takes = []
        folder = self.output_dir / folder_name
        paths = self._save(request, folder, [(post.take_filename(request.round_number, number, seed, sketch), stereo,
                                              sample_rate) for number, ((stereo, _), seed)
                                             in enumerate(zip(finished, seeds), start=1)])
        for number, (path, (stereo, analysis), seed) in enumerate(zip(paths, finished, seeds), start=1):
            takes.append(Take(number=number, seed=seed, path=str(path), duration_s=round(len(stereo) / sample_rate, 2),
                              sample_rate=sample_rate, analysis=analysis, sketch=sketch, clip=followed))
            self.unmixed.put(str(path), sources[number - 1])  # one source per clip, from either backend
        notes += self._within_disk_limits(folder, takes, request.keep_paths)
        return takes, notes + self._report(takes, brief)

    @staticmethod
    def _sketch_clips(brief: MusicBrief, seeds: list[int], progress: Optional[ProgressFn],
                      cancel: Optional[threading.Event], lead: Optional[list[Optional[float]]]) -> list[np.ndarray]:
        """The sketch's takes, unmixed; the synthesis is the first share of the round's work."""
        clips = []
        for index, seed in enumerate(seeds):
            label = fact("progress_take", number=index + 1, total=len(seeds))

            def bars(fraction: float, index: int = index, label: Any = label) -> None:
                if progress is not None:
                    progress(SKETCH_SYNTH_SHARE * (index + fraction) / len(seeds), label)

            clips.append(unmixed_sketch(*render_buses(brief, seed, cancel=cancel, progress=bars, lead=lead)))
        return clips

    @staticmethod
    def _finished(clips: list[np.ndarray], sample_rate: int, brief: MusicBrief, made: float,
                  progress: Optional[ProgressFn], cancel: Optional[threading.Event]) -> list[tuple[np.ndarray, Analysis]]:
        """Each take mixed, normalised and analysed: one chain for MusicGen and the sketch. Mix, each
        loudness pass and the analysis move the progress, so a 3-minute take moves every second."""
        finished = []
        for index, clip in enumerate(clips):
            _check(cancel)
            label = fact("progress_finish", number=index + 1, total=len(clips))
            steps = iter(range(FINISH_STEPS))

            def step(index: int = index, label: Any = label, steps: Iterator[int] = steps) -> None:
                if progress is not None:
                    progress(made + (1 - made) * (index + next(steps, FINISH_STEPS - 1) / FINISH_STEPS) / len(clips),
                             label)

            step()
            stereo = post.apply_mix_effects(clip, sample_rate, brief)
            stereo, lufs = post.normalised(stereo, sample_rate, on_pass=step)
            step()
            finished.append((stereo, post.analyse(stereo, sample_rate, brief.tempo.bpm, loudness_lufs=lufs)))
        return finished

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
                  melody: Optional[np.ndarray] = None) -> tuple[list[np.ndarray], Optional[np.ndarray]]:
        """The request's windows in turn, exactly as assistant.prompt.render wrote them, each continuing the
        last CONTINUATION_CONTEXT_S seconds of tokens before it and crossfaded into it; with a melody
        (on a MusicGen-melody model) every window follows the clip. The takes' audio, and the codes of
        their last window."""
        seeds, windows = request.seeds, request.windows
        out: Optional[list[np.ndarray]] = None
        codes: Optional[np.ndarray] = None
        rate = self.model.sample_rate
        fade, hop = int(CROSSFADE_S * rate), int(round(rate / self.model.frame_rate))
        follow = melody if melody is not None and self.model.melody else None
        for index, window in enumerate(windows):
            # the context and the window stay within the model's window where they can
            context_s = min(limits.CONTINUATION_CONTEXT_S,
                            max(limits.CONTINUATION_MIN_CONTEXT_S, limits.MUSICGEN_WINDOW_S - window.seconds))
            context = int(context_s * self.model.frame_rate)
            def part_progress(fraction: float, label: str, index: int = index) -> None:
                if progress is not None:  # MusicGen makes every take at once, in one batch
                    progress(MUSICGEN_SHARE * (index + fraction) / len(windows), fact("progress_batch", takes=len(seeds),
                                                                     part=index + 1, parts=len(windows)))

            part_seeds = [(s + 7919 * index) % (limits.SEED_MAX + 1) for s in seeds]
            texts = [window.prompt] * len(seeds)
            params = GenerationParams(duration_s=window.seconds, negative_prompt=request.negative_prompt)
            if out is None:
                made = self.model.generate_with_codes(texts, part_seeds, params, progress=part_progress,
                                                      cancel=cancel, on_chunk=on_chunk, melody=follow)
                out, codes = made.audio, made.codes
                continue
            if codes is not None:  # from the window's own tokens: no decode and re-encode between them
                prompt = codes[:, :, -context:]
                made = self.model.generate_with_codes(texts, part_seeds, params, prompt_codes=prompt,
                                                      progress=part_progress, cancel=cancel, melody=follow)
                starts = [prompt.shape[-1] * hop] * len(seeds)
            else:  # transformers' generate() keeps no codes: its audio's tail, re-encoded
                tails = [clip[-int(context_s * rate):] for clip in out]
                made = self.model.generate_with_codes(texts, part_seeds, params, audio_prompt=tails,
                                                      progress=part_progress, cancel=cancel)
                starts = [len(t) for t in tails]
            # The continuation starts with the prompt it was given; keep a little of it to crossfade.
            out = [crossfade(clip, part[max(0, start - fade):], fade) for clip, part, start in zip(out, made.audio, starts)]
            codes = made.codes
        return out or [], codes

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


def build_renderer(setting: str, output_dir: Path, keep_files_minutes: float = limits.KEEP_FILES_MINUTES) -> MusicRenderer:
    """`sketch`, `musicgen` (facebook/musicgen-small) or `musicgen:ID_OR_PATH`."""
    name, _, model_id = setting.partition(":")
    if name not in ("sketch", "musicgen"):
        raise ValueError(f"unknown music setting {setting!r}: use off, sketch or musicgen[:ID_OR_PATH]")
    return MusicRenderer(name, output_dir, model_id or DEFAULT_MODEL, keep_files_minutes)
