"""The decode step as fixed-shape tensor work, so a GPU can replay it as a CUDA graph.

On an H100 the eager loop spends its 15 ms step launching kernels; the GPU needs about 2 ms
(shared/perf/h100-decode-step.md). Replaying a captured graph removes the launches, but a graph
replays fixed tensors only. So everything that changes from step to step lives in tensors here:

- the position is a 1-element tensor: keys and values are written at it (`index_copy_`), the
  positional embedding is read at it, and it is incremented in place;
- self-attention reads a fixed-length *bucket* of the key/value buffers with an additive mask built
  from the position, so one graph per bucket serves every step inside it;
- guidance, top-k and sampling run on the device: each take's random numbers are a counter-based hash
  of (seed, step, codebook, token), so a seed gives the same take alone or in any batch, with no
  generator object and no host sync;
- the delay pattern's forced tokens are read from a tensor at the position.

`StaticDecodeLoop.run` works the same on any device; only `CudaGraphSteps` is specific to CUDA.
"""
from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import OrderedDict
from typing import Any, Callable, Iterator, Optional

import torch
import torch.nn.functional as F

from assistant.music.decode_loop import DecodeLoop
from assistant.limits import DECODE_BUCKETS, DECODE_CHECK_EVERY, GRAPH_POOL_MB, GRAPH_RETRY_S

log = logging.getLogger(__name__)

MASK32 = 0xFFFFFFFF
GOLDEN = 0x9E3779B9


def _mix32(x: torch.Tensor) -> torch.Tensor:
    """A 32-bit integer hash (lowbias32), in int64 so no step overflows."""
    x = x & MASK32
    x = ((x ^ (x >> 16)) * 0x7FEB352D) & MASK32
    x = ((x ^ (x >> 15)) * 0x846CA68B) & MASK32
    return x ^ (x >> 16)


def counter_gumbel(seeds: torch.Tensor, codebooks: torch.Tensor, step: torch.Tensor,
                   tokens: torch.Tensor) -> torch.Tensor:
    """Gumbel noise for (row, token) from its take's seed, its codebook, the step and the token id
    alone: (rows,), (rows,), (1,), (rows, k) -> (rows, k). Nothing depends on the batch."""
    key = _mix32(seeds[:, None] ^ (codebooks[:, None] * GOLDEN))
    key = _mix32(key ^ ((step.view(1, 1) + 1) * 0x85EBCA6B))
    bits = _mix32(key ^ (tokens * 0xC2B2AE35))
    uniform = (bits.to(torch.float64) + 0.5) / 2.0**32
    return -torch.log(-torch.log(uniform))


def bucket_for(length: int, capacity: int, buckets: tuple[int, ...] = DECODE_BUCKETS) -> int:
    """The smallest bucket that holds `length` positions, never beyond the buffers' capacity."""
    return min([b for b in buckets if b >= length] + [capacity])


class StaticDecodeLoop(DecodeLoop):
    """A DecodeLoop whose steps are fixed-shape tensor work with sampling on the device.

    `seeds` has one seed per take; `top_k` 0 decodes greedily (tests). Rows of the batch are
    [takes; their unconditional or negative halves] as in DecodeLoop."""

    def __init__(self, model, input_ids: torch.Tensor, attention_mask: torch.Tensor, unconditional_half: bool,
                 seeds: list[int], guidance_scale: float = 3.0, top_k: int = 250, temperature: float = 1.0):
        super().__init__(model, input_ids, attention_mask, unconditional_half)
        device = self.cross_mask.device
        self.takes = len(seeds)
        self.rows = self.takes * self.codebooks
        self.guidance_scale, self.top_k, self.temperature = guidance_scale, top_k, temperature
        self.row_seeds = torch.tensor(seeds, dtype=torch.long, device=device).repeat_interleave(self.codebooks)
        self.row_codebooks = torch.arange(self.codebooks, device=device).repeat(self.takes)
        self.position = torch.zeros(1, dtype=torch.long, device=device)
        self.steps_done = torch.zeros(1, dtype=torch.long, device=device)  # the sampling counter

    def prepare(self, steps: int, prompt_codes: Optional[torch.Tensor] = None) -> int:
        """Buffers, delay pattern and prompt prefill for `steps` new positions; returns the first
        position to sample. Eager: runs once per generation, before any replay."""
        start_token = int(self.model.generation_config.decoder_start_token_id)
        device = self.cross_mask.device
        ids = torch.full((self.sequences * self.codebooks, 1), start_token, dtype=torch.long, device=device)
        if prompt_codes is not None:
            ids = torch.cat([ids, prompt_codes.to(device)], dim=-1)
        known, self.pattern = self.model.decoder.build_delay_pattern_mask(
            ids, pad_token_id=start_token, max_length=ids.shape[-1] + steps)
        fixed = known.shape[-1]
        self.capacity = bucket_for(fixed + steps, fixed + steps)
        shape = (len(self.decoder.layers), self.sequences, self.heads_n, self.capacity, self.head_dim)
        self.keys = torch.zeros(shape, dtype=self.cross_mask.dtype, device=device)
        self.values = torch.zeros_like(self.keys)
        self.history = torch.zeros((self.capacity + 1, known.shape[0]), dtype=torch.long, device=device)
        self.history[:fixed] = known.T
        self.pattern = F.pad(self.pattern, (0, self.capacity + 1 - self.pattern.shape[-1]), value=start_token)
        dummy = torch.zeros((1, self.codebooks, self.capacity), dtype=torch.long, device=device)
        self.positions_table = self.decoder.embed_positions(dummy, 0).to(self.cross_mask.dtype)
        if fixed > 1:
            self._step(self._embed(known[:, :-1], 0), 0, self.keys, self.values)
        self.tokens = known[:, -1].clone()
        self.position.fill_(fixed - 1)
        self.steps_done.zero_()
        self.fixed = fixed
        return fixed - 1

    def step(self, bucket: int) -> None:
        """One position, every shape fixed by `bucket`: the graph-capturable unit."""
        codes = self.tokens.view(self.sequences, self.codebooks)
        hidden = sum(self.decoder.embed_tokens[k](codes[:, k]) for k in range(self.codebooks))
        hidden = (hidden + self.positions_table.index_select(0, self.position))[:, None, :]
        span = torch.arange(bucket, device=self.position.device)
        mask = torch.zeros(bucket, dtype=hidden.dtype, device=hidden.device) \
            .masked_fill(span > self.position, float("-inf"))[None, None, None, :]

        def cache(index: int, key: torch.Tensor, value: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            self.keys[index].index_copy_(2, self.position, key)
            self.values[index].index_copy_(2, self.position, value)
            return self.keys[index, :, :, :bucket], self.values[index, :, :, :bucket]

        for index, layer in enumerate(self.decoder.layers):
            hidden = self.layer_step(index, layer, hidden, cache, mask=mask, causal=False)
        logits = self.heads(self.decoder.layer_norm(hidden[:, -1])).view(self.sequences * self.codebooks, -1)
        chosen = self._choose(logits.float())
        chosen = chosen.repeat(self.sequences * self.codebooks // chosen.shape[0])
        forced = self.pattern.index_select(1, self.position + 1)[:, 0]
        self.tokens.copy_(torch.where(forced == -1, chosen, forced))
        self.history.index_copy_(0, self.position + 1, self.tokens[None])
        self.position.add_(1)
        self.steps_done.add_(1)

    def _choose(self, logits: torch.Tensor) -> torch.Tensor:
        """Guidance, then top-k sampling by Gumbel-max with counter-based noise (or greedy)."""
        if logits.shape[0] == 2 * self.rows:  # [conditional; unconditional or negative]
            cond, uncond = logits[: self.rows], logits[self.rows:]
            logits = uncond + (cond - uncond) * self.guidance_scale
        if self.top_k <= 0:
            return logits.argmax(-1)
        top = torch.topk(logits / self.temperature, k=min(self.top_k, logits.shape[-1]), dim=-1)
        noise = counter_gumbel(self.row_seeds, self.row_codebooks, self.steps_done, top.indices)
        pick = (top.values.double() + noise).argmax(-1, keepdim=True)
        return top.indices.gather(1, pick)[:, 0]

    STATE = ("keys", "values", "history", "pattern", "positions_table", "tokens", "position", "steps_done",
             "row_seeds", "row_codebooks", "cross_mask")

    def shape_key(self) -> tuple:
        """What a captured graph depends on: every tensor shape and the constants baked into it."""
        return (self.sequences, self.takes, self.capacity, self.cross_mask.shape[-1], self.guidance_scale,
                self.top_k, self.temperature, str(self.cross_mask.device), self.cross_mask.dtype)

    def fill_from(self, other: "StaticDecodeLoop") -> None:
        """Take another generation's inputs into this loop's tensors, in place: graphs captured on
        this loop then replay the new generation."""
        for name in self.STATE:
            getattr(self, name).copy_(getattr(other, name))
        for mine, theirs in zip(self.cross[0] + self.cross[1], other.cross[0] + other.cross[1]):
            mine.copy_(theirs)
        self.fixed = other.fixed


def drive(loop: StaticDecodeLoop, steps: int, replay: Optional[Callable[[int], None]] = None,
          on_tokens: Optional[Callable[[torch.Tensor], None]] = None,
          check: Optional[Callable[[int], None]] = None) -> torch.Tensor:
    """Run `steps` positions of a prepared loop; returns the token history (positions, rows).
    `replay(bucket)` runs one step (a graph replay on CUDA, `loop.step` elsewhere). Tokens reach
    `on_tokens`, and `check` (progress, cancel) runs, every DECODE_CHECK_EVERY steps: the host syncs
    with the device once per chunk, not once per step."""
    first = loop.fixed - 1
    replay = replay or loop.step
    sent = 1
    for i in range(steps):
        replay(bucket_for(first + i + 1, loop.capacity))
        done = i + 1
        if done % DECODE_CHECK_EVERY == 0 or done == steps:
            upto = first + done + 1
            if on_tokens is not None:
                for row in loop.history[sent:upto].cpu():
                    on_tokens(row)
            sent = upto
            if check is not None:
                check(done)
    return loop.history[: first + steps + 1]


class CudaGraphSteps:
    """The CUDA-only part: one captured graph per (loop shape, bucket), replayed for every step in
    that bucket. Graphs hold the addresses of one loop's tensors, so they are cached per loop object;
    `RunnerPool` keeps runners per batch shape for the whole process, one generation at a time each."""

    def __init__(self, loop: StaticDecodeLoop):
        self.loop = loop
        self.graphs: dict[int, "torch.cuda.CUDAGraph"] = {}
        self.pool = None

    def replay(self, bucket: int) -> None:
        graph = self.graphs.get(bucket)
        if graph is None:
            graph = self.capture(bucket)
        graph.replay()

    def capture(self, bucket: int) -> "torch.cuda.CUDAGraph":
        loop = self.loop
        saved = [t.clone() for t in (loop.position, loop.steps_done, loop.tokens)]
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):  # warm-up outside the graph, as CUDA graphs require
            loop.step(bucket)
        torch.cuda.current_stream().wait_stream(stream)
        for tensor, value in zip((loop.position, loop.steps_done, loop.tokens), saved):
            tensor.copy_(value)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, pool=self.pool):
            loop.step(bucket)
        self.pool = graph.pool()
        self.graphs[bucket] = graph
        return graph


class GraphFailed(RuntimeError):
    """A runner failed for this batch shape (a capture or a replay): this generation decodes eagerly."""


class RunnerPool:
    """Step runners (a loop and its captured graphs) per batch shape for the whole process, each used
    by one generation at a time. A generation checks one out and gives it back; a second generation
    of the same shape gets a runner of its own (sharing one let a generation's inputs overwrite
    another's while it replayed). Runners hold at most `budget_bytes` of buffers: beyond it, the least
    recently used idle runners are freed, and when every runner is busy a new generation waits.
    A shape whose runner fails is left to the eager loop for `retry_s`, then tried again; every other
    shape keeps its graphs (one failure used to turn graphs off for everyone, for good).
    `make` builds a runner (CudaGraphSteps on a GPU; tests pass a CPU stand-in)."""

    def __init__(self, make: Callable[[StaticDecodeLoop], Any], budget_bytes: Optional[float] = None,
                 retry_s: float = GRAPH_RETRY_S):
        self.make = make
        self.budget = budget_bytes if budget_bytes is not None else GRAPH_POOL_MB * 1e6
        self.retry_s = retry_s
        self._idle: "OrderedDict[int, tuple[tuple, Any, int]]" = OrderedDict()  # id -> (shape, runner, bytes), oldest first
        self._busy = 0
        self._held = 0  # bytes of every runner, idle or busy
        self._failed: dict[tuple, float] = {}  # shape -> when graphs are tried again (time.monotonic)
        self._cond = threading.Condition()
        self.created = self.freed = self.fallbacks = 0

    @property
    def held_bytes(self) -> int:
        return self._held

    def usable(self, loop: StaticDecodeLoop) -> bool:
        """False while this loop's shape is in its retry period after a failure."""
        with self._cond:
            again = self._failed.get(loop.shape_key())
            if again is not None and time.monotonic() >= again:
                del self._failed[loop.shape_key()]
                again = None
            return again is None

    @contextlib.contextmanager
    def checkout(self, loop: StaticDecodeLoop) -> Iterator[Any]:
        key, need = loop.shape_key(), loop_bytes(loop)
        with self._cond:
            while True:
                found = next((i for i, (k, _, _) in self._idle.items() if k == key), None)
                if found is not None:
                    _, runner, size = self._idle.pop(found)
                    break
                while self._held + need > self.budget and self._idle:  # the least recently used idle runner goes
                    _, (_, _, size) = self._idle.popitem(last=False)
                    self._held -= size
                    self.freed += 1
                if self._held + need <= self.budget or self._busy == 0:
                    runner, size = None, need
                    self._held += size
                    self.created += 1
                    break
                self._cond.wait()
            self._busy += 1
        failed: Optional[BaseException] = None
        try:
            if runner is None:
                runner = self.make(loop)
            else:
                runner.loop.fill_from(loop)
            yield runner
        except (InterruptedError, torch.cuda.OutOfMemoryError):
            raise
        except RuntimeError as err:
            if "cancelled" in str(err):
                raise
            failed = err
        finally:
            with self._cond:
                self._busy -= 1
                if failed is not None or runner is None:  # a runner that failed (or was never made) is freed
                    self._held -= size
                    self.freed += 1
                else:
                    self._idle[id(runner)] = (key, runner, size)
                if failed is not None:
                    self._failed[key] = time.monotonic() + self.retry_s
                    self.fallbacks += 1
                while self._held > self.budget and len(self._idle) > 1:
                    _, (_, _, freed) = self._idle.popitem(last=False)
                    self._held -= freed
                    self.freed += 1
                self._cond.notify_all()
        if failed is not None:
            log.warning("CUDA graphs failed for a batch shape (%s); it decodes eagerly for %.0f s "
                        "(fallbacks so far: %d)", failed, self.retry_s, self.fallbacks)
            raise GraphFailed(str(failed)) from failed


def loop_bytes(loop: StaticDecodeLoop) -> int:
    """What a runner's loop holds on its device: its buffers, state and cross-attention keys."""
    tensors = [getattr(loop, name) for name in loop.STATE] + list(loop.cross[0]) + list(loop.cross[1])
    return int(sum(t.numel() * t.element_size() for t in tensors if isinstance(t, torch.Tensor)))
