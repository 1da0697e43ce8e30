"""Turn a generation round into takes: MusicGen (the product) or the sketch synthesiser (offline).

Also the long-piece path: briefs longer than one 30 s window, or with several sections, are
generated section by section, each continuing from the tail of the audio before it, with
crossfaded joins. Every take is post-processed, analysed and written as a WAV named by the app.
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

from assistant import audio as post
from assistant import limits
from assistant.brief import MusicBrief
from assistant.musicgen import DEFAULT_MODEL, MAX_WINDOW_S, ChunkFn, MusicGenModel, MusicGenUnavailable
from assistant.render import render_prompt
from assistant.sketch import SAMPLE_RATE as SKETCH_RATE
from assistant.sketch import apply_mix as sketch_mix
from assistant.sketch import render_buses
from assistant.templates import reply
from assistant.state import Analysis, ProgressFn, Round, State, Take

log = logging.getLogger(__name__)
TAIL_S = 3.0  # audio prompt carried into the next section
CROSSFADE_S = 0.5
MIN_SECTION_S = 6.0


def section_plan(brief: MusicBrief) -> list[tuple[str | None, float]]:
    """(section or None, seconds) per generation window: one window when it fits, else per section."""
    sections = list(brief.structure.sections)
    total = brief.duration_s
    if total <= MAX_WINDOW_S and (len(sections) < 2 or total < 2 * MIN_SECTION_S):
        return [(None, total)]
    count = max(len(sections), int(np.ceil(total / MAX_WINDOW_S)))
    count = min(count, max(1, int(total // MIN_SECTION_S)))
    names = [sections[i * len(sections) // count] if sections else None for i in range(count)]
    return [(name, total / count) for name in names]


def crossfade(a: np.ndarray, b: np.ndarray, samples: int) -> np.ndarray:
    samples = min(samples, len(a), len(b))
    if samples == 0:
        return np.concatenate([a, b])
    ramp = np.linspace(0.0, 1.0, samples, dtype=np.float32)
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

    buses: tuple[np.ndarray, ...]  # MusicGen: (clip,); sketch: (main bus, pad bus)
    sample_rate: int
    sketch: bool

    @property
    def seconds(self) -> float:
        return len(self.buses[0]) / self.sample_rate

    def mixed(self, brief: MusicBrief) -> np.ndarray:
        if self.sketch:
            return sketch_mix(self.buses[0], self.buses[1], brief)
        return post.apply_mix_effects(self.buses[0], self.sample_rate, brief)


class UnmixedStore:
    """Recent takes' unmixed audio by file path, at most REMIX_SOURCE_S seconds in all, oldest out."""

    def __init__(self, max_seconds: float = limits.REMIX_SOURCE_S):
        self.max_seconds = max_seconds
        self._items: OrderedDict[str, Unmixed] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, path: str, source: Unmixed) -> None:
        source = Unmixed(tuple(b.astype(np.float32) for b in source.buses), source.sample_rate, source.sketch)
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

    @property
    def in_use(self) -> str:
        """What really plays: 'musicgen', or 'sketch' (chosen, or MusicGen unavailable)."""
        return "musicgen" if self.model is not None and self.unavailable is None else "sketch"

    def remix_round(self, rnd: Round, source: Round, folder_name: str = "session",
                    cancel: Optional[threading.Event] = None) -> Optional[list[Take]]:
        """`source`'s takes through `rnd`'s mix, without generating: well under a second for two
        10 s takes. None when a take's unmixed audio is gone (then the round is generated)."""
        sources = [self.unmixed.get(t.path) for t in source.takes]
        if not source.takes or any(s is None for s in sources):
            return None
        def remix(take: Take, unmixed: Unmixed) -> tuple[np.ndarray, Analysis, Take, Unmixed]:
            _check(cancel)
            stereo = post.normalise_loudness(unmixed.mixed(rnd.brief), unmixed.sample_rate, passes=1)
            bpm = take.analysis.bpm if take.analysis else None
            return stereo, post.analyse(stereo, unmixed.sample_rate, measured_bpm=bpm), take, unmixed

        with ThreadPoolExecutor(max_workers=len(sources)) as pool:  # the filters release the GIL
            mixed = list(pool.map(remix, source.takes, sources))
        _check(cancel)
        takes = []
        for stereo, analysis, take, unmixed in mixed:
            path = post.write_wav(self.output_dir / folder_name,
                                  post.take_filename(rnd.number, take.number, take.seed, unmixed.sketch),
                                  stereo, unmixed.sample_rate)
            self.unmixed.put(str(path), unmixed)
            takes.append(take.model_copy(update={"path": str(path), "analysis": analysis}))
        return takes

    def keep(self, paths: list[str]) -> None:
        remember_kept(paths)

    def render_round(self, state: State, folder_name: str = "session", progress: Optional[ProgressFn] = None,
                     cancel: Optional[threading.Event] = None,
                     on_chunk: Optional[ChunkFn] = None) -> tuple[list[Take], str]:
        """Takes for the last round; `cancel` (one per conversation) stops a generation between steps;
        `on_chunk` hears the opening of every take while it is generated (raw, before post-processing)."""
        rnd = state.rounds[-1]
        with generation_slot(cancel):
            return self._render(state, rnd, folder_name, progress, cancel, on_chunk)

    def _render(self, state: State, rnd, folder_name: str, progress: Optional[ProgressFn],
                cancel: Optional[threading.Event], on_chunk: Optional[ChunkFn]) -> tuple[list[Take], str]:
        brief = rnd.brief
        notes: list[str] = []
        clips: Optional[list[np.ndarray]] = None
        sources: list[Unmixed] = []
        sample_rate, sketch = SKETCH_RATE, True
        if self.model is not None and self.unavailable is None:
            try:
                clips, sample_rate = self._musicgen(brief, rnd.seeds, progress, cancel, on_chunk), self.model.sample_rate
                sketch = False
                sources = [Unmixed((clip,), sample_rate, False) for clip in clips]
            except MusicGenUnavailable as err:
                self.unavailable = str(err)
                notes.append(reply("musicgen_unavailable", error=str(err)))
        elif self.unavailable:
            notes.append("(Sketch synthesiser: MusicGen is unavailable on this machine.)")
        if clips is None:
            clips = []
            for index, seed in enumerate(rnd.seeds):
                if progress is not None:
                    progress(index / len(rnd.seeds), reply("progress_take", number=index + 1, total=len(rnd.seeds)))
                buses = render_buses(brief, seed, cancel=cancel)
                sources.append(Unmixed(buses, SKETCH_RATE, True))
                clips.append(sketch_mix(*buses, brief))
        finished = []
        for clip in clips:
            _check(cancel)
            stereo = clip if sketch else post.apply_mix_effects(clip, sample_rate, brief)
            stereo = post.normalise_loudness(stereo, sample_rate)
            finished.append((stereo, post.analyse(stereo, sample_rate, brief.tempo.bpm)))
        _check(cancel)  # the last moment to stop: a cancelled round writes no file at all
        takes = []
        folder = self.output_dir / folder_name
        for number, ((stereo, analysis), seed) in enumerate(zip(finished, rnd.seeds), start=1):
            path = post.write_wav(folder, post.take_filename(rnd.number, number, seed, sketch), stereo, sample_rate)
            takes.append(Take(number=number, seed=seed, path=str(path), duration_s=round(len(stereo) / sample_rate, 2),
                              sample_rate=sample_rate, analysis=analysis, sketch=sketch))
            if number <= len(sources):
                self.unmixed.put(str(path), sources[number - 1])
        kept = {t.path for r in state.rounds for t in r.takes if t.seed == state.kept_seed and t.path}
        with _LOCK:
            kept |= _KEPT
        removed = post.enforce_disk_limits(self.output_dir, folder, limits.MAX_FILES_PER_CONVERSATION,
                                           limits.MAX_TOTAL_MB, protect=kept | {t.path for t in takes},
                                           max_age_minutes=self.keep_files_minutes)
        if removed:
            notes.append(f"To stay within the disk limits ({limits.MAX_FILES_PER_CONVERSATION} files per "
                         f"conversation), {removed} older take file(s) were removed; kept takes stay.")
        notes += self._report(takes, brief)
        return takes, " ".join(notes)

    def _musicgen(self, brief: MusicBrief, seeds: list[int], progress: Optional[ProgressFn],
                  cancel: Optional[threading.Event], on_chunk: Optional[ChunkFn] = None) -> list[np.ndarray]:
        plan = section_plan(brief)
        negative = ", ".join(x for x in brief.exclude if x != "other instruments") or None
        out: Optional[list[np.ndarray]] = None
        for index, (section, seconds) in enumerate(plan):
            def part_progress(fraction: float, label: str, index: int = index) -> None:
                if progress is not None:  # MusicGen makes every take at once, in one batch
                    progress((index + fraction) / len(plan), reply("progress_batch", takes=len(seeds), part=index + 1,
                                                                  parts=len(plan)))

            prompt = render_prompt(brief, section=section)
            part_seeds = [(s + 7919 * index) % 2**32 for s in seeds]
            if out is None:
                out = self.model.generate([prompt] * len(seeds), part_seeds, seconds, progress=part_progress,
                                          cancel=cancel, on_chunk=on_chunk, negative_prompt=negative)
                continue
            tail = int(TAIL_S * self.model.sample_rate)
            prompts = [clip[-tail:] for clip in out]
            parts = self.model.generate([prompt] * len(seeds), part_seeds, seconds, audio_prompt=prompts,
                                        progress=part_progress, cancel=cancel, negative_prompt=negative)
            fade = int(CROSSFADE_S * self.model.sample_rate)
            # The continuation starts with the prompt it was given; keep a little of it to crossfade.
            out = [crossfade(clip, part[max(0, len(p) - fade):], fade) for clip, part, p in zip(out, parts, prompts)]
        return out or []

    @staticmethod
    def _report(takes: list[Take], brief: MusicBrief) -> list[str]:
        notes = []
        if takes and takes[0].sketch:
            notes.append("These are sketches from the built-in synthesiser, not MusicGen.")
        for take in takes:
            a = take.analysis
            if brief.tempo.bpm and a and a.bpm:
                notes.append(f"Asked {brief.tempo.bpm} BPM, take {take.number} measured {a.bpm:g}.")
            if a and a.silence_tail_s and a.silence_tail_s > 1.0:
                notes.append(f"Take {take.number} ends in {a.silence_tail_s:g} s of silence.")
        return notes


def build_renderer(setting: str, output_dir: Path, keep_files_minutes: float = 120.0) -> MusicRenderer:
    """`sketch`, `musicgen` (facebook/musicgen-small) or `musicgen:ID_OR_PATH`."""
    name, _, model_id = setting.partition(":")
    if name not in ("sketch", "musicgen"):
        raise ValueError(f"unknown music setting {setting!r}: use off, sketch or musicgen[:ID_OR_PATH]")
    return MusicRenderer(name, output_dir, model_id or DEFAULT_MODEL, keep_files_minutes)
