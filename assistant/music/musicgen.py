"""MusicGen through transformers: lazy one-time load, batched takes with per-take seeds, progress.

Seeds: transformers samples a whole batch from one random stream, so a take would depend on its
batch-mates. `SeededSampler` samples each take from its own generator inside one batched call
(top-k 250, as MusicGen does) and hands generate() a one-hot choice, so a seed reproduces its take
exactly whatever else is in the batch.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from assistant.compute import in_passing_thread, one_at_a_time
from assistant.limits import MUSICGEN_WINDOW_S
from assistant.facts import Fact, FactError, fact
from assistant.music.generation import DecodePath, GenerationParams, choose_path
from assistant.takes import ChunkFn, ProgressFn  # noqa: F401  (ChunkFn: re-exported for the renderer)

log = logging.getLogger(__name__)

DEFAULT_MODEL = "facebook/musicgen-small"
CHOSEN, OTHER = 0.0, -1e4  # finite, so the guidance arithmetic after us stays finite
MAX_WINDOW_S = MUSICGEN_WINDOW_S



class StopAfterLastStep(Exception):
    """Raised by SeededSampler once the last step is sampled: every token is then with the
    FrameDecoder, which has already decoded most of the audio, so generate() is left before it
    decodes the whole take a second time."""


class FrameDecoder:
    """Turns each step's tokens into audio while the decoder is still running; fed by our decode
    loop, or by SeededSampler inside transformers' generate() (whose MusicGen version drops its
    `streamer` argument). The delay pattern
    means frame f is complete once step f + codebooks - 1 is sampled. Chunks start at `chunk_s` (the
    first audio arrives early) and double up to MAX_CHUNK_S, so little is decoded twice; each chunk
    is decoded with frames of context on both sides (EnCodec's LSTM looks back, its convolutions
    look both ways) and only its own frames are kept. The takes are these chunks joined, whether or
    not anyone listens, so a seed gives the same audio streamed or not."""

    LEFT_CONTEXT, RIGHT_CONTEXT = 25, 4  # frames
    MAX_CHUNK_S = 8.0

    def __init__(self, model: "MusicGenModel", batch: int, num_codebooks: int,
                 on_chunk: Optional[ChunkFn] = None, chunk_s: float = 1.0):
        self.model, self.batch, self.k, self.on_chunk = model, batch, num_codebooks, on_chunk
        self.chunk_frames = max(1, int(round(chunk_s * model.frame_rate)))
        self.max_chunk_frames = max(self.chunk_frames, int(self.MAX_CHUNK_S * model.frame_rate))
        self.steps: list = []  # one (batch * codebooks,) tensor per decoder step
        self.emitted = 0  # frames already decoded and kept
        self.audio: list[list[np.ndarray]] = []  # chunks, each one array per take
        self._pattern = None  # the delay pattern's forced tokens, when generate() continues codes

    def follow(self, known, pattern) -> None:
        """generate() continuing codes hands the sampler only what it samples: hear the prompt's
        positions here, and from now on put the pattern's forced tokens where it forces them."""
        for position in range(1, known.shape[-1]):
            self.put(known[:, position])
        self._pattern, self._position = pattern, known.shape[-1]

    def put(self, tokens) -> None:
        tokens = tokens.reshape(-1)[: self.batch * self.k].cpu()
        if self._pattern is not None and self._position < self._pattern.shape[-1]:
            import torch

            forced = self._pattern[: self.batch * self.k, self._position].cpu()
            tokens = torch.where(forced == -1, tokens, forced)
            self._position += 1
        self.steps.append(tokens)
        ready = len(self.steps) - (self.k - 1) - self.RIGHT_CONTEXT
        if ready - self.emitted >= self.chunk_frames:
            self._decode(ready)
            self.chunk_frames = min(2 * self.chunk_frames, self.max_chunk_frames)

    def finish(self) -> list[np.ndarray]:
        """Decode what is left; one array per take."""
        ready = len(self.steps) - (self.k - 1)
        if ready > self.emitted:
            self._decode(ready)
        if not self.audio:
            return [np.zeros(0, dtype=np.float32) for _ in range(self.batch)]
        return [np.concatenate([chunk[take] for chunk in self.audio]) for take in range(self.batch)]

    def all_codes(self) -> Optional[np.ndarray]:
        """Every complete frame's codes, (batch, codebooks, frames): what a continuation starts from."""
        frames = len(self.steps) - (self.k - 1)
        return self.codes(0, frames).numpy().astype(np.int32) if frames > 0 else None

    def codes(self, start: int, stop: int):
        """Frames [start, stop) undelayed: (batch, codebooks, frames), as EnCodec takes them."""
        import torch

        tokens = torch.stack(self.steps).view(len(self.steps), self.batch, self.k)
        frames = torch.arange(start, stop)
        return torch.stack([tokens[frames + k, :, k] for k in range(self.k)]).permute(2, 0, 1)

    def _decode(self, ready: int) -> None:
        start = max(0, self.emitted - self.LEFT_CONTEXT)
        stop = min(len(self.steps) - (self.k - 1), ready + self.RIGHT_CONTEXT)
        audio = self.model.decode_frames(self.codes(start, stop))
        hop = audio.shape[1] // (stop - start)
        chunk = [a[(self.emitted - start) * hop:(ready - start) * hop] for a in audio]
        self.emitted = ready
        self.audio.append(chunk)
        if self.on_chunk is not None:
            self.on_chunk(chunk)


@dataclass
class Generated:
    """One batched generation: a mono array per take, and the takes' EnCodec codes (takes, codebooks,
    frames) when the path kept them, so the take can be continued from its own tokens."""

    audio: list[np.ndarray]
    codes: Optional[np.ndarray] = None

    def share(self, first: int, count: int) -> "Generated":
        """Takes [first, first + count): one request's part of a batched generation."""
        codes = None if self.codes is None else self.codes[first:first + count]
        return Generated(self.audio[first:first + count], codes)


class MusicGenUnavailable(FactError):
    """The weights could not be loaded; its fact says why and what to do."""


def _sampler_class():
    import torch
    from transformers import LogitsProcessor

    class SeededSampler(LogitsProcessor):
        def __init__(self, seeds: list[int], num_codebooks: int, guidance_scale: float, top_k: int,
                     temperature: float, total_steps: int, progress: Optional[ProgressFn],
                     cancel: Optional[threading.Event], frames: Optional[FrameDecoder] = None):
            self.frames = frames
            self.generators = [torch.Generator().manual_seed(int(s)) for s in seeds]
            self.rows = len(seeds) * num_codebooks
            self.num_codebooks = num_codebooks
            self.guidance_scale, self.top_k, self.temperature = guidance_scale, top_k, temperature
            self.total_steps, self.progress, self.cancel = total_steps, progress, cancel
            self.step = 0

        def __call__(self, input_ids, scores):
            """As a transformers logits processor: a one-hot choice that generate() then takes."""
            tokens = self.choose(scores)
            out = torch.full_like(scores, OTHER)
            repeats = scores.shape[0] // self.rows
            out[torch.arange(scores.shape[0], device=scores.device), tokens.repeat(repeats)] = CHOSEN
            if self.frames is not None and self.step >= self.total_steps:
                raise StopAfterLastStep
            return out

        def choose(self, scores):
            """One token per take and codebook from this step's logits (guided here when they hold
            both halves); reports progress and hands the tokens to the frame decoder."""
            if self.cancel is not None and self.cancel.is_set():
                raise InterruptedError("generation cancelled")
            logits = scores.float()
            if logits.shape[0] == 2 * self.rows:  # [conditional; unconditional]: guide here
                cond, uncond = logits[: self.rows], logits[self.rows:]
                logits = uncond + (cond - uncond) * self.guidance_scale
            top = torch.topk(logits / self.temperature, k=min(self.top_k, logits.shape[-1]), dim=-1)
            probs = torch.softmax(top.values, dim=-1).cpu()
            picks = torch.empty(self.rows, dtype=torch.long)
            for row in range(self.rows):
                picks[row] = torch.multinomial(probs[row], 1, generator=self.generators[row // self.num_codebooks])[0]
            tokens = top.indices.cpu().gather(1, picks[:, None])[:, 0].to(scores.device)
            self.step += 1
            if self.frames is not None:
                self.frames.put(tokens)
            if self.progress is not None:
                self.progress(min(1.0, self.step / max(1, self.total_steps)), "generating")
            return tokens

    return SeededSampler


# Seconds of GPU time per second of audio for each decode path, measured on an H100 with random
# weights of musicgen-small's size (shared/perf/h100-decode-step.md): 10 s of audio took 1.06 s as
# graphs, 7.7 s in the eager loop, 10.9 s through generate(); 4 takes cost about 4% more than 1.
GPU_SECONDS_PER_AUDIO_SECOND = {DecodePath.GRAPHS: 0.106, DecodePath.LOOP: 0.77, DecodePath.GENERATE: 1.09}
GPU_EXTRA_PER_TAKE = 0.04
GPU_LOAD_S, GPU_WARMUP_S, GPU_SAFETY = 20.0, 3.0, 2.0


def estimate_gpu_seconds(takes: float, duration_s: float, path: DecodePath = DecodePath.GRAPHS) -> float:
    """A ZeroGPU lease for one round on `path`: load and warm-up, then the generation with a margin."""
    per_second = GPU_SECONDS_PER_AUDIO_SECOND[path]
    generation = per_second * float(duration_s) * (1 + GPU_EXTRA_PER_TAKE * (float(takes) - 1))
    return GPU_LOAD_S + GPU_WARMUP_S + GPU_SAFETY * generation


def batching_by_default() -> bool:
    """MusicGen batches users' requests together by default where it runs on CUDA."""
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def is_melody_model(model_id: str) -> bool:
    """A `musicgen:PATH` (or hub id) whose config is MusicGen-melody loads as one."""
    from transformers import AutoConfig

    return AutoConfig.from_pretrained(model_id).model_type == "musicgen_melody"


def weights_present(model_id: str) -> bool:
    """Cheap and offline: a local folder holding a model, or a hub id already in the cache."""
    folder = Path(model_id).expanduser()
    if folder.is_dir():
        return (folder / "config.json").is_file()
    try:
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(model_id, "config.json"), str)
    except Exception:
        return False


def _hub_reachable(timeout_s: float = 3.0) -> bool:
    """A quick look before a download: offline, huggingface_hub retries for minutes before failing."""
    import os
    import socket

    if os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0"):
        return False
    try:
        socket.create_connection(("huggingface.co", 443), timeout=timeout_s).close()
        return True
    except OSError:
        return False


class MusicGenModel:
    """One MusicGen model, loaded on first use (GPU in half precision when there is one)."""

    def __init__(self, model_id: str = DEFAULT_MODEL, device: Optional[str] = None, int8: Optional[bool] = None,
                 own_loop: Optional[bool] = None, graphs: Optional[bool] = None, batching: Optional[bool] = None,
                 batch_window_s: Optional[float] = None):
        self.model_id = model_id
        # assistant.music.batching: text-only generations of users who ask together run as one batch.
        # None: on with CUDA, where 4 takes cost 1.04x one; off on the CPU (bench/serving.py measures both).
        self.batching = batching
        self.batch_window_s = batch_window_s  # None: limits.BATCH_WINDOW_S
        self._batcher = None
        # own_loop (assistant.music.decode_loop; off: transformers' generate()) and graphs
        # (assistant.music.static_decode: CUDA graphs; on the CPU the same steps eagerly) ask for a decode
        # path; None: the measured default (assistant.music.generation.choose_path). Chosen once, at load.
        self._asked_path = (own_loop, graphs)
        self.decode_path: Optional[DecodePath] = None
        self._graph_pool = None  # assistant.music.static_decode.RunnerPool, made on the first CUDA generation
        self.runner_factory = None  # builds a graph runner for a loop; None: CudaGraphSteps on CUDA (tests: a CPU stand-in)
        self._graph_lock = threading.Lock()
        self.device = device
        self.int8 = int8  # None: int8 decoder weights on the CPU (4x less to read per step), never on a GPU
        self._model = None
        self._processor = None
        self.melody = False  # a MusicGen-melody model (set on load): it can follow a clip's chroma
        self._lock = threading.Lock()
        self._cpu_turn = threading.Lock()  # one CPU generation at a time (assistant.compute)
        # A fast tokenizer keeps its padding setting on one shared object, set by each call: calls from
        # two threads at once (two users, or a batch key beside a generation) tokenised without padding.
        self._text_lock = threading.Lock()

    def load(self) -> None:
        if self._model is None:
            in_passing_thread(self._load)  # see assistant.compute: no thread of the app keeps a libgomp team

    def _load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            import torch
            from transformers import AutoProcessor, MusicgenForConditionalGeneration

            from assistant.music.decode_loop import fuse_projections
            from assistant.music.int8 import int8_supported, quantize_linears

            if not Path(self.model_id).expanduser().exists() and not weights_present(self.model_id) \
                    and not _hub_reachable():
                raise MusicGenUnavailable(self._explain(OSError("the Hugging Face hub is unreachable")))
            device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
            dtype = torch.float16 if device.startswith("cuda") else torch.float32
            try:
                self.melody = is_melody_model(self.model_id)
                if self.melody:  # its processor needs torchaudio: the tokenizer alone, chroma from assistant.music.chroma
                    from transformers import AutoTokenizer, MusicgenMelodyForConditionalGeneration

                    processor = AutoTokenizer.from_pretrained(self.model_id)
                    model = MusicgenMelodyForConditionalGeneration.from_pretrained(self.model_id, dtype=dtype)
                else:
                    processor = AutoProcessor.from_pretrained(self.model_id)
                    model = MusicgenForConditionalGeneration.from_pretrained(self.model_id, dtype=dtype)
            except (OSError, ValueError) as err:
                raise MusicGenUnavailable(self._explain(err)) from None
            except (MemoryError, RuntimeError) as err:
                raise MusicGenUnavailable(fact("musicgen_no_memory", model=self.model_id, error=str(err))) from None
            model = model.to(device).eval()
            if device.startswith("cuda"):  # cuDNN attention costs ~1.7 ms of CPU per call at batch sizes this small
                torch.backends.cuda.enable_cudnn_sdp(False)
            self.decode_path = choose_path(device, self.melody, *self._asked_path)
            if self.batching is None:
                self.batching = device.startswith("cuda") and not self.melody
            if self.decode_path.own_loop:
                fuse_projections(model)
            if self.int8 is None:
                self.int8 = device == "cpu" and int8_supported()
            if self.int8:
                quantize_linears(model.decoder)  # batch-invariant int8, so takes stay batched
            self._model, self._processor, self.device = model, processor, device

    @property
    def graphs(self) -> bool:
        """It decodes on the graph path (known once loaded)."""
        return self.decode_path is DecodePath.GRAPHS

    def _explain(self, err: Exception) -> Fact:
        if Path(self.model_id).exists():
            return fact("musicgen_not_a_model", folder=self.model_id, error=str(err))
        return fact("musicgen_no_weights", model=self.model_id)

    @property
    def sample_rate(self) -> int:
        self.load()
        return int(self._model.config.audio_encoder.sampling_rate)

    @property
    def frame_rate(self) -> float:
        self.load()
        cfg = self._model.config.audio_encoder
        return float(getattr(cfg, "frame_rate", None) or cfg.sampling_rate / np.prod(cfg.upsampling_ratios))

    def generate(self, prompts: list[str], seeds: list[int], params: GenerationParams | float,
                 **inputs) -> list[np.ndarray]:
        """The takes' audio alone (see generate_with_codes)."""
        return self.generate_with_codes(prompts, seeds, params, **inputs).audio

    def generate_with_codes(self, prompts: list[str], seeds: list[int], params: GenerationParams | float, *,
                            audio_prompt: Optional[list[np.ndarray]] = None, melody: Optional[np.ndarray] = None,
                            prompt_codes: Optional[np.ndarray] = None, progress: Optional[ProgressFn] = None,
                            cancel: Optional[threading.Event] = None, on_chunk: Optional[ChunkFn] = None
                            ) -> Generated:
        """One batched call (see _generate_here); `params` is a GenerationParams, or a duration with
        the defaults. With batching on, a text-only request joins others that arrive with it
        (assistant.music.batching) and gets its own takes back."""
        self.load()
        params = GenerationParams.of(params)
        hooks = dict(progress=progress, cancel=cancel, on_chunk=on_chunk)
        conditioned = audio_prompt is not None or melody is not None or prompt_codes is not None
        if not self.batching or self.decode_path is DecodePath.MELODY or conditioned:
            return self._generate(prompts, seeds, params, audio_prompt=audio_prompt, melody=melody,
                                  prompt_codes=prompt_codes, **hooks)
        with self._lock:
            if self._batcher is None:
                from assistant.limits import BATCH_WINDOW_S, TAKE_BUCKETS
                from assistant.music.batching import BatchScheduler
                from assistant.music.static_decode import bucket_for

                pad = (lambda takes: bucket_for(takes, takes, TAKE_BUCKETS)) if self.graphs else None
                window = BATCH_WINDOW_S if self.batch_window_s is None else self.batch_window_s
                self._batcher = BatchScheduler(self._generate, window_s=window, pad_takes=pad)
        key = (params, self._text_bucket(prompts, params.negative_prompt))
        return self._batcher.submit(key, prompts, seeds, params=params, **hooks)

    def _text_bucket(self, prompts: list[str], negative_prompt: Optional[str]) -> int:
        """The padded token length these prompts are decoded at: a batch holds one, so no take's
        padding changes by joining it."""
        from assistant.music.decode_loop import text_bucket

        tokenizer = self._tokenizer
        texts = prompts + ([negative_prompt] if negative_prompt else [])
        with self._text_lock:
            lengths = [len(ids) for ids in tokenizer(texts)["input_ids"]]
        return text_bucket(max(lengths))

    def _generate(self, prompts: list[str], seeds: list[int], params: GenerationParams, **inputs) -> Generated:
        """On the CPU one generation at a time, each in a passing thread (assistant.compute): two at
        once, or one beside an idle thread's libgomp team, ran at about half speed."""
        if not self.device.startswith("cpu"):
            return self._generate_here(prompts, seeds, params, **inputs)
        with one_at_a_time(self._cpu_turn, inputs.get("cancel")):
            return in_passing_thread(self._generate_here, prompts, seeds, params, **inputs)

    def _generate_here(self, prompts: list[str], seeds: list[int], params: GenerationParams,
                       audio_prompt: Optional[list[np.ndarray]] = None, melody: Optional[np.ndarray] = None,
                       prompt_codes: Optional[np.ndarray] = None, progress: Optional[ProgressFn] = None,
                       cancel: Optional[threading.Event] = None, on_chunk: Optional[ChunkFn] = None) -> Generated:
        """One batched call on the model's path: a mono float32 array per take, `params.duration_s`
        long after any prompt.

        A prompt is audio to continue: `prompt_codes` (takes, codebooks, frames), a take's own tokens
        (no decode and re-encode between the parts), or `audio_prompt`, re-encoded through EnCodec. The
        audio that comes back starts with the prompt. With a negative prompt, guidance steers away from
        it instead of from the empty text: SeededSampler guides, feeding both halves the same tokens."""
        import torch

        self.load()
        codes = None if prompt_codes is None else torch.as_tensor(np.asarray(prompt_codes), dtype=torch.long)
        steps = self._steps(params.duration_s, codes)
        if self.decode_path is DecodePath.MELODY:
            return self._generate_melody(prompts, seeds, steps, params, melody, codes, progress, cancel, on_chunk)
        batch = self._text_batch(prompts, params.negative_text, audio_prompt)
        # an audio prompt's continuation starts with the prompt: it is not streamed
        streamed = None if audio_prompt is not None or codes is not None else on_chunk
        with torch.inference_mode():
            if self.decode_path.own_loop:
                return self._own_decode(batch, seeds, steps, params, codes, audio_prompt, streamed, progress, cancel)
            # transformers decodes an audio prompt's continuation itself
            frames = None if audio_prompt is not None else self._frames(len(seeds), streamed, params)
            sampler = self._sampler(seeds, steps, params, progress, cancel, frames)
            return self._generate_with_transformers(batch, codes, params, steps, sampler, frames, len(seeds),
                                                    len(prompts))

    def _steps(self, duration_s: float, codes) -> int:
        """Decode steps for `duration_s` of new audio. The delay pattern spends num_codebooks - 1 steps
        before the last codebook's first frame; a prompt's frames are known, less the positions the
        pattern leaves open after them."""
        num_codebooks = self._model.decoder.num_codebooks
        new_frames = int(round(min(duration_s, MAX_WINDOW_S) * self.frame_rate))
        if codes is None:
            return new_frames + num_codebooks - 1
        return codes.shape[-1] + new_frames + num_codebooks - self._known_positions(codes.shape[-1])

    def _frames(self, takes: int, on_chunk: Optional[ChunkFn], params: GenerationParams) -> FrameDecoder:
        return FrameDecoder(self, takes, self._model.decoder.num_codebooks, on_chunk, chunk_s=params.chunk_s)

    def _sampler(self, seeds: list[int], steps: int, params: GenerationParams, progress: Optional[ProgressFn],
                 cancel: Optional[threading.Event], frames: Optional[FrameDecoder]):
        return _sampler_class()(seeds, self._model.decoder.num_codebooks, params.guidance_scale, top_k=params.top_k,
                                temperature=1.0, total_steps=steps, progress=progress, cancel=cancel, frames=frames)

    def _own_decode(self, batch, seeds: list[int], steps: int, params: GenerationParams, codes,
                    audio_prompt: Optional[list[np.ndarray]], streamed: Optional[ChunkFn],
                    progress: Optional[ProgressFn], cancel: Optional[threading.Event]) -> Generated:
        """Our own steps: replayed graphs on the graph path (a shape whose graph failed, or is in its
        retry period, decodes eagerly), else the eager decode loop."""
        from assistant.music.decode_loop import DecodeLoop
        from assistant.music.static_decode import GraphFailed

        rows = self._prompt_rows(batch, codes, audio_prompt, params)
        if self.decode_path is DecodePath.GRAPHS:
            frames = self._frames(len(seeds), streamed, params)
            try:
                if self._static_run(batch, params, seeds, steps, rows, frames, progress, cancel):
                    return Generated(frames.finish(), frames.all_codes())
            except GraphFailed:  # this shape decodes eagerly for a while (the pool logged it); others keep graphs
                pass
        frames = self._frames(len(seeds), streamed, params)
        sampler = self._sampler(seeds, steps, params, progress, cancel, frames=None)
        DecodeLoop(self._model, batch["input_ids"], batch["attention_mask"], params.unconditional_half).run(
            sampler.choose, steps, prompt_codes=rows, on_tokens=frames.put)
        return Generated(frames.finish(), frames.all_codes())

    def _prompt_rows(self, batch, codes, audio_prompt: Optional[list[np.ndarray]], params: GenerationParams):
        """The prompt as our decode loops take it, (sequences * codebooks, frames); None without one."""
        if audio_prompt is not None:
            return self._prompt_codes(batch, params.unconditional_half)
        if codes is None:
            return None
        rows = codes.reshape(-1, codes.shape[-1]).to(self._model.device)
        return rows.repeat(2, 1) if params.guidance_scale > 1 else rows  # both halves of the guidance

    def _text_batch(self, prompts: list[str], negative_prompt: Optional[str],
                    audio_prompt: Optional[list[np.ndarray]]):
        """The processor's batch: the prompts (then the negative prompt once per take), any audio to
        continue, padded to a text bucket in our own loop (few text lengths, so few graph shapes)."""
        from assistant.music.decode_loop import padded_text

        model = self._model
        texts = prompts + [negative_prompt] * len(prompts) if negative_prompt else prompts
        inputs = dict(text=texts, padding=True, return_tensors="pt")
        if audio_prompt is not None:
            audios = [a.astype(np.float32) for a in audio_prompt]
            inputs.update(audio=audios * 2 if negative_prompt else audios, sampling_rate=self.sample_rate)
        with self._text_lock:
            batch = self._processor(**inputs)
        batch = batch.to(model.device)
        if self.decode_path.own_loop:
            batch["input_ids"], batch["attention_mask"] = padded_text(
                batch["input_ids"], batch["attention_mask"], self._pad_id())
        if "input_values" in batch and batch["input_values"].dtype != model.dtype:
            batch["input_values"] = batch["input_values"].to(model.dtype)
        return batch

    def _generate_with_transformers(self, batch, codes, params: GenerationParams, steps: int, sampler, frames,
                                    takes: int, texts: int) -> Generated:
        """transformers' generate(), our sampler choosing each token (the generate path)."""
        from transformers import LogitsProcessorList

        model = self._model
        extra = {}
        if codes is not None:  # generate() continues the codes; our frame decoder hears them first
            extra["decoder_input_ids"] = codes.reshape(-1, codes.shape[-1]).to(model.device).repeat(
                2 if params.negative else 1, 1)
            frames.follow(*self._delayed(extra["decoder_input_ids"][: takes * model.decoder.num_codebooks], steps))
        try:
            audio = model.generate(**batch, **extra, do_sample=False,
                                   guidance_scale=1.0 if params.negative else params.guidance_scale,
                                   max_new_tokens=steps, logits_processor=LogitsProcessorList([sampler]))
        except StopAfterLastStep:
            return Generated(frames.finish(), frames.all_codes())
        if frames is not None:  # generate() stopped early without an error: keep what was sampled
            return Generated(frames.finish(), frames.all_codes())
        return Generated([a[0].float().cpu().numpy() for a in audio[:texts]])

    @property
    def _tokenizer(self):
        """The text tokenizer: a melody model's processor is its tokenizer (see load)."""
        return getattr(self._processor, "tokenizer", self._processor)

    def _pad_id(self) -> int:
        return int(self._tokenizer.pad_token_id or 0)

    @property
    def batcher(self):
        """The BatchScheduler once a batched request made it (its counts go in the bench)."""
        return self._batcher

    @property
    def graph_pool(self):
        """The process's RunnerPool once a graph generation made it (its counts go in the bench)."""
        return self._graph_pool

    def _known_positions(self, prompt_frames: int) -> int:
        """How many positions of a continued sequence the delay pattern fixes before sampling starts."""
        import torch

        rows = torch.zeros((self._model.decoder.num_codebooks, prompt_frames), dtype=torch.long)
        return self._delayed(rows, self._model.decoder.num_codebooks)[0].shape[-1]

    def _delayed(self, rows, steps: int):
        """The start token and `rows` (codebooks' undelayed codes) through the delay pattern: the
        positions known before sampling, and the pattern for `steps` more (as generate() builds them)."""
        import torch

        start = int(self._model.generation_config.decoder_start_token_id)
        ids = torch.cat([torch.full((rows.shape[0], 1), start, dtype=torch.long, device=rows.device), rows], dim=-1)
        return self._model.decoder.build_delay_pattern_mask(ids, pad_token_id=start, max_length=ids.shape[-1] + steps)

    def encode(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        """A clip's EnCodec codes (codebooks, frames), mono at the model's rate: what "continue my
        clip" continues."""
        import torch

        from assistant.music.audio import resampled

        self.load()
        audio = resampled(audio, sample_rate, self.sample_rate)

        def encoded() -> np.ndarray:
            values = torch.as_tensor(audio)[None, None].to(self._model.device, self._model.dtype)
            with torch.inference_mode():
                codes = self._model.audio_encoder.encode(input_values=values).audio_codes[0]
            return codes[0].cpu().numpy().astype(np.int32)

        return in_passing_thread(encoded)

    def _generate_melody(self, prompts: list[str], seeds: list[int], steps: int, params: GenerationParams,
                         melody: Optional[np.ndarray], codes, progress: Optional[ProgressFn],
                         cancel: Optional[threading.Event], on_chunk: Optional[ChunkFn]) -> Generated:
        """MusicGen-melody through transformers' generate(), with our seeded sampler: the text and the
        clip's one-hot chroma (`melody`, mono at the model's rate; None: text only) condition every take;
        `codes` (takes, codebooks, frames) are a take's own tokens to continue."""
        import torch
        from transformers import LogitsProcessorList

        from assistant.music.chroma import melody_chroma

        model = self._model
        with self._text_lock:
            batch = self._processor(prompts, padding=True, return_tensors="pt")
        batch = batch.to(model.device)
        features = None
        if melody is not None:
            chroma = melody_chroma(melody, self.sample_rate).to(model.device, model.dtype)
            features = chroma[None].repeat(len(prompts), 1, 1)
        frames = self._frames(len(seeds), on_chunk if codes is None else None, params)
        extra = {}
        if codes is not None:
            extra["decoder_input_ids"] = codes.reshape(-1, codes.shape[-1]).to(model.device)
            frames.follow(*self._delayed(extra["decoder_input_ids"], steps))
        sampler = self._sampler(seeds, steps, params, progress, cancel, frames)
        with torch.inference_mode():
            try:
                model.generate(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                               input_features=features, do_sample=False, guidance_scale=params.guidance_scale,
                               max_new_tokens=steps, logits_processor=LogitsProcessorList([sampler]), **extra)
            except StopAfterLastStep:
                pass
        return Generated(frames.finish(), frames.all_codes())

    def _static_run(self, batch, params: GenerationParams, seeds: list[int], steps: int, prompt_codes,
                    frames: "FrameDecoder", progress: Optional[ProgressFn], cancel: Optional[threading.Event]) -> bool:
        """The graph path: one prepared StaticDecodeLoop, its steps replayed by a runner checked out of
        the process's RunnerPool (eagerly where there is no runner: the CPU); progress and cancel between
        chunks. False, with nothing decoded, while this batch shape is in its retry period after a failure;
        GraphFailed when its runner fails now."""
        from assistant.music.static_decode import CudaGraphSteps, RunnerPool, StaticDecodeLoop, drive

        loop = StaticDecodeLoop(self._model, batch["input_ids"], batch["attention_mask"], params.unconditional_half,
                                seeds, guidance_scale=params.guidance_scale, top_k=params.top_k)
        loop.prepare(steps, prompt_codes)
        def check(done: int) -> None:
            if cancel is not None and cancel.is_set():
                raise InterruptedError("generation cancelled")
            if progress is not None:
                progress(min(1.0, done / max(1, steps)), "generating")

        make = self.runner_factory or (CudaGraphSteps if self.device.startswith("cuda") else None)
        if make is None:
            drive(loop, steps, on_tokens=frames.put, check=check)
            return True
        with self._graph_lock:
            if self._graph_pool is None:
                self._graph_pool = RunnerPool(make)
        if not self._graph_pool.usable(loop):
            return False
        with self._graph_pool.checkout(loop) as runner:  # this generation's own runner, while it replays
            drive(runner.loop, steps, replay=runner.replay, on_tokens=frames.put, check=check)
        return True

    def _prompt_codes(self, batch, unconditional_half: bool):
        """The audio prompt as EnCodec codes, (sequences * codebooks, frames), as generate() makes them."""
        codes = self._model.audio_encoder.encode(input_values=batch["input_values"],
                                                 padding_mask=batch.get("padding_mask")).audio_codes[0]
        codes = codes.reshape(-1, codes.shape[-1])
        return codes.repeat(2, 1) if unconditional_half else codes

    def decode_frames(self, codes) -> np.ndarray:
        """EnCodec-decode codes shaped (batch, codebooks, frames) to (batch, samples)."""
        import torch

        with torch.inference_mode():
            audio = self._model.audio_encoder.decode(codes[None].to(self._model.device), [None])[0]
        return audio[:, 0].float().cpu().numpy()
