"""MusicGen generation speed on random weights of musicgen-small's exact size (same compute).

    python bench/musicgen_speed.py --seconds 5 --takes 1 --takes 4
    python bench/musicgen_speed.py --seconds 10 --takes 1 --takes 4     # on CUDA: generate(), eager loop, graphs

Everything is measured in this one run against plain eager transformers: `generate()` with
sampling and guidance, as its documentation shows it (float32 on a CPU, float16 on a GPU; it
streams nothing, so its first audio is its whole wall time). Printed: seconds of audio per second
of wall time, the speed-up, time to the first streamed audio chunk, warm-up time, peak memory,
how close the int8 model's next-token distributions stay to float32 (mean KL divergence, share of
identical greedy tokens), and how close our chunked EnCodec decoding is to one whole decode.
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

from assistant.music.musicgen import FrameDecoder, MusicGenModel
from assistant.music.generation import GenerationParams
from support.random_model import build_random_musicgen


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def prompts(takes: int) -> list[str]:
    return [f"house music, take {i}" for i in range(takes)]


def timed_plain(model: MusicGenModel, takes: int, seconds: float) -> tuple[float, float]:
    """Plain transformers: one generate() call, audio only at the end."""
    import torch

    batch = model._processor(text=prompts(takes), padding=True, return_tensors="pt").to(model.device)
    steps = int(round(seconds * model.frame_rate)) + model._model.decoder.num_codebooks - 1
    start = time.perf_counter()
    with torch.inference_mode():
        model._model.generate(**batch, do_sample=True, top_k=250, guidance_scale=3.0, max_new_tokens=steps)
    wall = time.perf_counter() - start
    return wall, wall


def timed_generate(model: MusicGenModel, takes: int, seconds: float) -> tuple[float, float]:
    """Our path, streamed: (wall seconds, seconds to the first audio chunk)."""
    first: list[float] = []
    start = time.perf_counter()
    model.generate(prompts(takes), list(range(takes)), GenerationParams(duration_s=seconds, chunk_s=1.0),
                   on_chunk=lambda chunk: first or first.append(time.perf_counter() - start))
    return time.perf_counter() - start, (first[0] if first else float("nan"))


def chunked_decode_snr(model: MusicGenModel, seconds: float) -> float:
    """dB of signal over the difference between our streamed takes and one EnCodec decode of the same codes."""
    import numpy as np

    decoders: list[FrameDecoder] = []
    finish = FrameDecoder.finish
    FrameDecoder.finish = lambda self: decoders.append(self) or finish(self)
    try:
        takes = model.generate(prompts(2), [1, 2], seconds, on_chunk=lambda chunk: None)
    finally:
        FrameDecoder.finish = finish
    whole = model.decode_frames(decoders[0].codes(0, decoders[0].emitted))
    signal = sum(float((w ** 2).sum()) for w in whole)
    noise = sum(float(((t - w) ** 2).sum()) for t, w in zip(takes, whole))
    return 10 * np.log10(signal / max(noise, 1e-30))


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


def continuation_rows(name: str, model: MusicGenModel, seconds: float) -> None:
    """Extending 2 takes by `seconds` from 10 s of context: from the takes' own tokens (what MusicBrief
    does) against decoding them and re-encoding the audio through EnCodec (what it did before)."""
    from assistant.limits import CONTINUATION_CONTEXT_S

    made = model.generate_with_codes(prompts(2), [1, 2], CONTINUATION_CONTEXT_S)
    context = int(CONTINUATION_CONTEXT_S * model.frame_rate)
    start = time.perf_counter()
    model.generate_with_codes(prompts(2), [3, 4], seconds, prompt_codes=made.codes[:, :, -context:])
    tokens = time.perf_counter() - start
    start = time.perf_counter()
    model.generate_with_codes(prompts(2), [3, 4], seconds, audio_prompt=made.audio)
    audio = time.perf_counter() - start
    print(f"extend 2 takes by {seconds:g} s from {CONTINUATION_CONTEXT_S:g} s of context, {name}: "
          f"from their tokens {tokens:.2f} s, from re-encoded audio {audio:.2f} s ({audio / tokens:.2f}x)")


def saved_parameters(folder: Path) -> int:
    """Parameters in a saved model's safetensors files."""
    import numpy as np
    from safetensors import safe_open

    total = 0
    for path in folder.glob("*.safetensors"):
        with safe_open(str(path), framework="pt") as weights:
            for name in weights.keys():
                total += int(np.prod(weights.get_slice(name).get_shape()))
    return total


def melody_rows(folder: Path, seconds: float) -> None:
    """One take following a 10 s clip's chroma on a random musicgen-melody of the real size, against
    the same model with text alone (transformers' generate(): its conditions prefix the decoder)."""
    import numpy as np

    from support.random_model import build_random_musicgen_melody

    start = time.perf_counter()
    model = MusicGenModel(str(build_random_musicgen_melody(folder, size="melody")))
    model.load()
    built = time.perf_counter() - start
    params = saved_parameters(folder)  # the loaded decoder's int8 weights are packed out of sight
    t = np.arange(int(10 * model.sample_rate)) / model.sample_rate
    clip = (0.4 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)
    model.generate(prompts(1), [0], 0.2, melody=clip)  # warm-up
    rows = {}
    for label, melody in (("text and a 10 s melody", clip), ("text alone", None)):
        start = time.perf_counter()
        model.generate(prompts(1), [1], seconds, melody=melody)
        rows[label] = time.perf_counter() - start
    print(f"random musicgen-melody ({params / 1e6:.0f} M parameters) on {model.device}, built and loaded in "
          f"{built:.0f} s; 1 take of {seconds:g} s:")
    for label, wall in rows.items():
        print(f"  melody model, {label:<24} {wall:>7.2f} s wall {seconds / wall:>7.3f} audio s/s")
    print(f"peak memory after the melody model: {peak_rss_gb():.2f} GB")


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--takes", type=int, action="append")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--melody-seconds", type=float, default=1.0,
                        help="seconds per take on a random musicgen-melody of the real size (0: skip)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    scratch = tempfile.TemporaryDirectory()
    folder = build_random_musicgen(Path(scratch.name) / "musicgen-small-random", size="small")

    gpu = torch.cuda.is_available()
    plain = MusicGenModel(str(folder), int8=False, graphs=False)  # float16 on a GPU, float32 on a CPU
    configs = [(f"plain generate {'fp16' if gpu else 'fp32'} (baseline)", plain, timed_plain)]
    if gpu:  # generate() with our sampler, the eager own loop, and the CUDA-graph path (the default)
        configs.append(("generate() + SeededSampler, fp16", MusicGenModel(str(folder), own_loop=False, graphs=False),
                        timed_generate))
        configs.append(("own loop, eager, fp16", plain, timed_generate))
        configs.append(("own loop, CUDA graphs (default)", MusicGenModel(str(folder)), timed_generate))
    else:
        configs.append(("MusicBrief path, fp32", plain, timed_generate))
        configs.append(("MusicBrief int8 via generate()", MusicGenModel(str(folder), int8=True, own_loop=False),
                        timed_generate))
        configs.append(("MusicBrief path, int8 (default)", MusicGenModel(str(folder), int8=True), timed_generate))
    warm: dict[str, float] = {}
    for name, model, timer in configs:  # load, and one run of every shape (graphs are captured here)
        start = time.perf_counter()
        model.load()
        for takes in args.takes or [1, 4]:
            if timer is timed_generate:
                model.generate(prompts(takes), list(range(takes)), args.seconds if gpu else 0.2)
        warm[name] = time.perf_counter() - start
    params = sum(p.numel() for n, p in plain._model.named_parameters() if "qkv_proj" not in n and "fused" not in n)
    print(f"random musicgen-small ({params / 1e6:.0f} M parameters) on {plain.device}, "
          f"{args.threads} threads, {args.seconds:g} s per take, best of {args.repeats} interleaved runs")
    best: dict[tuple[str, int], tuple[float, float]] = {}
    peak_gpu: dict[str, float] = {}
    for _ in range(args.repeats):  # interleaved, so a slow spell on a shared machine hits every row alike
        for name, model, timer in configs:
            if gpu:
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
            for takes in args.takes or [1, 4]:
                wall, first = timer(model, takes, args.seconds)
                if (name, takes) not in best or wall < best[name, takes][0]:
                    best[name, takes] = (wall, first)
            if gpu:
                peak_gpu[name] = max(peak_gpu.get(name, 0.0), torch.cuda.max_memory_allocated() / 2**30)
    baseline = {takes: wall for (name, takes), (wall, _) in best.items() if "baseline" in name}
    print(f"{'configuration':<34} {'takes':>5} {'wall s':>7} {'audio s/s':>9} {'speed-up':>8} "
          f"{'first audio s':>13} {'warm-up s':>9}{' peak GPU GiB' if gpu else ''}")
    for (name, takes), (wall, first) in best.items():
        memory = f" {peak_gpu.get(name, 0.0):>12.2f}" if gpu else ""
        print(f"{name:<34} {takes:>5} {wall:>7.2f} {takes * args.seconds / wall:>9.3f} "
              f"{baseline[takes] / wall:>7.2f}x {first:>13.2f} {warm[name]:>9.1f}{memory}")
    continuation_rows(configs[-1][0], configs[-1][1], args.seconds)
    print(f"peak memory (whole process, all models loaded): {peak_rss_gb():.2f} GB")
    snr = chunked_decode_snr(configs[-1][1], args.seconds)
    print(f"streamed chunks vs one whole EnCodec decode of the same codes: {snr:.0f} dB SNR")
    if not gpu:
        kl, agree = distribution_drift(plain, configs[-1][1])
        print(f"int8 vs float32 next-token distributions: mean KL {kl:.2e} nats, identical greedy tokens {agree:.1%}")
    if args.melody_seconds > 0:  # the small models go first: the melody model alone is 6 GB in float32
        import gc

        configs.clear()
        del plain
        gc.collect()
        melody_rows(Path(scratch.name) / "musicgen-melody-random", args.melody_seconds)


if __name__ == "__main__":
    main()
