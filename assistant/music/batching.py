"""Generations from different users that arrive together run as one batch.

On an H100 a decode step for 4 takes costs 1.04x a step for 1 take (shared/perf/h100-decode-step.md):
the step is launch- and memory-bound, so one GPU serves many users only if their takes share steps.
Requests with the same batch key (length, guidance, sampling, text bucket) that arrive within
BATCH_WINDOW_S of the first are run as one generation. Each take keeps its own seed, and the
counter-based noise (or the per-take generators) makes a take the same alone or in any batch, so
batching changes nobody's take.

Every member keeps its own progress, streamed chunks (its own takes' slice) and cancel: a cancelled
member leaves at once with InterruptedError and its rows are ignored; the batch stops only when
every member has gone. A member whose callback fails leaves with that error; the others go on.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Optional

import numpy as np

from assistant.compute import CANCEL_POLL_S
from assistant.limits import BATCH_WINDOW_S, MAX_BATCH_TAKES
from assistant.takes import ChunkFn, ProgressFn

log = logging.getLogger(__name__)

@dataclass
class _Member:
    prompts: list[str]
    seeds: list[int]
    progress: Optional[ProgressFn]
    cancel: Optional[threading.Event]
    on_chunk: Optional[ChunkFn]
    offset: int = 0  # its first take's row in the batch
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: Optional[BaseException] = None
    gone: bool = False  # cancelled, or its callback failed: its rows are ignored from now on

    @property
    def cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()


@dataclass
class _Batch:
    key: Hashable
    options: dict
    members: list[_Member] = field(default_factory=list)

    @property
    def takes(self) -> int:
        return sum(len(m.seeds) for m in self.members)


class _EveryoneGone:
    """The batch's cancel: set once every member is cancelled or gone."""

    def __init__(self, batch: _Batch):
        self.batch = batch

    def is_set(self) -> bool:
        return all(m.gone or m.cancelled for m in self.batch.members)


class BatchScheduler:
    """`submit` blocks like a generation and returns this member's share of a batched one.
    `run(prompts, seeds, progress=, cancel=, on_chunk=, **options)` is the model's own generation
    (returns assistant.music.musicgen.Generated); `pad_takes` rounds a batch's take count up (graph
    shapes), padding with copies of its last take whose rows are dropped."""

    def __init__(self, run: Callable[..., Any], window_s: float = BATCH_WINDOW_S,
                 max_takes: int = MAX_BATCH_TAKES, pad_takes: Optional[Callable[[int], int]] = None):
        self.run, self.window_s, self.max_takes, self.pad_takes = run, window_s, max_takes, pad_takes
        self._open: dict[Hashable, _Batch] = {}
        self._lock = threading.Lock()
        self.batches = self.batched_requests = 0  # for the bench and the log

    def submit(self, key: Hashable, prompts: list[str], seeds: list[int], progress: Optional[ProgressFn] = None,
               cancel: Optional[threading.Event] = None, on_chunk: Optional[ChunkFn] = None, **options: Any) -> Any:
        member = _Member(list(prompts), list(seeds), progress, cancel, on_chunk)
        with self._lock:
            batch = self._open.get(key)
            leads = batch is None or batch.takes + len(seeds) > self.max_takes
            if leads:
                batch = _Batch(key, options)
                self._open[key] = batch
            member.offset = batch.takes
            batch.members.append(member)
        if leads:
            threading.Thread(target=self._gather_and_run, args=(batch,), daemon=True,
                             name="musicgen-batch").start()
        while not member.done.wait(CANCEL_POLL_S):
            if member.cancelled:
                member.gone = True
                raise InterruptedError("generation cancelled")
        if member.error is not None:
            raise member.error
        return member.result

    def _gather_and_run(self, batch: _Batch) -> None:
        time.sleep(self.window_s)  # others with the same key join within the window
        with self._lock:
            if self._open.get(batch.key) is batch:
                del self._open[batch.key]
        members = batch.members
        prompts = [p for m in members for p in m.prompts]
        seeds = [s for m in members for s in m.seeds]
        real = len(seeds)
        padded = self.pad_takes(real) if self.pad_takes else real
        prompts += [prompts[-1]] * (padded - real)
        seeds += [seeds[-1]] * (padded - real)
        self.batches += 1
        self.batched_requests += len(members)
        if len(members) > 1:
            log.info("one batch for %d requests (%d takes, %d rows)", len(members), real, padded)
        try:
            made = self.run(prompts, seeds, progress=lambda f, label: self._fan_progress(members, f, label),
                            cancel=_EveryoneGone(batch), on_chunk=lambda chunk: self._fan_chunk(members, chunk),
                            **batch.options)
        except BaseException as err:  # noqa: BLE001 - every member hears how its batch ended
            for m in members:
                m.error = m.error or err
                m.done.set()
            return
        for m in members:
            if m.error is None:
                m.result = made.share(m.offset, len(m.seeds))
            m.done.set()

    @staticmethod
    def _fan_progress(members: list[_Member], fraction: float, label: str) -> None:
        for m in members:
            if m.progress is not None and not m.gone:
                _call(m, m.progress, fraction, label)

    @staticmethod
    def _fan_chunk(members: list[_Member], chunk: list[np.ndarray]) -> None:
        for m in members:
            if m.on_chunk is not None and not m.gone:
                _call(m, m.on_chunk, chunk[m.offset:m.offset + len(m.seeds)])


def _call(member: _Member, callback: Callable[..., None], *args: Any) -> None:
    """A member's own callback; if it fails, that member leaves with the error, the batch goes on."""
    try:
        callback(*args)
    except Exception as err:  # noqa: BLE001 - one user's failure is theirs alone
        member.error, member.gone = err, True
        member.done.set()
