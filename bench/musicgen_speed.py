"""MusicGen generation speed on random weights of musicgen-small's exact size (same compute).

    python bench/musicgen_speed.py --seconds 5 --takes 1 --takes 4

Everything is measured in this one run against plain eager transformers (float32 on a CPU,
float16 on a GPU): seconds of audio per second of wall time, the speed-up, time to the first
streamed audio chunk, warm-up time, peak memory, and how close the optimised model's next-token
distributions stay to the baseline's (mean KL divergence, share of identical greedy tokens).
Random weights give near-uniform distributions, so the quality figures here bound numerical
drift, not musical quality.
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.musicgen import MusicGenModel  # noqa: E402
from assistant.random_model import build_random_musicgen  # noqa: E402


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def timed_generate(model: MusicGenModel, takes: int, seconds: float) -> tuple[float, float]:
    """(wall seconds, seconds to the first streamed chunk)."""
    first: list[float] = []
    start = time.perf_counter()
    model.generate([f"house music, take {i}" for i in range(takes)], list(range(takes)), seconds,
                   on_chunk=lambda chunk: first or first.append(time.perf_counter() - start), chunk_s=1.0)
    return time.perf_counter() - start, (first[0] if first else float("nan"))


def distribution_drift(base: MusicGenModel, fast: MusicGenModel, steps: int = 64) -> tuple[float, float]:
    """Mean KL(base || fast) of next-token distributions on fixed inputs, and greedy agreement."""
    import torch

    torch.manual_seed(0)
    batch = base._processor(text=["warm lofi hip hop with rhodes", "dark techno at 130 bpm"],
                            padding=True, return_tensors="pt")
    codebooks = base._model.config.decoder.num_codebooks
    decoder_ids = torch.randint(0, base._model.config.decoder.vocab_size, (2 * codebooks, steps))
    with torch.inference_mode():
        logits = [m._model(**batch, decoder_input_ids=decoder_ids).logits.float() for m in (base, fast)]
    p, q = (torch.log_softmax(x, dim=-1) for x in logits)
    kl = (p.exp() * (p - q)).sum(-1).mean().item()
    agree = (logits[0].argmax(-1) == logits[1].argmax(-1)).float().mean().item()
    return kl, agree


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--takes", type=int, action="append")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    folder = build_random_musicgen(Path(tempfile.mkdtemp()) / "musicgen-small-random", size="small")

    configs = {"eager float32 (baseline)": MusicGenModel(str(folder), int8=False),
               "int8 row-scaled (default CPU)": MusicGenModel(str(folder), int8=True)}
    if torch.cuda.is_available():
        configs = {"eager float16 (baseline)": MusicGenModel(str(folder), int8=False)}
    rows = []
    for name, model in configs.items():
        start = time.perf_counter()
        model.load()
        model.generate(["warm-up"], [0], 0.2)
        warm = time.perf_counter() - start
        if not rows:
            params = sum(p.numel() for p in model._model.parameters())
            print(f"random musicgen-small ({params / 1e6:.0f} M parameters) on {model.device}, "
                  f"{args.threads} threads, {args.seconds:g} s per take")
        for takes in args.takes or [1, 4]:
            wall, first = timed_generate(model, takes, args.seconds)
            rows.append((name, takes, wall, first, warm))
    baseline = {takes: wall for name, takes, wall, _, _ in rows if "baseline" in name}
    print(f"{'configuration':<30} {'takes':>5} {'wall s':>7} {'audio s/s':>9} {'speed-up':>8} "
          f"{'first audio s':>13} {'warm-up s':>9}")
    for name, takes, wall, first, warm in rows:
        print(f"{name:<30} {takes:>5} {wall:>7.1f} {takes * args.seconds / wall:>9.3f} "
              f"{baseline[takes] / wall:>7.2f}x {first:>13.2f} {warm:>9.1f}")
    print(f"peak memory (whole process, both models loaded): {peak_rss_gb():.2f} GB")
    if len(configs) == 2:
        kl, agree = distribution_drift(*configs.values())
        print(f"int8 vs float32 next-token distributions: mean KL {kl:.2e} nats, identical greedy tokens {agree:.1%}")


if __name__ == "__main__":
    main()
