"""The graph-ready decode step on the CPU: everything but the CUDA capture wrapper is tested here."""
import ast
from pathlib import Path

import pytest
import torch

from assistant.music.decode_loop import DecodeLoop, fuse_projections
from support.random_model import build_random_musicgen
from assistant.music.static_decode import StaticDecodeLoop, bucket_for, counter_gumbel, drive
from assistant.music.generation import GenerationParams

pytestmark = pytest.mark.slow  # loads models, renders audio or starts the app

STEPS = 40


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from transformers import AutoProcessor, MusicgenForConditionalGeneration

    folder = build_random_musicgen(tmp_path_factory.mktemp("models") / "tiny-musicgen")
    model = MusicgenForConditionalGeneration.from_pretrained(folder).eval()
    fuse_projections(model)
    return model, AutoProcessor.from_pretrained(folder)


def _inputs(processor, texts):
    batch = processor(text=texts, padding=True, return_tensors="pt")
    return batch["input_ids"], batch["attention_mask"]


def _eager_greedy(model, ids, mask, takes, steps, prompt_codes=None):
    rows = takes * model.decoder.num_codebooks
    out = []

    def choose(logits):
        logits = logits.float()
        if logits.shape[0] == 2 * rows:
            logits = logits[rows:] + (logits[:rows] - logits[rows:]) * 3.0
        return logits.argmax(-1)

    with torch.inference_mode():
        DecodeLoop(model, ids, mask, True).run(choose, steps, prompt_codes=prompt_codes, on_tokens=out.append)
    return torch.stack(out)


def _static(model, ids, mask, seeds, steps, top_k=0, buckets=None, prompt_codes=None):
    with torch.inference_mode():
        loop = StaticDecodeLoop(model, ids, mask, True, seeds, top_k=top_k)
        loop.prepare(steps, prompt_codes)
        if buckets is not None:
            history = drive(loop, steps, replay=lambda b: loop.step(buckets(b, loop)))
        else:
            history = drive(loop, steps)
    return history[1:]


def test_greedy_static_steps_give_the_eager_loops_tokens(tiny) -> None:
    model, processor = tiny
    ids, mask = _inputs(processor, ["house music", "dark techno with a long prompt text"])
    eager = _eager_greedy(model, ids, mask, 2, STEPS)
    static = _static(model, ids, mask, [1, 2], STEPS)
    assert torch.equal(eager, static)


def test_greedy_static_steps_continue_an_audio_prompt_like_the_eager_loop(tiny) -> None:
    model, processor = tiny
    ids, mask = _inputs(processor, ["ambient"])
    prompt = torch.randint(0, 64, (2 * 4, 10))  # both guidance halves, 4 codebooks, 10 frames
    eager = _eager_greedy(model, ids, mask, 1, STEPS, prompt_codes=prompt)
    static = _static(model, ids, mask, [5], STEPS, prompt_codes=prompt)
    assert torch.equal(eager, static)


def test_switching_buckets_changes_nothing(tiny) -> None:
    model, processor = tiny
    ids, mask = _inputs(processor, ["jazz"])
    smallest = _static(model, ids, mask, [3], STEPS, top_k=20,
                       buckets=lambda b, loop: bucket_for(b, loop.capacity, (8, 16, 24, 32, 48)))
    whole = _static(model, ids, mask, [3], STEPS, top_k=20, buckets=lambda b, loop: loop.capacity)
    assert torch.equal(smallest, whole)


def test_a_seeded_take_is_the_same_alone_and_in_a_batch(tiny) -> None:
    model, processor = tiny
    ids, mask = _inputs(processor, ["house music", "techno", "folk"])
    batch = _static(model, ids, mask, [11, 22, 33], STEPS, top_k=20).view(-1, 2, 3, 4)[:, 0]
    ids_alone, mask_alone = _inputs(processor, ["techno"])
    alone = _static(model, ids_alone, mask_alone, [22], STEPS, top_k=20).view(-1, 2, 1, 4)[:, 0]
    other = _static(model, ids_alone, mask_alone, [23], STEPS, top_k=20).view(-1, 2, 1, 4)[:, 0]
    assert torch.equal(batch[:, 1], alone[:, 0])
    assert not torch.equal(alone, other)


def test_counter_noise_depends_on_seed_step_codebook_and_token_only() -> None:
    tokens = torch.tensor([[5, 9, 200], [5, 9, 200]])
    a = counter_gumbel(torch.tensor([7, 7]), torch.tensor([0, 1]), torch.tensor([3]), tokens)
    b = counter_gumbel(torch.tensor([7]), torch.tensor([1]), torch.tensor([3]), tokens[1:, [2, 0, 1]])
    assert torch.equal(a[1, [2, 0, 1]], b[0])  # same (seed, codebook, step, token): same noise, any order
    assert not torch.equal(a[0], a[1])  # another codebook
    later = counter_gumbel(torch.tensor([7, 7]), torch.tensor([0, 1]), torch.tensor([4]), tokens)
    assert not torch.equal(a, later)


def test_gumbel_max_over_top_k_samples_the_softmax() -> None:
    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0]]).repeat(4000, 1)
    seeds = torch.arange(4000)
    noise = counter_gumbel(seeds, torch.zeros(4000, dtype=torch.long), torch.tensor([0]), torch.arange(4)[None].repeat(4000, 1))
    picks = (logits.double() + noise).argmax(-1)
    share = torch.bincount(picks, minlength=4).double() / 4000
    expected = torch.softmax(logits[0].double(), -1)
    assert torch.allclose(share, expected, atol=0.03)


def test_bucket_choice() -> None:
    assert bucket_for(1, 504) == 64 and bucket_for(64, 504) == 64 and bucket_for(65, 504) == 128
    assert bucket_for(500, 504) == 504  # never beyond the buffers
    assert bucket_for(1600, 1653) == 1653


def test_the_capture_wrapper_is_the_only_cuda_code() -> None:
    source = Path(__file__).resolve().parent.parent / "assistant" / "music" / "static_decode.py"
    tree = ast.parse(source.read_text())
    for node in tree.body:
        uses_cuda = "cuda" in ast.unparse(node).replace("str(self.cross_mask.device)", "")
        if isinstance(node, ast.ClassDef) and node.name in ("CudaGraphSteps", "RunnerPool"):
            continue
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            assert not uses_cuda or "CudaGraphSteps" in ast.unparse(node), node.name


def test_the_graph_path_through_musicgenmodel_streams_reproducible_takes(tmp_path) -> None:
    """On the CPU `graphs=True` runs the same static steps eagerly: the path a GPU replays."""
    import numpy as np

    from assistant.music.musicgen import MusicGenModel

    folder = build_random_musicgen(tmp_path / "tiny")
    model = MusicGenModel(str(folder), graphs=True)
    chunks, fractions = [], []
    batch = model.generate(["house music", "techno"], [11, 22], 1.0, on_chunk=chunks.append,
                           progress=lambda f, _: fractions.append(f))
    alone = model.generate(["techno"], [22], 1.0)
    assert np.allclose(batch[1], alone[0], atol=1e-5) and len(alone[0]) >= model.sample_rate
    assert chunks and fractions[-1] == 1.0 and len(fractions) < 10  # checked per chunk, not per step
    negative = model.generate(["techno"], [22], GenerationParams(duration_s=1.0, negative_prompt="vocals"))
    assert not np.allclose(negative[0], alone[0], atol=1e-4)
    continued = model.generate(["techno"], [22], 0.5, audio_prompt=[alone[0][: model.sample_rate // 2]])
    assert len(continued[0]) > 0


def test_a_cancel_stops_the_graph_path_between_chunks(tmp_path) -> None:
    import threading

    from assistant.music.musicgen import MusicGenModel

    model = MusicGenModel(str(build_random_musicgen(tmp_path / "tiny")), graphs=True)
    cancel = threading.Event()
    seen = []

    def progress(fraction, _):
        seen.append(fraction)
        cancel.set()

    with pytest.raises(InterruptedError):
        model.generate(["techno"], [1], 2.0, progress=progress, cancel=cancel)
    assert len(seen) == 1


def test_the_zerogpu_lease_follows_the_measured_speed_of_the_path() -> None:
    from assistant.music.musicgen import estimate_gpu_seconds

    graphs = estimate_gpu_seconds(4, 10)
    assert graphs < estimate_gpu_seconds(4, 10, "loop") < estimate_gpu_seconds(4, 10, "generate")
    assert 23 < graphs < 30  # 20 s load + 3 s warm-up + 2 x 1.1 s of generation


class CpuSteps:
    """A stand-in for CudaGraphSteps on the CPU: its replays run on its own loop's tensors, as a
    captured graph does, and yield the thread between steps so two generations interleave."""

    def __init__(self, loop):
        self.loop = loop

    def replay(self, bucket: int) -> None:
        import time

        self.loop.step(bucket)
        time.sleep(0.001)


def _pooled(pool, model, ids, mask, seeds, steps):
    with torch.inference_mode():
        loop = StaticDecodeLoop(model, ids, mask, True, seeds, top_k=50)
        loop.prepare(steps)
        with pool.checkout(loop) as runner:
            return drive(runner.loop, steps, replay=runner.replay)[1:].clone()


def test_two_generations_of_one_shape_at_once_give_the_takes_each_gives_alone(tiny) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from assistant.music.static_decode import RunnerPool

    model, processor = tiny
    ids_a, mask_a = _inputs(processor, ["techno with acid bass"])
    ids_b, mask_b = _inputs(processor, ["ambient with soft pads"])  # the same token length: the same shape
    assert ids_a.shape == ids_b.shape
    pool = RunnerPool(CpuSteps)
    alone = [_pooled(pool, model, ids_a, mask_a, [1], STEPS), _pooled(pool, model, ids_b, mask_b, [2], STEPS)]
    with ThreadPoolExecutor(2) as threads:  # a shared runner let one generation's inputs overwrite the other's
        together = list(threads.map(lambda args: _pooled(pool, model, *args, STEPS),
                                    [(ids_a, mask_a, [1]), (ids_b, mask_b, [2])]))
    assert all(torch.equal(a, b) for a, b in zip(alone, together))
    assert pool.created == 2  # the second got a runner of its own; afterwards both are reused


def test_the_runner_pool_never_holds_more_than_its_budget(tiny) -> None:
    from assistant.music.static_decode import RunnerPool, loop_bytes

    model, processor = tiny
    loops = []
    with torch.inference_mode():
        for steps in (40, 100, 200, 400):  # four capacities: four shapes
            loop = StaticDecodeLoop(model, *_inputs(processor, ["house"]), True, [1])
            loop.prepare(steps)
            loops.append(loop)
    sizes = [loop_bytes(loop) for loop in loops]
    pool = RunnerPool(CpuSteps, budget_bytes=sizes[-1] + sizes[-2])
    for loop in loops + loops[:2]:
        with pool.checkout(loop):
            pass
        assert pool.held_bytes <= pool.budget
    assert pool.freed >= 2  # the least recently used idle runners went


def test_padding_the_text_to_a_bucket_does_not_change_greedy_tokens(tiny) -> None:
    from assistant.music.decode_loop import padded_text, text_bucket

    model, processor = tiny
    ids, mask = _inputs(processor, ["house music", "dark techno with a long prompt text"])
    pad_ids, pad_mask = padded_text(ids, mask, processor.tokenizer.pad_token_id, buckets=(16, 32))
    assert pad_ids.shape[-1] == 16 > ids.shape[-1] and int(pad_mask.sum()) == int(mask.sum())
    assert torch.equal(_eager_greedy(model, ids, mask, 2, STEPS), _eager_greedy(model, pad_ids, pad_mask, 2, STEPS))
    assert torch.equal(_static(model, ids, mask, [1, 2], STEPS), _static(model, pad_ids, pad_mask, [1, 2], STEPS))
    assert [text_bucket(n) for n in (1, 32, 33, 128, 129, 300)] == [32, 32, 64, 128, 256, 384]


class FailingSteps(CpuSteps):
    """A runner whose every replay fails for batches of two takes (a capture that fails for one shape)."""

    made: list = []

    def __init__(self, loop):
        super().__init__(loop)
        FailingSteps.made.append(loop.takes)

    def replay(self, bucket: int) -> None:
        if self.loop.takes == 2:
            raise RuntimeError("CUDA error: operation not permitted when stream is capturing")
        super().replay(bucket)


def test_prompts_of_many_lengths_share_one_graph_shape(tmp_path) -> None:
    from assistant.music.musicgen import MusicGenModel

    model = MusicGenModel(str(build_random_musicgen(tmp_path / "tiny")), graphs=True)
    model.runner_factory = CpuSteps
    for text in ("house", "dark techno with acid bass", "a slow ambient piece with soft pads, field recordings and tape hiss"):
        model.generate([text], [1], 0.5)
    assert model.graph_pool.created == 1  # one runner for every prompt length (each length was a new shape)


def test_a_failing_shape_falls_back_alone_and_is_tried_again_later(tmp_path, monkeypatch) -> None:
    import time

    from assistant.limits import GRAPH_RETRY_S
    from assistant.music.musicgen import MusicGenModel

    model = MusicGenModel(str(build_random_musicgen(tmp_path / "tiny")), graphs=True)
    model.runner_factory = FailingSteps
    FailingSteps.made.clear()
    pair = model.generate(["house", "techno"], [1, 2], 0.5)  # its runner fails: the eager loop makes the takes
    assert len(pair) == 2 and all(len(a) >= model.sample_rate // 2 for a in pair)
    pool = model.graph_pool
    assert pool.fallbacks == 1 and model.graphs  # graphs stay on for everyone else
    model.generate(["house"], [1], 0.5)
    model.generate(["house"], [3], 0.5)
    assert FailingSteps.made == [2, 1]  # the one-take shape got its runner, then reused it
    model.generate(["house", "techno"], [1, 2], 0.5)
    assert FailingSteps.made == [2, 1] and pool.fallbacks == 1  # within its retry period: not tried again
    started = time.monotonic()
    monkeypatch.setattr(time, "monotonic", lambda: started + GRAPH_RETRY_S + 1)  # the period has passed
    model.generate(["house", "techno"], [1, 2], 0.5)
    assert FailingSteps.made == [2, 1, 2] and pool.fallbacks == 2  # tried again after the period
