"""One process, many users: N simulated users ask at once, each for 2 takes of 10 s, on random weights
of musicgen-small's exact size, with and without batching requests together.

    python bench/serving.py --users 1 4 16 --seconds 10            # the issue's table (CPU: minutes)
    python bench/serving.py --users 1 4 16 --prompt-lengths 50     # + memory after 50 prompt lengths

Apart: as the app runs without batching, at most MAX_CONCURRENT_GENERATIONS rounds at once, each its
own generation. Batched: MAX_BATCHED_GENERATIONS rounds in flight, and requests that arrive within
BATCH_WINDOW_S with one batch key share one generation (assistant.music.batching). Printed per N:
p50 and p95 seconds from the user's request to their takes, throughput (seconds of audio per second
of wall time), and peak memory (the process's peak RSS so far on the CPU; peak GPU memory allocated
during that row on CUDA). Every figure comes from this one run.
"""
from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from assistant import limits
from assistant.compute import in_passing_thread
from assistant.music.musicgen import MusicGenModel
from support.random_model import build_random_musicgen

# Briefs as MusicBrief writes them (about 30-40 words): one text bucket, as most real rounds are.
BRIEFS = [
    "energetic techno at 128 BPM with a driving four-on-the-floor kick, acid bassline, crisp hi-hats, "
    "dark warehouse mood, wide stereo, a long build into the drop, dry mix, take {i}",
    "calm lo-fi hip hop at 80 BPM, dusty vinyl drums, mellow Rhodes chords, soft bass, warm and dark, "
    "narrow mix with a little room reverb, intro then a loose groove, take {i}",
    "uplifting orchestral film score at 100 BPM with soaring strings, french horns, timpani rolls, "
    "bright and wide, reverberant hall, slow intro building to a big finale, take {i}",
    "gritty garage rock at 150 BPM with distorted guitars, punchy live drums, driving bass, shouted "
    "energy, dry and narrow mix, verse chorus verse chorus, take {i}",
]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def peak_memory_gb(model: MusicGenModel) -> float:
    if model.device and model.device.startswith("cuda"):
        import torch

        return torch.cuda.max_memory_allocated() / 1e9
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def reset_peak(model: MusicGenModel) -> None:
    if model.device and model.device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


def serve(model: MusicGenModel, users: int, takes: int, seconds: float, slots: int) -> dict:
    """Every user asks at the same moment; each waits for a slot (as the app's queue does), then generates."""
    gate = threading.BoundedSemaphore(slots)
    start = threading.Barrier(users + 1)
    times: list[float] = []
    errors: list[BaseException] = []

    def user(i: int) -> None:
        texts = [BRIEFS[i % len(BRIEFS)].format(i=i)] * takes
        seeds = [1000 * i + t for t in range(takes)]
        start.wait()
        began = time.perf_counter()
        try:
            with gate:
                model.generate(texts, seeds, seconds)
            times.append(time.perf_counter() - began)
        except BaseException as err:  # noqa: BLE001 - reported, not hidden
            errors.append(err)

    threads = [threading.Thread(target=user, args=(i,)) for i in range(users)]
    for t in threads:
        t.start()
    reset_peak(model)
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    if errors:
        raise RuntimeError(f"{len(errors)} users failed: {errors[0]!r}")
    return dict(p50=statistics.median(times), p95=percentile(times, 0.95),
                throughput=users * takes * seconds / wall, wall=wall, memory=peak_memory_gb(model))


def prompt_lengths(model: MusicGenModel, count: int) -> list[tuple[int, float]]:
    """One short take for each of `count` prompts of distinct token lengths: (prompts so far, peak
    memory) every 10 prompts. With text buckets and the bounded pool it stays flat."""
    words = "warm analog synth bass with crisp drums and a bright lead over soft pads".split()
    rows = []
    reset_peak(model)
    for n in range(1, count + 1):
        text = " ".join(words[i % len(words)] for i in range(n * 2))
        model.generate([text], [n], 1.0)
        if n % 10 == 0 or n == count:
            rows.append((n, peak_memory_gb(model)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--takes", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--model", help="a MusicGen folder (default: random weights of musicgen-small's size)")
    parser.add_argument("--size", default="small", help="random model size when --model is not given")
    parser.add_argument("--modes", nargs="+", default=["apart", "batched"], choices=["apart", "batched"])
    parser.add_argument("--prompt-lengths", type=int, default=0, help="then this many distinct prompt lengths")
    args = parser.parse_args()

    folder = args.model or str(in_passing_thread(build_random_musicgen, Path(tempfile.mkdtemp()) / "musicgen",
                                                 size=args.size))  # no libgomp team left in this thread
    slots = {"apart": limits.MAX_CONCURRENT_GENERATIONS, "batched": limits.MAX_BATCHED_GENERATIONS}
    print(f"{args.takes} takes of {args.seconds:g} s per user; apart: {slots['apart']} rounds at once; "
          f"batched: {slots['batched']} in flight, window {limits.BATCH_WINDOW_S * 1000:.0f} ms, "
          f"at most {limits.MAX_BATCH_TAKES} takes a batch")
    print(f"{'mode':8} {'users':>5} {'p50 s':>8} {'p95 s':>8} {'audio s/s':>10} {'wall s':>8} {'peak GB':>8} {'batches':>8}")
    model = None
    for mode in args.modes:
        model = MusicGenModel(folder, batching=mode == "batched")
        model.generate(["warm-up"], [0], 1.0)  # load, quantise, first graphs: not part of any user's time
        for users in args.users:
            before = model.batcher.batches if model.batcher else 0
            row = serve(model, users, args.takes, args.seconds, slots[mode])
            batches = (model.batcher.batches - before) if model.batcher else users
            print(f"{mode:8} {users:5d} {row['p50']:8.2f} {row['p95']:8.2f} {row['throughput']:10.2f} "
                  f"{row['wall']:8.1f} {row['memory']:8.2f} {batches:8d}", flush=True)
        pool = model.graph_pool
        if pool is not None:
            print(f"  graph runners: {pool.created} made, {pool.freed} freed, {pool.fallbacks} fallbacks, "
                  f"{pool.held_bytes / 1e6:.0f} MB held")
    if args.prompt_lengths and model is not None:
        print(f"\npeak memory over {args.prompt_lengths} distinct prompt lengths (1 take of 1 s each):")
        for n, memory in prompt_lengths(model, args.prompt_lengths):
            print(f"  after {n:3d} prompts: {memory:.2f} GB")
        pool = model.graph_pool
        if pool is not None:
            print(f"  graph runners: {pool.created} made, {pool.freed} freed, {pool.fallbacks} fallbacks, "
                  f"{pool.held_bytes / 1e6:.0f} MB held")
    print(f"device: {model.device if model else '?'}; int8: {model.int8 if model else '?'}; "
          f"graphs: {model.graphs if model else '?'}")


if __name__ == "__main__":
    main()
